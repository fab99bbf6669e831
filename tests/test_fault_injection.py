"""SIGKILL at random moments of real runs (epochs, backups, the final writes): nothing half-written is
left among the results, every file parses, and `mlexp resume` finishes with each epoch once (slow)."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image
from test_console import MLEXP, mlexp

pytestmark = pytest.mark.slow

EPOCHS = 25
ARGS = ["train", "dataset=synthetic", f"trainer.epochs={EPOCHS}", "model.hidden_units=[16]", "trainer.verbose=0"]
KILLS = 20


def check_every_file_parses(run: Path) -> None:
    for path in run.rglob("*"):
        if not path.is_file() or {"tensorboard", ".tmp"} & set(path.relative_to(run).parts):
            continue  # TensorBoard appends its event records itself; .tmp/ holds what a kill cut short
        hidden = [part for part in path.relative_to(run).parts if part.startswith(".") and part != ".hydra"]
        assert not hidden, f"a temp file among the results: {path}"
        suffix = path.suffix
        if suffix == ".json":
            json.loads(path.read_text())
        elif suffix == ".csv":
            assert len(pd.read_csv(path)) > 0, path
        elif suffix == ".yaml":
            yaml.safe_load(path.read_text())
        elif suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                assert archive.testzip() is None, path
        elif suffix == ".png":
            with Image.open(path) as image:
                image.verify()
        elif suffix == ".npz":  # plots/pending.npz: what the run's figures need, until they are drawn
            with np.load(path, allow_pickle=False) as saved:
                assert all(saved[name] is not None for name in saved.files), path
        else:
            path.read_text(encoding="utf-8")


def manifest(run: Path) -> dict:
    try:
        return json.loads((run / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


def kill_after_start(args: list[str], cwd: Path, started, delay: float) -> bool:
    """Start mlexp; once `started()` holds (its work began), SIGKILL it after `delay` s. False if it ended first."""
    proc = subprocess.Popen([MLEXP, *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not started() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def test_sigkill_at_random_moments_then_resume(tmp_path):
    reference = tmp_path / "reference"
    proc = subprocess.Popen([MLEXP, *ARGS, "hydra.run.dir=reference"], cwd=tmp_path, stdout=subprocess.DEVNULL)
    while not (reference / "manifest.json").exists() and proc.poll() is None:
        time.sleep(0.01)
    began = time.monotonic()
    assert proc.wait(timeout=300) == 0
    work = time.monotonic() - began  # from the run's first files to its exit: epochs, backups, final writes
    rng = random.Random(20261130)
    kills, runs = 0, 0
    while kills < KILLS and runs < 2 * KILLS:  # a moment after the process ended kills nothing: try again
        run = tmp_path / f"run{runs}"
        runs += 1
        command, started = [*ARGS, f"hydra.run.dir={run.name}"], lambda run=run: (run / "manifest.json").exists()
        for share in (1.0, 0.5):  # kill the run, then kill its resume (which has less left to do)
            kills += kill_after_start(command, tmp_path, started, rng.uniform(0, share * work))
            if run.exists():
                check_every_file_parses(run)
            before = manifest(run).get("resumed")
            command = ["resume", run.name]
            started = lambda run=run, before=before: manifest(run).get("resumed") not in (None, before)  # noqa: E731
        resumed = mlexp(tmp_path, "resume", run.name)
        assert resumed.returncode == 0, resumed.stderr
        check_every_file_parses(run)
        assert pd.read_csv(run / "history.csv")["epoch"].tolist() == list(range(1, EPOCHS + 1))
        assert json.loads((run / "metrics.json").read_text())["status"] == "completed"
        assert manifest(run)["status"] == "completed"
        assert not (run / ".tmp").exists() and not (run / "backup").exists()
    assert kills >= KILLS, f"{kills} kills in {runs} runs"
