"""A user project made by `mlexp init`, outside the repository: its own model, dataset, callback and
experiment train, sweep, tune, rerun and resume without a line of mlexp changed."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import read_metrics, run_dirs

from mlexp.cli import main

FAST = ["experiment=example", "trainer.epochs=2", "trainer.verbose=0"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("projects") / "vision_lab"
    assert main(["init", str(folder)]) == 0
    return folder


@pytest.fixture
def in_project(project, mlexp, monkeypatch):
    monkeypatch.chdir(project)
    return mlexp


def test_init_writes_a_project_and_refuses_a_busy_folder(project, mlexp):
    assert (project / "vision_lab/models.py").is_file() and (project / "conf/experiment/example.yaml").is_file()
    result = mlexp("init", str(project))
    assert result.code == 1 and "which is not an empty folder" in result.err


def test_the_project_trains_with_its_own_code_and_records_it(in_project, project):
    result = in_project("train", *FAST, "hydra.run.dir=runs/one")
    assert result.code == 0, result.err
    run = project / "runs/one"
    assert read_metrics(run)["status"] == "completed"
    assert "new best val_accuracy" in result.out  # the project's callback ran
    code = json.loads((run / "manifest.json").read_text())["user_code"]
    assert [c["target"] for c in code] == [
        "vision_lab.models.small_cnn", "vision_lab.data.squares", "vision_lab.callbacks.BestEpoch",
    ]  # fmt: skip
    assert code[0]["file"] == str(project / "vision_lab/models.py")
    rerun = in_project("rerun", str(run))
    assert rerun.code == 0, rerun.err
    assert "The rerun is identical" in rerun.out


def test_a_yaml_preset_of_a_built_in_kind_trains_beside_the_projects_own_code(in_project, project):
    result = in_project("train", *FAST, "model=tiny_conv", "hydra.run.dir=runs/tiny")
    assert result.code == 0, result.err
    saved = (project / "runs/tiny/resolved_config.yaml").read_text()
    assert "name: tiny_conv\n  kind: conv\n" in saved and "convs_per_block: 1\n" in saved  # the kind's default
    assert read_metrics(project / "runs/tiny")["status"] == "completed"


def test_components_without_name_label_their_runs_by_target_or_kind(in_project, project):
    """`name:` is a label: a section named only by `_target_` or `kind:` trains, and its folder says what it is."""
    (project / "conf/dataset/blobs.yaml").write_text("_target_: vision_lab.data.squares\nsamples: 200\n")
    (project / "conf/model/bare_cnn.yaml").write_text("_target_: vision_lab.models.small_cnn\nfilters: 4\n")
    (project / "conf/model/bare_conv.yaml").write_text("kind: conv\nfilters: [4]\n")
    for model in ("bare_cnn", "bare_conv"):
        result = in_project("train", *FAST, "dataset=blobs", f"model={model}", "hydra.run.dir=runs/" + model)
        assert result.code == 0, result.err
        saved = (project / "runs" / model / "resolved_config.yaml").read_text()
        assert "name: squares\n" in saved
        assert ("name: small_cnn\n" if model == "bare_cnn" else "name: conv\n") in saved
    default_dir = in_project("train", *FAST, "dataset=blobs", "model=bare_conv")
    assert default_dir.code == 0, default_dir.err
    (folder,) = (project / "outputs/runs").iterdir()
    assert folder.name.endswith("_squares_conv")


@pytest.mark.parametrize(
    "override,message",
    [
        ("+model.filterz=4", "Config error at model.filterz: got 4; expected an argument of "
         "vision_lab.models.small_cnn: filters, units. Did you mean 'filters'?"),
        ("+dataset.sampels=9", "Config error at dataset.sampels: got 9; expected an argument of "
         "vision_lab.data.squares: samples, size, seed. Did you mean 'samples'?"),
        ("+callbacks.best.monitr=loss", "Config error at callbacks.best.monitr: got 'loss'; expected an argument of "
         "vision_lab.callbacks.BestEpoch: monitor. Did you mean 'monitor'?"),
        ("trainer.epochz=3", "Could not override 'trainer.epochz'."),
        ("model._target_=vision_lab.models.smal_cnn", "Config error at model._target_: got "
         "'vision_lab.models.smal_cnn'; expected a name defined in vision_lab.models. Did you mean 'small_cnn'?"),
        ("model._target_=vision_labs.models.small_cnn", "Config error at model._target_: got "
         "'vision_labs.models.small_cnn'; expected an importable module: importing 'vision_labs.models' failed "
         "(ModuleNotFoundError: No module named 'vision_labs')"),
    ],
)  # fmt: skip
def test_a_wrong_argument_is_exit_2_naming_it(in_project, project, override, message):
    result = in_project("train", *FAST, override, "hydra.run.dir=runs/bad")
    assert result.code == 2
    assert result.err.startswith(f"mlexp train: {message}")
    assert not (project / "runs/bad").exists()


def test_a_user_layer_class_in_a_sequential_model(in_project, project):
    (project / "vision_lab/layers.py").write_text(
        "import keras\n\nclass Scale(keras.layers.Layer):\n    def __init__(self, factor=2.0, **kwargs):\n"
        "        super().__init__(**kwargs)\n        self.factor = factor\n\n    def call(self, x):\n"
        "        return x * self.factor\n"
    )
    layers = "model.layers=[{layer: Flatten}, {layer: vision_lab.layers.Scale, factor: 0.5}, {layer: Dense, units: 8}]"
    assert in_project("train", *FAST, "model=sequential", layers, "hydra.run.dir=runs/layer").code == 0
    bad = layers.replace("factor: 0.5", "factr: 0.5")
    result = in_project("train", *FAST, "model=sequential", bad, "hydra.run.dir=runs/badlayer")
    assert result.code == 2 and "Config error at model.layers[1].factr: got 0.5" in result.err
    assert "Did you mean 'factor'?" in result.err


def test_an_augmentation_preset_is_plain_yaml(in_project, project):
    preset = project / "conf/augmentation/jitter.yaml"
    preset.parent.mkdir(exist_ok=True)
    preset.write_text("name: jitter\nlayers:\n  - {layer: RandomContrast, factor: 0.2}\n")
    result = in_project("train", *FAST, "augmentation=jitter", "hydra.run.dir=runs/jitter")
    assert result.code == 0, result.err
    assert (project / "runs/jitter/resolved_config.yaml").read_text().count("RandomContrast") == 1


def test_a_dataset_of_tf_data_datasets(in_project, project):
    (project / "vision_lab/streams.py").write_text(
        "import tensorflow as tf\nfrom vision_lab.data import squares\n\n\ndef squares_ds(samples=200):\n"
        "    d = squares(samples)\n    batched = tf.data.Dataset.from_tensor_slices(d['x_train']).batch(16)\n"
        "    return {**d, 'x_train': batched, 'y_train': tf.data.Dataset.from_tensor_slices(d['y_train'])}\n"
    )
    result = in_project("train", *FAST, "dataset._target_=vision_lab.streams.squares_ds", "hydra.run.dir=runs/tfdata")
    assert result.code == 0, result.err
    samples = read_metrics(project / "runs/tfdata")["samples"]
    assert samples["train"] + samples["val"] == 480 and samples["test"] == 120


def test_an_installed_package_offers_a_component_by_name(in_project, project, monkeypatch):
    from importlib import metadata

    offered = metadata.EntryPoint("tiny_cnn", "vision_lab.models:small_cnn", "mlexp.components")
    real = metadata.entry_points
    monkeypatch.setattr(metadata, "entry_points", lambda **kw: [offered] if kw.get("group") == "mlexp.components"
                        else real(**kw))  # fmt: skip
    assert in_project("train", *FAST, "model._target_=tiny_cnn", "hydra.run.dir=runs/ep").code == 0
    result = in_project("train", *FAST, "model._target_=tiny_cn", "hydra.run.dir=runs/ep2")
    assert result.code == 2 and "(mlexp.components: tiny_cnn). Did you mean 'tiny_cnn'?" in result.err


def test_a_model_function_that_returns_no_model(in_project, project):
    (project / "vision_lab/broken.py").write_text("def nothing(input_shape):\n    return 42\n")
    result = in_project("train", *FAST, "model._target_=vision_lab.broken.nothing", "~model.filters", "~model.units")
    assert result.code == 2
    assert "expected a function returning a Keras model or layer; it returned int" in result.err


def test_the_project_sweeps_and_tunes(in_project, project):
    sweep = in_project("train", "-m", *FAST, "trainer.epochs=1", "model.filters=4,8", "hydra.sweep.dir=runs/sweep")
    assert sweep.code == 0, sweep.err
    assert [read_metrics(r)["status"] for r in run_dirs(project / "runs/sweep")] == ["completed"] * 2
    tune = in_project("tune", *FAST, "trainer.epochs=1", "search_space=example", "tuner.max_trials=2",
                      "hydra.run.dir=runs/tune")  # fmt: skip
    assert tune.code == 0, tune.err
    trials = pd.read_csv(project / "runs/tune/trials.csv")
    assert trials["status"].tolist() == ["COMPLETED", "COMPLETED"]


@pytest.mark.slow
def test_the_project_resumes_after_sigterm(project):
    from test_console import MLEXP

    args = [MLEXP, "train", "experiment=example", "trainer.epochs=30", "trainer.verbose=0", "hydra.run.dir=runs/cut"]
    proc = subprocess.Popen(args, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = project / "runs/cut/backup/state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (state.is_file() and json.loads(state.read_text())["epochs_completed"]):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    resumed = subprocess.run([MLEXP, "resume", "runs/cut"], cwd=project, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert pd.read_csv(project / "runs/cut/history.csv")["epoch"].tolist() == list(range(1, 31))


def test_the_projects_readme_install_line_builds_with_its_entry_points(project, tmp_path):
    """The README's `pip install -e .` needs a pyproject.toml: it builds, and offers the components by name."""
    import sys
    import zipfile

    assert "(`pip install -e .`" in (project / "README.md").read_text()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."],
        cwd=project, check=True, capture_output=True,
    )  # fmt: skip
    [wheel] = tmp_path.glob("vision_lab-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        points = archive.read("vision_lab-0.1.0.dist-info/entry_points.txt").decode()
    assert "vision_lab/models.py" in names
    assert "[mlexp.components]\nBestEpoch = vision_lab.callbacks:BestEpoch\n" in points
    assert "small_cnn = vision_lab.models:small_cnn" in points
