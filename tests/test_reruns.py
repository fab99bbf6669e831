"""Manifest, reruns that verify themselves, and resuming interrupted runs and sweeps."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from conftest import TINY, read_metrics, run_dirs


def first_run(mlexp, tmp_path, *args, name="orig"):
    result = mlexp("train", *TINY, *args, f"hydra.run.dir=outputs/{name}")
    assert result.code == 0, result.err
    return tmp_path / "outputs" / name


def test_manifest_records_versions_command_seed_times_and_status(mlexp, tmp_path):
    run = first_run(mlexp, tmp_path, "seed=5")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["status"] == "completed" and manifest["seed"] == 5
    required = {"mlexp", "python", "keras", "tensorflow", "keras-tuner", "hydra-core", "numpy"}
    assert required <= set(manifest["versions"]) <= required | {"jax", "torch"}  # other backends when installed
    assert manifest["backend"] == "tensorflow"
    assert all(manifest["versions"].values())
    assert manifest["command"] == "mlexp train " + " ".join([*TINY, "seed=5", "hydra.run.dir=outputs/orig"])
    assert manifest["overrides"] == [*TINY, "seed=5"]
    assert manifest["started"] <= manifest["ended"]
    assert len(manifest["git"]["commit"]) == 40 and isinstance(manifest["git"]["dirty"], bool)
    assert not (run / "backup").exists()  # a finished run keeps no resume backup


def test_rerun_is_identical_and_a_changed_override_is_detected(mlexp, tmp_path):
    run = first_run(mlexp, tmp_path, "trainer.deterministic=true")
    same = mlexp("rerun", str(run))
    assert same.code == 0, same.err
    assert "The rerun is identical to the original: every epoch of history.csv and every metric." in same.out
    assert "test_accuracy" in same.out and "  yes" in same.out
    rows = same.out[same.out.index("metric ") :].splitlines()[1:-1]  # below the header, above the verdict
    assert "samples.train" in same.out and len({len(line) for line in rows}) == 1  # every row lines up
    [rerun_dir] = (tmp_path / "outputs" / "reruns").iterdir()
    pd.testing.assert_frame_equal(pd.read_csv(run / "history.csv"), pd.read_csv(rerun_dir / "history.csv"))
    assert json.loads((rerun_dir / "manifest.json").read_text())["command"] == f"mlexp rerun {run}"

    changed = mlexp("rerun", str(run), "optimizer.learning_rate=0.01")
    assert changed.code == 1
    assert changed.err.startswith("mlexp rerun: the rerun differs from the original: first at epoch 1 on ")


def test_rerun_from_a_copied_directory_warns_about_versions(mlexp, tmp_path):
    run = first_run(mlexp, tmp_path)
    copy = tmp_path / "elsewhere" / "copied"
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["versions"]["keras"] = "3.0.0"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = mlexp("rerun", str(copy), "--no-verify")
    assert result.code == 0, result.err
    assert "mlexp rerun: warning: package versions differ from the original run: keras 3.0.0 -> 3." in result.err


def test_rerun_bad_input(mlexp, tmp_path):
    (tmp_path / "empty").mkdir()
    result = mlexp("rerun", str(tmp_path / "empty"))
    assert (result.code, result.err) == (
        1,
        f"mlexp rerun: {tmp_path}/empty is not a run directory (no resolved_config.yaml) nor a config file\n",
    )
    run = first_run(mlexp, tmp_path)
    group = mlexp("rerun", str(run), "optimizer=sgd")
    assert group.code == 1 and "switches a config group" in group.err
    bad = mlexp("rerun", str(run), "model.dropout=2")
    assert (bad.code, bad.err) == (
        2,
        "mlexp rerun: Config error at model.dropout: got 2; expected a number in [0, 1).\n",
    )


def test_sigterm_stops_after_the_batch_and_resume_matches_an_uninterrupted_run(mlexp, tmp_path, monkeypatch):
    import os
    import signal

    import keras

    from mlexp import callbacks

    # augmented: the draws are a function of (seed, epoch, batch), so they carry over the resume too
    args = ["trainer.epochs=4", "trainer.deterministic=true", "trainer.batch_size=16", "augmentation=images",
            "dataset.image_size=8"]  # fmt: skip
    full = first_run(mlexp, tmp_path, *args, name="full")

    class TerminateAfterEpoch2(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                os.kill(os.getpid(), signal.SIGTERM)

    original = callbacks.from_config
    monkeypatch.setattr(callbacks, "from_config", lambda *a: [*original(*a), TerminateAfterEpoch2()])
    handler_before = signal.getsignal(signal.SIGTERM)
    result = mlexp("train", *TINY, *args, "hydra.run.dir=outputs/cut")
    cut = tmp_path / "outputs" / "cut"
    assert result.code == 130
    assert result.err.endswith(
        "mlexp train: training stopped by SIGTERM after the current batch; history, checkpoints/interrupted.keras "
        f"and the last completed epoch are saved. Continue with: mlexp resume {cut}\n"
    )
    assert read_metrics(cut)["status"] == "interrupted"
    assert json.loads((cut / "manifest.json").read_text())["status"] == "interrupted"
    assert (cut / "checkpoints" / "interrupted.keras").is_file()
    state = json.loads((cut / "backup" / "state.json").read_text())
    assert state == {"epochs_completed": 2, "model": "model-0002.keras"}
    assert sorted(p.name for p in (cut / "backup").glob("*.keras")) == ["model-0001.keras", "model-0002.keras"]
    assert pd.read_csv(cut / "history.csv")["epoch"].tolist() == [1, 2]
    assert signal.getsignal(signal.SIGTERM) == handler_before  # GracefulStop put the handler back

    monkeypatch.undo()
    resumed = mlexp("resume", str(cut))
    assert resumed.code == 0, resumed.err
    pd.testing.assert_frame_equal(pd.read_csv(cut / "history.csv"), pd.read_csv(full / "history.csv"))
    expected = {k: v for k, v in read_metrics(full).items() if k not in ("wall_seconds", "fit_seconds")}
    assert {k: v for k, v in read_metrics(cut).items() if k not in ("wall_seconds", "fit_seconds")} == expected
    manifest = json.loads((cut / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    # A finished run looks like one that never failed; the stop stays in the manifest's history.
    assert not (cut / "error.txt").exists() and not (cut / "checkpoints/interrupted.keras").exists()
    assert manifest["interruptions"] == [
        {"status": "interrupted", "reason": "StopRequested: SIGTERM", "epochs_done": 2}
    ]
    again = mlexp("resume", str(cut))
    assert (again.code, again.out.strip()) == (0, f"{cut} already completed; nothing to resume.")


@pytest.mark.slow
def test_resume_sweep_runs_only_unfinished_jobs_and_rewrites_the_report(mlexp, tmp_path):
    assert mlexp("train", "-m", *TINY, "seed=1,2,3", "hydra.sweep.dir=outputs/sweep").code == 0
    sweep = tmp_path / "outputs" / "sweep"
    done = (sweep / "0" / "metrics.json").read_text()
    shutil.rmtree(sweep / "2")  # never started
    (sweep / "1" / "metrics.json").write_text(json.dumps({"status": "interrupted"}))
    (sweep / "summary.csv").unlink()
    result = mlexp("resume", str(sweep))
    assert result.code == 0, result.err
    assert (sweep / "0" / "metrics.json").read_text() == done  # skipped, untouched
    assert [read_metrics(sweep / n)["status"] for n in "012"] == ["completed"] * 3
    assert pd.read_csv(sweep / "summary.csv")["status"].tolist() == ["completed"] * 3
    assert len(run_dirs(sweep)) == 3


def test_resume_bad_input(mlexp, tmp_path):
    (tmp_path / "plain").mkdir()
    result = mlexp("resume", str(tmp_path / "plain"))
    assert result.code == 1
    assert result.err == (
        f"mlexp resume: {tmp_path}/plain is neither a run directory (resolved_config.yaml) "
        "nor a sweep (multirun.yaml)\n"
    )


@pytest.mark.slow
def test_sigterm_during_a_sweep_stops_the_sweep_and_resume_finishes_it(mlexp, tmp_path, monkeypatch):
    import os
    import signal

    import keras

    from mlexp import callbacks

    class TerminateAfterEpoch1(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            os.kill(os.getpid(), signal.SIGTERM)

    original = callbacks.from_config
    monkeypatch.setattr(callbacks, "from_config", lambda *a: [*original(*a), TerminateAfterEpoch1()])
    result = mlexp("train", "-m", *TINY, "trainer.epochs=3", "seed=1,2", "hydra.sweep.dir=outputs/sweep")
    sweep = tmp_path / "outputs" / "sweep"
    assert result.code == 130
    assert read_metrics(sweep / "0")["status"] == "interrupted"
    assert not (sweep / "1").exists()
    monkeypatch.undo()
    assert mlexp("resume", str(sweep)).code == 0
    assert pd.read_csv(sweep / "summary.csv")["status"].tolist() == ["completed", "completed"]
    assert pd.read_csv(sweep / "0" / "history.csv")["epoch"].tolist() == [1, 2, 3]
