"""Training tools: per-batch schedules with warm-up, gradient accumulation, mixed precision, the LR finder."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import read_metrics

FAST = ["trainer.verbose=0", "model.hidden_units=[32]"]


def test_one_cycle_warms_up_then_anneals_every_batch_and_the_model_reloads(mlexp, tmp_path):
    result = mlexp("train", *FAST, "trainer.epochs=4", "optimizer.learning_rate=0.01",
                   "optimizer.schedule={name: one_cycle, warmup_epochs: 1}", "hydra.run.dir=outputs/oc")  # fmt: skip
    assert result.code == 0, result.err
    rates = pd.read_csv(tmp_path / "outputs/oc/history.csv")["learning_rate"].tolist()
    assert rates[0] == pytest.approx(0.01, rel=1e-3)  # the peak, after one epoch of warm-up
    assert rates[0] > rates[1] > rates[2] > rates[3] and rates[3] == pytest.approx(0.0, abs=1e-6)
    import keras

    from mlexp import models

    model = models.load(tmp_path / "outputs/oc/model.keras", keras)  # the schedule is registered
    assert type(model.optimizer.learning_rate).__name__ != "float"


def test_linear_and_cosine_schedules_with_warm_up(mlexp, tmp_path):
    for name in ("linear", "cosine"):
        result = mlexp("train", *FAST, "trainer.epochs=3", "optimizer.learning_rate=0.002",
                       f"optimizer.schedule={{name: {name}, warmup_epochs: 1, final_fraction: 0.1}}",
                       f"hydra.run.dir=outputs/{name}")  # fmt: skip
        assert result.code == 0, result.err
        rates = pd.read_csv(tmp_path / f"outputs/{name}/history.csv")["learning_rate"].tolist()
        assert rates[0] == pytest.approx(0.002, rel=1e-3) and rates[-1] == pytest.approx(0.0002, rel=1e-2)


def test_schedule_errors(mlexp):
    result = mlexp("train", "optimizer.schedule={warmup_epochs: 1}")
    assert (result.code, result.err) == (
        2, "mlexp train: Config error at optimizer.schedule.name: got null; expected one_cycle, cosine or linear.\n"
    )  # fmt: skip
    result = mlexp("train", "optimizer.schedule={name: cosine}", "callbacks.lr_scheduler.enabled=true")
    assert result.code == 2 and "one schedule sets the rate: per batch or per epoch" in result.err
    result = mlexp("train", "optimizer.schedule={name: cyclic}")
    assert result.code == 2 and "optimizer.schedule.name: got 'cyclic'" in result.err


def test_gradient_accumulation_and_mixed_precision(mlexp, tmp_path):
    result = mlexp("train", *FAST, "trainer.epochs=8", "optimizer.gradient_accumulation_steps=4",
                   "trainer.precision=mixed_bfloat16", "hydra.run.dir=outputs/mixed")  # fmt: skip
    assert result.code == 0, result.err
    import keras

    from mlexp import models

    model = models.load(tmp_path / "outputs/mixed/model.keras", keras)
    assert model.get_layer("head").dtype_policy.name == "float32"  # the head and loss stay float32
    hidden = [layer for layer in model.layers if type(layer).__name__ == "Dense" and layer.name != "head"]
    assert hidden[0].dtype_policy.name == "mixed_bfloat16"
    assert model.optimizer.gradient_accumulation_steps == 4
    assert read_metrics(tmp_path / "outputs/mixed")["test_accuracy"] > 0.3
    assert mlexp("train", *FAST, "trainer.epochs=1", "hydra.run.dir=outputs/after").code == 0
    after = models.load(tmp_path / "outputs/after/model.keras", keras)
    assert all(layer.dtype_policy.name == "float32" for layer in after.layers if hasattr(layer, "dtype_policy"))
    bad = mlexp("train", "optimizer.gradient_accumulation_steps=1")
    assert bad.code == 2 and "optimizer.gradient_accumulation_steps: got 1; expected an integer >= 2 or null" in bad.err


def test_lr_find_writes_the_curve_and_suggests_a_rate_below_the_blow_up(mlexp, tmp_path):
    import json

    result = mlexp("lr-find", *FAST, "--out", "lrf", "--steps", "60")
    assert result.code == 0, result.err
    found = json.loads((tmp_path / "lrf/lr_find.json").read_text())
    curve = pd.read_csv(tmp_path / "lrf/lr_find.csv")
    assert len(curve) == found["steps"] <= 60 and curve["learning_rate"].is_monotonic_increasing
    assert curve["learning_rate"].iloc[0] == pytest.approx(1e-7)
    assert 1e-7 < found["suggested"] <= found["lowest_loss_rate"] < 10
    assert (tmp_path / "lrf/lr_find.png").stat().st_size > 1000
    suggested = f"optimizer.learning_rate={found['suggested']:.2g}"
    assert f"Try: mlexp train trainer.verbose=0 model.hidden_units=[32] {suggested}" in result.out
    bad = mlexp("lr-find", "--start", "1", "--end", "0.1")
    assert (bad.code, bad.err) == (1, "mlexp lr-find: --start/--end: got 1 and 0.1; expected 0 < start < end\n")
    assert mlexp("lr-find", "--steps", "5").code == 1


@pytest.mark.parametrize("verb", ["check", "lr-find"])
def test_check_and_lr_find_build_the_model_train_trains(mlexp, tmp_path, monkeypatch, verb):
    """One run setup: the same precision policy, parameters and first batch as `mlexp train` (before, check and
    lr-find measured a float32 model of a mixed-precision run)."""
    import numpy as np

    from mlexp import data, models

    built, loaded = [], []
    build, load = models.build, data.load
    monkeypatch.setattr(models, "build", lambda *a, **k: built.append(build(*a, **k)) or built[-1])
    monkeypatch.setattr(data, "load", lambda *a, **k: loaded.append(load(*a, **k)) or loaded[-1])
    import keras

    keras.mixed_precision.set_global_policy("float32")  # as in a new process
    args = ["dataset=synthetic", "model.hidden_units=[8]", "trainer.precision=mixed_bfloat16", "trainer.verbose=0"]
    extra = ["--steps", "10", "--out", str(tmp_path / "lr")] if verb == "lr-find" else []
    result = mlexp(verb, *args, *extra)
    assert result.code == 0, result.err
    assert mlexp("train", *args, "trainer.epochs=1", "hydra.run.dir=run").code == 0
    other, trained = built
    assert trained.dtype_policy.name == other.dtype_policy.name == "mixed_bfloat16"
    assert trained.count_params() == other.count_params()
    np.testing.assert_array_equal(loaded[0].x_train[:32], loaded[1].x_train[:32])
    keras.mixed_precision.set_global_policy("float32")


def test_a_process_already_on_tensorflow_refuses_another_backend_in_one_line(mlexp):
    pytest.importorskip("jax")
    result = mlexp("train", "trainer.backend=jax", "trainer.epochs=1")
    assert result.code == 2
    assert result.err.startswith(
        "mlexp train: Config error at trainer.backend: got 'jax'; expected tensorflow: Keras is already loaded on "
        "tensorflow in this process; run this job in its own process"
    )
    for verb in ("lr-find", "check", "tune"):  # each command runs on the config's backend, or says why not
        other = mlexp(verb, "trainer.backend=jax", *(["search_space=digits_small"] if verb == "tune" else []))
        assert other.code == 2, verb
        assert "Config error at trainer.backend: got 'jax'; expected tensorflow: Keras is already loaded" in other.err
    bad = mlexp("train", "trainer.backend=jax", "trainer.distribution=mirrored")
    assert (
        bad.code == 2
        and "got 'mirrored'; expected none or data_parallel with trainer.backend=jax (mirrored runs on tensorflow)."
        in bad.err
    )


def test_a_sweep_over_backends_in_one_process_fails_the_other_backends_job_in_one_line(mlexp):
    pytest.importorskip("jax")
    result = mlexp("train", "-m", "trainer.backend=tensorflow,jax", "trainer.epochs=1", "trainer.verbose=0")
    assert result.code == 1
    assert "mlexp train: job 1 failed: ConfigError: Config error at trainer.backend: got 'jax'; expected " in result.err
    assert "hydra/launcher=joblib for a sweep over backends" in result.err


@pytest.mark.slow
def test_a_sweep_over_backends_with_joblib_runs_each_job_in_its_own_process(tmp_path):
    import json
    import subprocess
    import sys

    pytest.importorskip("jax")
    args = ["train", "-m", "hydra/launcher=joblib", "trainer.backend=tensorflow,jax", "trainer.epochs=1",
            "trainer.verbose=0", "hydra.sweep.dir=sweep"]  # fmt: skip
    sweep = subprocess.run([sys.executable, "-m", "mlexp", *args], cwd=tmp_path, capture_output=True, text=True,
                           timeout=600)  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr[-2000:]
    backends = [json.loads((tmp_path / f"sweep/{n}/manifest.json").read_text())["backend"] for n in "01"]
    assert backends == ["tensorflow", "jax"]


def _installed_backends() -> list[str]:
    import importlib.util

    return ["tensorflow", *(name for name in ("jax", "torch") if importlib.util.find_spec(name))]


@pytest.mark.slow
@pytest.mark.parametrize("backend", _installed_backends())
def test_each_installed_backend_trains_reruns_resumes_and_predicts(tmp_path, backend):
    """The smoke test per backend, each command in its own process as a user types it."""
    import json
    import shutil
    import subprocess
    import sys

    import pandas as pd

    def mlexp(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "mlexp", *args], cwd=tmp_path, capture_output=True, text=True,
                              timeout=600)  # fmt: skip

    args = [f"trainer.backend={backend}", "trainer.epochs=3", "trainer.verbose=0", "hydra.run.dir=outputs/run"]
    trained = mlexp("train", *args)
    assert trained.returncode == 0, trained.stderr[-2000:]
    run = tmp_path / "outputs/run"
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["backend"] == backend
    assert backend == "tensorflow" or manifest["versions"][backend]
    assert json.loads((run / "metrics.json").read_text())["test_accuracy"] > 0.8
    rerun = mlexp("rerun", "outputs/run")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "The rerun is identical to the original" in rerun.stdout
    shutil.copytree(run, tmp_path / "outputs/resumed")
    resumed = mlexp("resume", "outputs/resumed", "--from-epoch", "2")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    history = pd.read_csv(run / "history.csv")
    again = pd.read_csv(tmp_path / "outputs/resumed/history.csv")
    assert again["epoch"].tolist() == [1, 2, 3]
    assert again["loss"].tolist() == pytest.approx(history["loss"].tolist(), rel=1e-6)
    predicted = mlexp("predict", "outputs/run", "--from-test", "0:3")  # on TensorFlow, whatever trained it
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert "test[2]" in predicted.stdout


NO_TF_CHECK = """
import sys
from mlexp.cli import main
code = main(sys.argv[1:])
print("tensorflow loaded:", "tensorflow" in sys.modules)
sys.exit(code)
"""


@pytest.mark.slow
def test_keras_on_jax_without_tf_data_runs_without_loading_tensorflow(tmp_path):
    """Keras imports TensorFlow whenever installed (seeding, saving): 2-3 s and over 100 MiB a run."""
    import json
    import subprocess
    import sys

    pytest.importorskip("jax")

    def train(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", NO_TF_CHECK, "train", "trainer.backend=jax", "trainer.epochs=2", *args]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)

    plain = train("trainer.verbose=0", "hydra.run.dir=plain")
    assert plain.returncode == 0, plain.stderr[-2000:]
    assert "tensorflow loaded: False" in plain.stdout
    assert list((tmp_path / "plain/tensorboard/hparams").glob("events.out.tfevents.*"))  # HParams without TF
    assert json.loads((tmp_path / "plain/metrics.json").read_text())["test_accuracy"] > 0.8
    augmented = train("augmentation=noise", "trainer.verbose=0", "hydra.run.dir=augmented")  # tf.data: TF loaded
    assert augmented.returncode == 0, augmented.stderr[-2000:]
    assert "tensorflow loaded: True" in augmented.stdout
    assert "oneDNN custom operations" not in augmented.stderr and "absl::InitializeLog" not in augmented.stderr


def test_lr_find_feeds_the_batches_train_feeds_augmentation_included(mlexp, tmp_path, monkeypatch):
    """One input stage: lr-find's first batch is train's first batch, augmented the same way (before, lr-find
    built its own tf.data pipeline without the augmentation)."""
    import numpy as np

    from mlexp import training

    first_batches = []
    make = training.inputs

    def spy(cfg, *args):
        feed = make(cfg, *args)
        first_batches.append(next(iter(feed.train)))
        return feed

    monkeypatch.setattr(training, "inputs", spy)
    args = ["model=cnn", "model.filters=[4]", "model.dense_units=[]", "augmentation=flip_shift", "trainer.verbose=0"]
    assert mlexp("lr-find", *args, "--steps", "10", "--out", "lr").code == 0
    assert mlexp("train", *args, "trainer.epochs=1", "hydra.run.dir=run").code == 0
    (x_find, y_find), (x_train, y_train) = first_batches
    np.testing.assert_array_equal(np.asarray(x_find), np.asarray(x_train))
    np.testing.assert_array_equal(np.asarray(y_find), np.asarray(y_train))
    assert mlexp("lr-find", *args[:-2], "augmentation=none", "--steps", "10", "--out", "lr2").code == 0
    x_plain = np.asarray(first_batches[2][0])
    assert x_plain.shape == x_find.shape and not np.array_equal(x_plain, x_find)  # the augmentation reached lr-find
