"""The whole catalogue: every experiment and every named sweep job composes, validates and trains
one short epoch on tiny data of the right shape, written in the dataset's real on-disk format."""

from __future__ import annotations

import itertools

import pytest
from conftest import CONF_DIR
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser

from mlexp.config import validate
from mlexp.training import train

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
SWEEPS = sorted(p.stem for p in (CONF_DIR / "sweep").glob("*.yaml"))
SHORT = ["trainer.epochs=1", "trainer.batch_size=16", "trainer.verbose=0", "dataset.download=false"]


def compose_run(overrides: list[str], dataset_files, hydra=False):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=hydra)
        name = cfg.dataset.name
        extra = [f"dataset.path={dataset_files[name]}"] if name in dataset_files else []
        if cfg.trainer.validation == "head":
            extra.append("trainer.validation_size=8")
        if cfg.model.name == "backbone":  # offline and small: random weights, 32x32 inputs
            extra += ["model.weights=null", "model.input_size=32"]
        if name == "image_folder":
            extra.append("dataset.image_size=[32,32]")
        return compose("train", overrides=[*SHORT, *extra, *overrides], return_hydra_config=hydra)


def sweep_jobs(name: str, dataset_files) -> list[list[str]]:
    """The override lists Hydra's basic sweeper would launch for `-m sweep=NAME`."""
    params = compose_run([f"sweep={name}"], dataset_files, hydra=True).hydra.sweeper.params
    parser = OverridesParser.create()
    axes = []
    for key, value in params.items():
        [override] = parser.parse_overrides([f"{key}={value}"])
        values = list(override.sweep_string_iterator()) if override.is_sweep_override() else [str(value)]
        axes.append([f"{key}={v}" for v in values])
    return [[f"sweep={name}", *job] for job in itertools.product(*axes)]


def test_the_catalogue_has_every_notebook_experiment():
    assert {
        "mnist_cnn_baseline", "mnist_cnn_improved", "cifar10_cnn_deep_aug", "imdb_dense", "imdb_dense_l2",
        "imdb_dense_dropout", "fashion_mlp_sigmoid", "fashion_mlp_final", "dense_base", "dense_improved",
        "fashion_stop_at_loss", "fashion_mlp_512",
    } <= set(EXPERIMENTS)  # fmt: skip
    assert {
        "fashion_hidden_units", "fashion_epochs", "fashion_activations", "fashion_initializers",
        "fashion_optimizers", "cifar_augmentation",
    } <= set(SWEEPS)  # fmt: skip


def on_tensorflow(overrides: list[str], dataset_files):
    """The validated config, on TensorFlow: this process runs Keras there (each backend has its own smoke test)."""
    cfg = validate(compose_run(overrides, dataset_files))
    if cfg.trainer.backend == "tensorflow":
        return cfg
    return validate(compose_run([*overrides, "trainer.backend=tensorflow"], dataset_files))


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_trains_one_epoch(name, dataset_files, tmp_path):
    cfg = on_tensorflow([f"experiment={name}"], dataset_files)
    metrics = train(cfg, tmp_path / name)
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 1


@pytest.mark.parametrize("name", SWEEPS)
def test_named_sweep_jobs_validate_and_the_first_trains(name, dataset_files, tmp_path):
    jobs = sweep_jobs(name, dataset_files)
    assert len(jobs) >= 2
    configs = [validate(compose_run(job, dataset_files)) for job in jobs]
    assert len({str(c) for c in configs}) == len(configs), "sweep jobs must differ"
    assert train(on_tensorflow(jobs[0], dataset_files), tmp_path / name)["status"] == "completed"


def test_fashion_hidden_units_sweep_values(dataset_files):
    jobs = sweep_jobs("fashion_hidden_units", dataset_files)
    units = [validate(compose_run(j, dataset_files)).model.hidden_units for j in jobs]
    assert [list(u) for u in units] == [[128], [512], [1024]]


def test_initializer_sweep_moves_bias_with_kernel(dataset_files):
    configs = [validate(compose_run(j, dataset_files)) for j in sweep_jobs("fashion_initializers", dataset_files)]
    assert [(c.model.kernel_initializer, c.model.bias_initializer) for c in configs] == [
        ("zeros", "zeros"), ("random_normal", "random_normal"), ("glorot_uniform", "glorot_uniform"),
    ]  # fmt: skip


def test_notebook_settings_reach_the_presets(dataset_files):
    cifar = validate(compose_run(["experiment=cifar10_cnn_deep_aug"], dataset_files))
    assert (cifar.optimizer.name, cifar.optimizer.learning_rate) == ("rmsprop", 0.0005)
    assert cifar.dataset.scale == "standardize" and cifar.augmentation.name == "images"
    assert cifar.callbacks.lr_scheduler.start_epoch == 20 and cifar.callbacks.early_stopping.monitor == "val_accuracy"
    imdb = validate(compose_run(["experiment=imdb_dense_l2"], dataset_files))
    assert imdb.regularizer.l2 == 0.001 and imdb.trainer.batch_size == 16  # SHORT overrides the 512
    final = validate(compose_run(["experiment=fashion_mlp_final"], dataset_files))
    assert list(final.model.hidden_units) == [2048, 1024, 512] and final.model.kernel_initializer == "he_normal"
    assert final.augmentation.name == "flip_shift" and final.model.dropout == 0.3
    assert final.callbacks.lr_scheduler.schedule == "cosine" and not final.callbacks.reduce_lr_on_plateau.enabled
    assert [layer.layer for layer in final.augmentation.layers] == ["RandomFlip", "RandomTranslation"]
    assert final.trainer.validation_split == 0.05 and final.trainer.validation == "split"  # never the test split
