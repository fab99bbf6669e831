"""The installed `mlexp` script in real subprocesses: exit codes, stderr, sweeps (slow)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import TINY, read_metrics, run_dirs

pytestmark = pytest.mark.slow
MLEXP = shutil.which("mlexp", path=str(Path(sys.executable).parent)) or "mlexp"


def mlexp(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MLEXP, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_config_error_is_one_line_and_exit_2(tmp_path):
    proc = mlexp(tmp_path, "train", "model.dropout=1.5")
    assert proc.returncode == 2
    assert proc.stderr == "mlexp train: Config error at model.dropout: got 1.5; expected a number in [0, 1).\n"
    assert proc.stdout == ""
    assert not (tmp_path / "outputs").exists()


def test_multirun_from_the_console_script(tmp_path):
    proc = mlexp(tmp_path, "train", "-m", *TINY, "model.activation=sigmoid,relu")
    assert proc.returncode == 0, proc.stderr
    runs = run_dirs(tmp_path / "outputs")
    assert len(runs) == 2 and all(read_metrics(r)["status"] == "completed" for r in runs)
    # TensorFlow's start-up banner is filtered; real warnings would still show.
    assert "oneDNN custom operations" not in proc.stderr
    assert "absl::InitializeLog" not in proc.stderr


def test_python_dash_m_mlexp_works(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mlexp", "train", *TINY], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    [run] = run_dirs(tmp_path / "outputs")
    assert f"Run directory: {run}" in proc.stdout + proc.stderr


def test_joblib_launcher_gives_the_same_summary_as_the_basic_one(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    args = ["train", "-m", *TINY, "model.activation=sigmoid,relu"]
    summaries = []
    for name, extra in (("basic", []), ("joblib", ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"])):
        (tmp_path / name).mkdir()
        proc = mlexp(tmp_path / name, *args, *extra)
        assert proc.returncode == 0, proc.stderr
        [sweep] = (tmp_path / name / "outputs" / "sweeps").iterdir()
        summary = pd.read_csv(sweep / "summary.csv")
        summaries.append(summary.drop(columns=["wall_seconds", "fit_seconds", "run"]))
    pd.testing.assert_frame_equal(*summaries)


def test_sigkill_mid_training_then_resume_equals_an_uninterrupted_run(tmp_path):
    import json
    import signal
    import time

    args = ["train", "trainer.epochs=40", "trainer.deterministic=true", "trainer.verbose=0", "model.hidden_units=[32]"]
    assert mlexp(tmp_path, *args, "hydra.run.dir=full").returncode == 0
    proc = subprocess.Popen([MLEXP, *args, "hydra.run.dir=killed"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    state = tmp_path / "killed" / "backup" / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if state.is_file() and json.loads(state.read_text())["epochs_completed"] >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "metrics.json").exists(), "the run finished before it could be killed"
    resumed = mlexp(tmp_path, "resume", "killed")
    assert resumed.returncode == 0, resumed.stderr
    full, killed = (pd.read_csv(tmp_path / name / "history.csv") for name in ("full", "killed"))
    assert killed["epoch"].tolist() == list(range(1, 41))
    pd.testing.assert_frame_equal(full, killed)
    a, b = (json.loads((tmp_path / n / "metrics.json").read_text()) for n in ("full", "killed"))
    assert {k: v for k, v in a.items() if k not in ("wall_seconds", "fit_seconds")} == {
        k: v for k, v in b.items() if k not in ("wall_seconds", "fit_seconds")
    }


MIRRORED = """
import sys
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from mlexp.cli import main

sys.exit(main(sys.argv[1:]))
"""


def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path):
    args = ["train", *TINY, "trainer.distribution=mirrored", "trainer.devices=[/cpu:0,/cpu:1]"]
    proc = subprocess.run(
        [sys.executable, "-c", MIRRORED, *args, "hydra.run.dir=mirrored"], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MirroredStrategy over 2 replica(s): /job:localhost/replica:0/task:0/device:CPU:0, " in proc.stdout
    metrics = read_metrics(tmp_path / "mirrored")
    assert metrics["distribution"] == {"strategy": "mirrored", "replicas": 2}
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 2
    single = mlexp(tmp_path, "train", *TINY, "hydra.run.dir=single")
    assert single.returncode == 0, single.stderr
    # the same global batch, gradients summed over the replicas: the same training, up to float rounding
    assert metrics["final_loss"] == pytest.approx(read_metrics(tmp_path / "single")["final_loss"], rel=1e-3)


SWEEP = ["-m", "seed=0,1", *TINY]


def _sweep_summary(tmp_path: Path, folder: str, *launcher: str) -> pd.DataFrame:
    proc = mlexp(tmp_path, "train", *SWEEP, *launcher, f"hydra.sweep.dir={folder}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return pd.read_csv(tmp_path / folder / "summary.csv").sort_values("seed").reset_index(drop=True)


def test_submitit_launcher_runs_sweep_jobs_as_submitit_jobs(tmp_path):
    """SLURM's launcher, run locally: the same jobs, the same results, each a run directory."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    local = _sweep_summary(tmp_path, "basic")
    submitit = _sweep_summary(tmp_path, "submitit", "hydra/launcher=submitit_local")
    assert list(submitit["status"]) == ["completed", "completed"]
    pd.testing.assert_series_equal(submitit["final_val_loss"], local["final_val_loss"], rtol=1e-6)
    assert list((tmp_path / "submitit" / ".submitit").iterdir())  # submitit's own job folders


def test_slurm_preset_composes_for_the_submitit_launcher(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    proc = mlexp(tmp_path, "train", "hydra/launcher=slurm", "hydra.launcher.partition=gpu", "--cfg", "hydra")
    assert proc.returncode == 0, proc.stderr
    assert "_target_: hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher" in proc.stdout
    assert "partition: gpu" in proc.stdout and "array_parallelism: 16" in proc.stdout


def test_ray_launcher_runs_a_sweep_on_a_local_ray_cluster(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher", reason='optional: pip install "mlexp-keras[ray]"')
    local = _sweep_summary(tmp_path, "basic")
    ray = _sweep_summary(tmp_path, "ray", "hydra/launcher=ray", "+hydra.launcher.ray.init.num_cpus=2")
    assert list(ray["status"]) == ["completed", "completed"]
    pd.testing.assert_series_equal(ray["final_val_loss"], local["final_val_loss"], rtol=1e-6)


NOISE = ("oneDNN custom operations", "absl::InitializeLog", "cpu_feature_guard", "libtpu", "backend 'tpu'")


def test_every_verb_keeps_tensorflow_and_jax_start_up_lines_off_the_terminal(tmp_path):
    from formats import write_image_folder

    folder = write_image_folder(tmp_path / "images")
    image = ["dataset=image_folder", f"dataset.path={folder}", "dataset.image_size=[8,8]", "trainer.verbose=0"]
    commands = [
        ["data", *image[:3], "--out", "view"],
        ["train", *image, "trainer.epochs=1", "hydra.run.dir=run"],
        ["predict", "run", str(next(folder.rglob("*.png")))],
        ["check", *TINY],
    ]
    if importlib.util.find_spec("jax") is not None:
        commands.append(["train", *TINY, "trainer.backend=jax", "hydra.run.dir=jax_run"])
    for command in commands:
        proc = mlexp(tmp_path, *command)
        assert proc.returncode == 0, (command, proc.stderr)
        noisy = [line for line in (proc.stdout + proc.stderr).splitlines() if any(n in line for n in NOISE)]
        assert noisy == [], command
