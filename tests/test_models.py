"""Heads, model families, sequential stacks and augmentation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import CONF_DIR, TINY, read_metrics, run_dirs
from omegaconf import OmegaConf

from mlexp.data.augment import augmenter
from mlexp.data.pipeline import EpochClock, EpochOrder, array_batches, evaluation_dataset, training_dataset

NO_MODEL_KEYS = [arg for arg in TINY if not arg.startswith("model.")]


def test_logits_head_trains_and_scores_consistently(mlexp, tmp_path):
    import keras

    from mlexp import data
    from mlexp.config import validate

    assert mlexp("train", *TINY, "model.logits=true", "trainer.epochs=8", "optimizer.learning_rate=0.01").code == 0
    [run] = run_dirs(tmp_path / "outputs")
    model = keras.models.load_model(run / "model.keras")
    assert model.get_layer("head").activation.__name__ == "linear"
    assert model.loss.get_config()["from_logits"] is True
    cfg = validate(OmegaConf.load(run / "resolved_config.yaml"))
    splits = data.load(cfg.dataset, cfg.trainer)
    predicted = model.predict(splits.x_test, verbose=0).argmax(axis=1)
    assert read_metrics(run)["test_accuracy"] == pytest.approx(float((predicted == splits.y_test).mean()), abs=1e-6)
    assert read_metrics(run)["test_accuracy"] > 0.6


def test_binary_logits_head_uses_a_zero_threshold(mlexp, tmp_path):
    import keras

    args = ["dataset.classes=2", "model.logits=true", "trainer.epochs=10", "optimizer.learning_rate=0.01"]
    assert mlexp("train", *TINY, *args).code == 0
    [run] = run_dirs(tmp_path / "outputs")
    model = keras.models.load_model(run / "model.keras")
    assert model.get_layer("head").units == 1
    assert read_metrics(run)["test_accuracy"] >= 0.8


@pytest.mark.parametrize("model", ["cnn", "cnn_bn", pytest.param("cnn_deep", marks=pytest.mark.slow)])
def test_conv_models_on_small_images(mlexp, tmp_path, model):
    import keras

    args = ["dataset.image_size=16", "dataset.channels=3", f"model={model}", "trainer.epochs=1"]
    result = mlexp("train", *TINY[:1], *TINY[3:], *args)
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    names = [layer.name for layer in keras.models.load_model(run / "model.keras").layers]
    expected = {
        "cnn": ["conv_1_1", "pool_1", "conv_2_1", "pool_2", "flatten", "dense_1", "dense_1_dropout", "head"],
        "cnn_bn": ["conv_1_1", "conv_1_1_bn", "conv_1_2", "conv_1_2_bn", "pool_1"],
        "cnn_deep": ["conv_3_2_bn", "pool_3", "block_3_dropout", "global_average", "dense_1", "dense_1_dropout"],
    }[model]
    assert all(name in names for name in expected), names
    if model == "cnn_deep":
        assert names.index("global_average") == names.index("block_3_dropout") + 1


def test_conv_model_on_vectors_is_a_config_error(mlexp, tmp_path):
    path = tmp_path / "vectors.npz"
    rng = np.random.default_rng(0)
    np.savez(
        path, x_train=rng.random((20, 6)), y_train=np.arange(20) % 2, x_test=rng.random((6, 6)), y_test=np.arange(6) % 2
    )
    result = mlexp("train", "dataset=npz", f"dataset.path={path}", "model=cnn", "trainer.verbose=0")
    assert result.code == 2
    assert run_dirs(tmp_path / "outputs") == []  # refused before training: no run folder, as for config errors
    assert result.err == (
        "mlexp train: Config error at model: got 'cnn'; expected a model for inputs of shape (6,), e.g. mlp "
        "(convolutional models need images: height x width x channels).\n"
    )


def test_sequential_stack_from_yaml(mlexp, tmp_path):
    import keras

    layers = "[{layer: Flatten},{layer: Dense,units: 7,activation: elu},{layer: Dropout,rate: 0.1}]"
    result = mlexp("train", *NO_MODEL_KEYS, "model=sequential", f"model.layers={layers}", "regularizer=l1")
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    model = keras.models.load_model(run / "model.keras")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [7, 3] and dense[0].kernel_regularizer is not None


def test_sequential_unknown_layer_suggests_the_keras_name(mlexp):
    result = mlexp("train", *NO_MODEL_KEYS, "model=sequential", "model.layers=[{layer: Dens, units: 3}]")
    assert result.code == 2
    assert result.err.startswith(
        "mlexp train: Config error at model.layers[0].layer: got 'Dens'; expected a Keras layer class name"
    )
    assert "Did you mean 'Dense'?" in result.err


def test_sequential_bad_argument_is_a_config_error(mlexp):
    result = mlexp("train", *NO_MODEL_KEYS, "model=sequential", "model.layers=[{layer: Dense, unit: 3}]")
    assert result.code == 2
    assert result.err.startswith(
        "mlexp train: Config error at model.layers[0].unit: got 3; expected an argument of keras.layers.Dense: "
        "activation, activity_regularizer,"
    )
    assert result.err.endswith(" Did you mean 'units'?\n")


AUGMENTATIONS = sorted(p.stem for p in (CONF_DIR / "augmentation").glob("*.yaml"))


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_augmentation_keeps_shapes_and_only_touches_training_batches(name):
    cfg = OmegaConf.load(CONF_DIR / "augmentation" / f"{name}.yaml")
    x = np.random.default_rng(0).random((10, 16, 16, 3), dtype=np.float32)
    y = np.arange(10, dtype=np.int32)
    augment = augmenter(cfg, seed=0)
    train = [xb.numpy() for xb, _ in training_dataset(x, y, 4, augment=augment)]
    plain = [xb.numpy() for xb, _ in evaluation_dataset(x, y, 4)]
    assert [b.shape for b in train] == [b.shape for b in plain] == [(4, 16, 16, 3), (4, 16, 16, 3), (2, 16, 16, 3)]
    np.testing.assert_array_equal(np.concatenate(plain), x)  # validation and test pipelines: untouched
    if name == "none":
        assert augment is None
    else:
        assert not np.allclose(np.concatenate(train), x)


def _epoch_batches(x, y, seed: int, epoch: int, augmentation: str = "images"):
    order = EpochOrder(seed)
    order.epoch.assign(epoch)
    augment = augmenter(OmegaConf.load(CONF_DIR / "augmentation" / f"{augmentation}.yaml"), seed=seed)
    return [(xb.numpy(), yb.numpy()) for xb, yb in training_dataset(x, y, 8, augment=augment, order=order)]


def test_numpy_batches_for_jax_and_torch_keep_the_pipelines_contract():
    """Every sample once per pass, the last batch partial; in order without a seed; with one, a permutation
    that depends on (seed, epoch) only, so a resumed run repeats it."""
    x, y = np.arange(20, dtype=np.float32).reshape(20, 1), np.arange(20, dtype=np.int32)
    plain = array_batches(x, y, 8)
    assert [len(plain[i][1]) for i in range(len(plain))] == [8, 8, 4]
    assert np.concatenate([plain[i][1] for i in range(len(plain))]).tolist() == list(range(20))
    clock = EpochClock()

    def epoch_order(seed, epoch):
        clock.set(epoch)
        batches = array_batches(x, y, 8, seed=seed, clock=clock)
        return np.concatenate([batches[i][1] for i in range(len(batches))]).tolist()

    first, second = epoch_order(3, 0), epoch_order(3, 1)
    assert sorted(first) == sorted(second) == list(range(20)) and first != second != list(range(20))
    assert epoch_order(3, 0) == first and epoch_order(4, 0) != first
    batches = array_batches(x, y, 8, seed=3, clock=clock)
    np.testing.assert_array_equal(batches[0][0][:, 0], batches[0][1])  # inputs and labels stay paired


def test_training_pipeline_yields_identical_batches_for_the_same_seed():
    import keras

    x = np.random.default_rng(0).random((20, 16, 16, 3), dtype=np.float32)
    y = np.arange(20, dtype=np.int32)
    keras.utils.set_random_seed(3)
    first = _epoch_batches(x, y, seed=3, epoch=1)
    keras.utils.set_random_seed(3)
    again = _epoch_batches(x, y, seed=3, epoch=1)
    assert [b[0].shape for b in first] == [(8, 16, 16, 3), (8, 16, 16, 3), (4, 16, 16, 3)]
    for (xa, ya), (xb, yb) in zip(first, again, strict=True):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)
    assert sorted(np.concatenate([b[1] for b in first])) == list(range(20))  # a permutation: every sample once
    keras.utils.set_random_seed(3)
    next_epoch = _epoch_batches(x, y, seed=3, epoch=2)
    assert not np.array_equal(np.concatenate([b[1] for b in first]), np.concatenate([b[1] for b in next_epoch]))


def test_every_epoch_runs_the_same_number_of_steps(mlexp, tmp_path, monkeypatch):
    """The CIFAR notebook's generator + steps_per_epoch ran every second epoch on one batch."""
    import keras

    from mlexp import callbacks

    steps: list[int] = []

    class CountSteps(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            steps.append(0)

        def on_train_batch_end(self, batch, logs=None):
            steps[-1] += 1

    original = callbacks.from_config
    monkeypatch.setattr(callbacks, "from_config", lambda *a: [*original(*a), CountSteps()])
    args = ["dataset.image_size=8", "augmentation=images", "trainer.epochs=4", "trainer.batch_size=32"]
    assert mlexp("train", *TINY[:1], *TINY[3:], *args).code == 0
    [run] = run_dirs(tmp_path / "outputs")
    train_samples = 240 - 60 - 36  # synthetic 240, test 25%, validation 20% of the rest
    assert steps == [math.ceil(train_samples / 32)] * 4


def test_fused_geometric_augmentation_matches_the_layers_one_after_another():
    """Rotation, translation, shear, zoom and flips resample once; the result is the chain of Keras' own layers."""
    import tensorflow as tf

    from mlexp.data.augment import BatchSeeds

    cfg = OmegaConf.create(
        {"name": "geo", "layers": [
            {"layer": "RandomRotation", "factor": 0.05, "fill_mode": "nearest"},
            {"layer": "RandomFlip", "mode": "horizontal"},
            {"layer": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1, "fill_mode": "nearest"},
            {"layer": "RandomShear", "x_factor": 0.1, "y_factor": 0.1, "fill_mode": "nearest"},
            {"layer": "RandomZoom", "height_factor": 0.1, "fill_mode": "nearest"},
            {"layer": "RandomFlip", "mode": "horizontal_and_vertical"},
        ]}
    )  # fmt: skip
    augment = augmenter(cfg, seed=7)
    yy, xx = np.mgrid[0:32, 0:32].astype(np.float32) / 31.0
    images = tf.constant(np.stack([np.stack([yy, xx, yy * xx], axis=-1)] * 8))  # smooth: resampling error is small
    epoch, batch = tf.constant(2, tf.int64), tf.constant(5, tf.int64)
    fused = augment(images, epoch, batch).numpy()

    seeds = BatchSeeds(tf.stack([tf.constant(7, tf.int64), epoch * (1 << 24) + batch]))
    chained = images
    for layer in augment.layers:
        transformation = layer.get_random_transformation(chained, training=True, seed=seeds)
        chained = layer.transform_images(chained, transformation, training=True)
    centre = (slice(None), slice(10, 22), slice(10, 22))  # away from the borders, where the fills differ
    assert not np.allclose(fused, images.numpy(), atol=0.02)
    np.testing.assert_allclose(fused[centre], chained.numpy()[centre], atol=0.02)


@pytest.mark.parametrize("fill_mode", ["nearest", "constant"])
def test_compiled_warp_equals_keras_affine_transform(fill_mode):
    """The XLA warp that runs fused augmentation resamples as Keras' (TensorFlow's kernel) does, borders included."""
    import keras
    import tensorflow as tf

    from mlexp.data.warp import affine_warp

    rng = np.random.default_rng(0)
    images = rng.random((6, 9, 13, 3), dtype=np.float32)  # not square, so swapped axes would show
    a = rng.uniform(-0.4, 0.4, (6, 6)).astype(np.float32)
    zeros = np.zeros(6, np.float32)
    transform = np.stack([1 + a[:, 0], a[:, 1], 4 * a[:, 2], a[:, 3], 1 + a[:, 4], 4 * a[:, 5], zeros, zeros], 1)
    expected = keras.ops.image.affine_transform(
        images, transform, interpolation="bilinear", fill_mode=fill_mode, fill_value=0.25
    )
    warped = affine_warp(tf.constant(images), tf.constant(transform), fill_mode, 0.25).numpy()
    assert not np.allclose(warped, images, atol=0.05)
    np.testing.assert_allclose(warped, np.asarray(expected), atol=1e-5)


def test_without_shuffling_each_epoch_still_gets_its_own_augmentation():
    from mlexp.data.pipeline import EpochClock

    x = np.random.default_rng(0).random((8, 16, 16, 3), dtype=np.float32)
    y = np.arange(8, dtype=np.int32)
    clock = EpochClock()
    augment = augmenter(OmegaConf.load(CONF_DIR / "augmentation" / "images.yaml"), seed=0)
    ds = training_dataset(x, y, 4, augment=augment, clock=clock)

    def epoch(k):
        clock.epoch.assign(k)
        return np.concatenate([xb.numpy() for xb, _ in ds])

    first, second, first_again = epoch(0), epoch(1), epoch(0)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(first, first_again)  # a function of (seed, epoch, batch): resumable
