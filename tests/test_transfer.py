"""model=backbone: keras.applications networks with their preprocessing, weights found offline, and
freeze-then-fine-tune in one run (checked on the weights), resumable across the phase change."""

from __future__ import annotations

import os
import signal

import numpy as np
import pandas as pd
import pytest
from conftest import read_metrics
from test_own_data import write_images

SMALL = ["model=backbone", "model.arch=MobileNetV2", "model.input_size=32", "model.arch_args={alpha: 0.35}",
         "trainer.verbose=0", "trainer.batch_size=8", "trainer.deterministic=true"]  # fmt: skip


@pytest.fixture
def folder(tmp_path):
    return ["dataset=image_folder", f"dataset.path={write_images(tmp_path / 'images')}", "dataset.image_size=[32,32]"]


@pytest.fixture
def weights_file(tmp_path):
    """A weights file saved by the test itself: a MobileNetV2 (alpha 0.35) with seeded random weights."""
    import keras

    keras.utils.set_random_seed(7)
    network = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35,
                                             pooling="avg")  # fmt: skip
    path = tmp_path / "mobilenet_v2_035.weights.h5"
    network.save_weights(path)
    return path


def _backbone_weights(run_dir) -> dict[str, list[np.ndarray]]:
    import keras

    from mlexp import models
    from mlexp.models.backbone import find

    model = models.load(run_dir / "model.keras", keras)
    return {layer.name: [w.numpy() for w in layer.weights] for layer in find(model).layers if layer.weights}


def _file_weights(path) -> dict[str, list[np.ndarray]]:
    import keras

    network = keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35,
                                             pooling="avg")  # fmt: skip
    network.load_weights(path)
    return {layer.name: [w.numpy() for w in layer.weights] for layer in network.layers if layer.weights}


def _changed(before, after) -> set[str]:
    return {name for name in before if any(not np.array_equal(a, b) for a, b in zip(before[name], after[name],
                                                                                   strict=True))}  # fmt: skip


def test_frozen_backbone_keeps_the_weights_file_and_fine_tuning_changes_only_the_unfrozen_layers(
    mlexp, tmp_path, folder, weights_file
):
    weights = f"model.weights={weights_file}"
    frozen = mlexp("train", *folder, *SMALL, weights, "model.fine_tune.freeze_epochs=2", "trainer.epochs=2",
                   "hydra.run.dir=outputs/frozen")  # fmt: skip
    assert frozen.code == 0, frozen.err
    initial = _file_weights(weights_file)
    assert _changed(initial, _backbone_weights(tmp_path / "outputs/frozen")) == set()
    history = pd.read_csv(tmp_path / "outputs/frozen/history.csv")
    assert history["phase"].tolist() == ["frozen", "frozen"]

    tuned = mlexp("train", *folder, *SMALL, weights, "model.fine_tune.freeze_epochs=1", "trainer.epochs=3",
                  "model.fine_tune.unfreeze_layers=10", "model.fine_tune.lr_factor=0.5",
                  "hydra.run.dir=outputs/tuned")  # fmt: skip
    assert tuned.code == 0, tuned.err
    import keras

    names = [layer.name for layer in keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35).layers if layer.weights]  # fmt: skip
    last_ten = {layer.name for layer in keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(32, 32, 3), alpha=0.35).layers[-10:]}  # fmt: skip
    changed = _changed(initial, _backbone_weights(tmp_path / "outputs/tuned"))
    assert changed and changed <= last_ten & set(names)  # only the unfrozen layers moved
    history = pd.read_csv(tmp_path / "outputs/tuned/history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]  # one continuous history
    assert history["phase"].tolist() == ["frozen", "fine_tune", "fine_tune"]
    assert history["learning_rate"].round(8).tolist() == [0.001, 0.0005, 0.0005]
    assert read_metrics(tmp_path / "outputs/tuned")["epochs_run"] == 3


@pytest.mark.slow
def test_resume_across_the_phase_change_equals_an_uninterrupted_run(mlexp, tmp_path, folder, monkeypatch):
    import keras

    from mlexp import callbacks

    args = [*folder, *SMALL, "model.weights=null", "model.fine_tune.freeze_epochs=1", "trainer.epochs=3"]
    assert mlexp("train", *args, "hydra.run.dir=outputs/full").code == 0
    for stop_after in (0, 1):  # at the end of the frozen phase, and inside the fine-tuning phase

        class Terminate(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None, stop=stop_after):
                if epoch == stop:
                    os.kill(os.getpid(), signal.SIGTERM)

        original = callbacks.from_config
        with monkeypatch.context() as patch:
            patch.setattr(callbacks, "from_config", lambda *a, original=original: [*original(*a), Terminate()])
            assert mlexp("train", *args, f"hydra.run.dir=outputs/cut{stop_after}").code == 130
        resumed = mlexp("resume", str(tmp_path / f"outputs/cut{stop_after}"))
        assert resumed.code == 0, resumed.err
        cut = pd.read_csv(tmp_path / f"outputs/cut{stop_after}/history.csv")
        pd.testing.assert_frame_equal(cut, pd.read_csv(tmp_path / "outputs/full/history.csv"))


def test_data_scaled_by_dataset_scale_are_turned_back_into_pixels_once(tmp_path):
    from mlexp.data import DatasetSpec
    from mlexp.models import build
    from mlexp.models.backbone import pixel_rescaling

    assert pixel_rescaling({"scale": "unit", "max_value": 255.0}) == (255.0, 0.0)
    assert pixel_rescaling({"scale": "none", "max_value": 16.0}) == (255.0 / 16, 0.0)
    assert pixel_rescaling({"scale": "standardize", "max_value": 255.0, "mean": 120.0, "std": 60.0}) == (60.0, 120.0)
    from mlexp.hydra_app import compose_validated

    cfg = compose_validated([*SMALL, "model.weights=null", "model.input_size=40"])
    unit = {"scale": "unit", "max_value": 255.0}
    spec = DatasetSpec("x", (28, 28, 1), 10, [str(i) for i in range(10)], preprocessing=unit)
    model = build(cfg, spec)
    names = [layer.name for layer in model.layers]
    assert names[:5] == ["inputs", "to_pixels", "resize", "grey_to_rgb", "preprocess_input"]
    x = np.full((1, 28, 28, 1), 0.5, np.float32)  # unit-scaled grey 127.5
    pixels = model.get_layer("grey_to_rgb").output
    import keras

    probe = keras.Model(model.input, [pixels, model.get_layer("preprocess_input").output])
    raw, preprocessed = (np.asarray(t) for t in probe(x))
    assert raw.shape == (1, 40, 40, 3) and np.allclose(raw, 127.5)
    assert np.allclose(preprocessed, 0.0)  # MobileNetV2: x / 127.5 - 1


def test_weights_not_found_offline_lists_every_place(mlexp, tmp_path, folder, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    result = mlexp("train", *folder, *SMALL, "model.weights=imagenet", "model.download=false")
    assert result.code == 2
    cached = tmp_path / "keras_home/models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
    assert "model.weights: the imagenet weights of MobileNetV2 were not found. Looked in:" in result.err
    assert f"Keras' cache: {cached}" in result.err and "not attempted (model.download=false)" in result.err
    result = mlexp("train", *folder, *SMALL, f"model.weights={tmp_path / 'missing.h5'}")
    assert result.code == 2 and f"model.weights: no file at {tmp_path / 'missing.h5'}" in result.err


def test_check_prints_the_backbone_and_its_frozen_and_trainable_counts(mlexp, folder):
    result = mlexp("check", *folder, *SMALL, "model.weights=null", "model.fine_tune.freeze_epochs=2")
    assert result.code == 0, result.err
    assert "Backbone:     MobileNetV2 (weights null), input 32x32 from 32x32x3" in result.out
    preprocessing = "mobilenet_v2.preprocess_input (tf: scaled to [-1, 1]) after dataset.scale=unit is undone"
    assert f"preprocessing: {preprocessing}" in result.out
    assert "Parameters:   frozen 410,208 (the backbone, for fine_tune.freeze_epochs=2), trainable 3,843" in result.out


def test_an_input_size_below_the_architectures_minimum_is_a_config_error(mlexp, folder):
    result = mlexp("train", *folder, *SMALL, "model.input_size=24")
    assert (result.code, result.err) == (
        2, "mlexp train: Config error at model.input_size: got 24; expected null, an integer or [height, width] each "
        ">= 32 (MobileNetV2's smallest input; its ImageNet weights were trained at 224).\n",
    )  # fmt: skip


def test_an_input_size_may_be_height_and_width_as_in_keras():
    from mlexp.data import DatasetSpec
    from mlexp.hydra_app import compose_validated
    from mlexp.models import build

    cfg = compose_validated([*SMALL, "model.weights=null", "model.input_size=[40,56]"])
    spec = DatasetSpec("x", (28, 28, 1), 10, [str(i) for i in range(10)], preprocessing={"scale": "unit"})
    model = build(cfg, spec)
    assert tuple(model.get_layer("resize").output.shape[1:3]) == (40, 56)


@pytest.mark.parametrize(
    "override,code,finding",
    [
        ("model.preprocess=false", 0, "preprocessing_off"),
        ("model.fine_tune.lr_factor=10", 0, "fine_tune_rate_high"),
    ],
)
def test_preflight_catches_transfer_mistakes(mlexp, folder, weights_file, override, code, finding):
    args = [*folder, *SMALL, f"model.weights={weights_file}", "model.fine_tune.freeze_epochs=1", override]
    result = mlexp("check", *args)
    assert result.code == code, result.out + result.err
    assert f"[{finding}]" in result.out + result.err
