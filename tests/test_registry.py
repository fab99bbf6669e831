"""One registry per group: `kind:` chooses the code, `name:` labels the preset; presets of a kind are plain YAML."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from conftest import read_metrics, run_dirs
from omegaconf import OmegaConf

from mlexp.config import validate
from mlexp.errors import ConfigError, MlexpError
from mlexp.registry import DATASETS, MODELS, Registry


def test_cnn_presets_are_three_shapes_of_one_conv_kind():
    kinds = MODELS.kinds()
    assert set(kinds) == {"backbone", "conv", "mlp", "sequential"}
    assert kinds["conv"].aliases == ("cnn", "cnn_bn", "cnn_deep")


def test_a_config_saved_before_kind_existed_still_validates():
    """Run directories written before `kind:` carry `name: cnn_bn`; it still means the conv kind."""
    cfg = _default()
    cfg["model"] = {"name": "cnn_bn", "filters": [4], "convs_per_block": 2}
    checked = validate(OmegaConf.create(cfg))
    assert checked.model.kind == "conv" and checked.model.name == "cnn_bn"


def test_an_unknown_name_without_kind_names_the_kinds():
    cfg = _default()
    cfg["model"] = {"name": "convv", "filters": [4]}
    with pytest.raises(ConfigError) as error:
        validate(OmegaConf.create(cfg))
    assert str(error.value) == (
        "Config error at model.kind: got null; expected a model kind: backbone, conv, mlp, sequential "
        "(or model._target_ naming your own code). Did you mean 'conv'?"
    )


def test_a_presets_keys_are_checked_by_its_kind(mlexp):
    result = mlexp("train", "model=cnn_deep", "+model.hidden_units=[8]")
    assert result.code == 2
    assert result.err.startswith(
        "mlexp train: Config error at model.hidden_units: got [8]; expected a key that model 'cnn_deep' (kind conv) "
        "takes: activation, batch_norm, bias_initializer, block_dropout,"
    )


def test_a_users_own_preset_of_a_built_in_kind_trains_under_its_own_name(mlexp, tmp_path):
    """conf/model/tiny_conv.yaml in a project: any file name, `kind: conv`, no Python."""
    (tmp_path / "conf/model").mkdir(parents=True)
    (tmp_path / "conf/dataset").mkdir(parents=True)
    (tmp_path / "conf/model/tiny_conv.yaml").write_text("name: tiny_conv\nkind: conv\nfilters: [4]\ndense_units: []\n")
    (tmp_path / "conf/dataset/blobs.yaml").write_text(
        "defaults:\n  - synthetic\n  - _self_\nname: blobs\nsamples: 60\nimage_size: 8\n"
    )
    result = mlexp("train", "model=tiny_conv", "dataset=blobs", "trainer.epochs=1", "trainer.verbose=0")
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    assert run.name.endswith("_blobs_tiny_conv")
    saved = OmegaConf.load(run / "resolved_config.yaml")
    assert (saved.model.kind, saved.model.filters, saved.dataset.kind, saved.dataset.samples) == (
        "conv", [4], "synthetic", 60
    )  # fmt: skip
    assert read_metrics(run)["status"] == "completed"


def test_the_listed_modules_register_and_the_others_are_not_imported(tmp_path, monkeypatch):
    """A registry imports the modules it lists, and leaves the others (TensorFlow ones) unimported."""
    package = tmp_path / "gadgets"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "spinner.py").write_text(
        textwrap.dedent(
            """
            from registry_under_test import WIDGETS

            @WIDGETS.register("spinner", {}, aliases=("top",))
            def build(cfg):
                return "spun"
            """
        )
    )
    (package / "heavy.py").write_text("raise ImportError('must not be imported')\n")
    module = type(sys)("registry_under_test")
    module.WIDGETS = Registry("widget", "gadgets", ("spinner",))
    monkeypatch.setitem(sys.modules, "registry_under_test", module)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert module.WIDGETS["spinner"].builder(None) == "spun"
    assert module.WIDGETS.kind_of({"name": "top"}) == "spinner"
    assert "gadgets.heavy" not in sys.modules


@pytest.mark.parametrize("registry", [MODELS, DATASETS], ids=["models", "datasets"])
def test_every_module_that_registers_is_listed(registry):
    """The list is explicit (a zipped or compiled install has no sources to search); this test reads the
    sources so that a new family cannot be forgotten in it."""
    import importlib
    import pkgutil

    package = importlib.import_module(registry.package)
    marker = f"{registry.group.upper()}S.register("
    registering = sorted(
        m.name for m in pkgutil.iter_modules(package.__path__)
        if marker in (Path(package.__path__[0]) / f"{m.name}.py").read_text(encoding="utf-8")
    )  # fmt: skip
    assert sorted(registry.modules) == registering


def test_kinds_from_another_package_come_through_entry_points(tmp_path, monkeypatch):
    from importlib import metadata

    (tmp_path / "their_kinds.py").write_text(
        "from registry_under_test import WIDGETS\n\n@WIDGETS.register('dial', {})\ndef build(cfg):\n    return 1\n"
    )
    broken = metadata.EntryPoint("broken", "no_such_module_here", "mlexp.kinds")
    offered = [metadata.EntryPoint("dials", "their_kinds", "mlexp.kinds")]
    monkeypatch.setattr(metadata, "entry_points", lambda group=None: offered if group == "mlexp.kinds" else [])
    module = type(sys)("registry_under_test")
    module.WIDGETS = Registry("widget", "gadgets_none")
    monkeypatch.setitem(sys.modules, "registry_under_test", module)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert list(module.WIDGETS.kinds()) == ["dial"]
    offered[:] = [broken]
    module.WIDGETS = Registry("widget", "gadgets_none")
    with pytest.raises(MlexpError, match=r"entry point mlexp.kinds 'broken' \(no_such_module_here\) failed to "
                                         r"import: ModuleNotFoundError"):  # fmt: skip
        module.WIDGETS.kinds()


def _default() -> dict:
    from conftest import CONF_DIR
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return OmegaConf.to_container(validate(compose("train")))
