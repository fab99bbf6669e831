"""Every option of every group composes and validates; the static Keras names match Keras."""

from __future__ import annotations

import inspect

import pytest
from conftest import CONF_DIR
from hydra import compose, initialize_config_dir

from mlexp.config import catalog
from mlexp.config import validate as validate_config
from mlexp.registry import REGISTRIES

GROUPS = ["dataset", "model", "optimizer", "regularizer", "augmentation", "callbacks", "trainer"]
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((CONF_DIR / g).glob("*.yaml"))]


def compose_train(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("train", overrides=list(overrides))


def validate(cfg):
    """Composition and rules only: the data paths of NEEDS are placeholders."""
    return validate_config(cfg, data_paths=False)


def test_every_group_has_options():
    assert {g for g, _ in OPTIONS} == set(GROUPS)


NEEDS = {
    "dataset=npz": ["dataset.path=data.npz"],
    "dataset=image_folder": ["dataset.path=images"],
    "dataset=text_folder": ["dataset.path=texts"],
    "dataset=csv": ["dataset.path=table.csv", "dataset.target=label"],
    "dataset=tfds": ["dataset.tfds_name=mnist"],
}


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_option_composes_and_validates(group, option):
    run_cfg = validate(compose_train(f"{group}={option}", *NEEDS.get(f"{group}={option}", [])))
    assert set(run_cfg) == set(catalog.TOP_LEVEL)
    if group in catalog.COMPONENTS or group in REGISTRIES:
        assert run_cfg[group].name == option
    if group in REGISTRIES:
        assert run_cfg[group].kind in REGISTRIES[group].kinds()


def test_every_catalogue_component_has_a_yaml_option():
    for group, components in catalog.COMPONENTS.items():
        assert {p.stem for p in (CONF_DIR / group).glob("*.yaml")} == set(components), group


def test_every_registered_kind_has_a_yaml_preset_and_conv_has_three():
    for group, registry in REGISTRIES.items():
        presets = {p.stem: validate(compose_train(f"{group}={p.stem}", *NEEDS.get(f"{group}={p.stem}", [])))[group]
                   for p in (CONF_DIR / group).glob("*.yaml")}  # fmt: skip
        assert {cfg.kind for cfg in presets.values()} == set(registry.kinds()), group
    models = {p.stem: validate(compose_train(f"model={p.stem}"))["model"].kind for p in (CONF_DIR / "model").glob("*")}
    assert sorted(name for name, kind in models.items() if kind == "conv") == ["cnn", "cnn_bn", "cnn_deep"]


def test_yaml_options_set_every_argument_the_catalogue_knows_except_optional_ones():
    # Defaults live in YAML so that `--cfg job` shows them; the catalogue only checks them.
    optional_args = {"weight_decay", "clipnorm", "clipvalue", "global_clipnorm"}
    for group, components in catalog.COMPONENTS.items():
        for name, rules in components.items():
            cfg = validate(compose_train(f"{group}={name}", *NEEDS.get(f"{group}={name}", [])))[group]
            assert set(rules) - optional_args <= set(cfg) - {"name"} <= set(rules), f"{group}={name}"
    for group, registry in REGISTRIES.items():
        for path in (CONF_DIR / group).glob("*.yaml"):
            cfg = validate(compose_train(f"{group}={path.stem}", *NEEDS.get(f"{group}={path.stem}", [])))[group]
            rules = registry[cfg.kind].rules
            assert set(rules) <= set(cfg) - {"name", "kind"} <= set(rules), f"{group}={path.stem}"


def test_validated_config_is_read_only():
    cfg = validate(compose_train())
    with pytest.raises(Exception, match="read-only"):
        cfg.seed = 3


def test_sweepable_names_are_real_keras_names():
    keras = pytest.importorskip("keras")
    for name in catalog.ACTIVATIONS:
        assert callable(keras.activations.get(name)), name
    for name in catalog.INITIALIZERS:
        assert keras.initializers.get(name) is not None, name


def test_optimizer_arguments_are_keras_arguments():
    keras = pytest.importorskip("keras")
    for name, rules in catalog.OPTIMIZERS.items():
        cls = type(keras.optimizers.get(name))
        params = set(inspect.signature(cls.__init__).parameters)
        assert set(rules) - {"schedule"} <= params, (name, set(rules) - params)  # schedule: mlexp's, a rate


def test_callback_arguments_are_keras_arguments():
    keras = pytest.importorskip("keras")
    for name, cls in (("early_stopping", "EarlyStopping"), ("reduce_lr_on_plateau", "ReduceLROnPlateau")):
        params = set(inspect.signature(getattr(keras.callbacks, cls).__init__).parameters)
        assert set(catalog.CALLBACKS[name]) - {"enabled"} <= params, name
    params = set(inspect.signature(keras.callbacks.TensorBoard.__init__).parameters)
    assert set(catalog.CALLBACKS["tensorboard"]) - {"enabled"} <= params


def test_augmentation_layers_are_keras_preprocessing_layers():
    keras = pytest.importorskip("keras")
    for name in catalog.AUGMENTATION_LAYERS:
        assert issubclass(getattr(keras.layers, name), keras.layers.Layer), name


def test_every_dataset_has_class_names():
    from mlexp.data import class_names

    assert len(class_names.CIFAR100_FINE) == len(set(class_names.CIFAR100_FINE)) == 100
    assert len(class_names.CIFAR100_COARSE) == 20
    assert len(class_names.FASHION_MNIST) == len(class_names.CIFAR10) == 10
