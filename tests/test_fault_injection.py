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

import pandas as pd
import pytest
import yaml
from PIL import Image
from test_console import MLEXP, mlexp

pytestmark = pytest.mark.slow

EPOCHS = 25
ARGS = ["train", "dataset=synthetic", f"trainer.epochs={EPOCHS}", "model.hidden_units=[16]", "trainer.verbose=0"]
KILLS_PER_RUN, RUNS = 2, 10  # 20 kills in all


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
        else:
            path.read_text(encoding="utf-8")


def kill_at(delay: float, args: list[str], cwd: Path) -> bool:
    """Start mlexp, SIGKILL it after `delay` seconds; False if it had already finished."""
    proc = subprocess.Popen([MLEXP, *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def test_sigkill_at_random_moments_then_resume(tmp_path):
    started = time.monotonic()
    assert mlexp(tmp_path, *ARGS, "hydra.run.dir=reference").returncode == 0
    wall = time.monotonic() - started  # start-up (imports) is the first part; training and the final writes follow
    rng = random.Random(20261130)
    kills = 0
    for i in range(RUNS):
        run = tmp_path / f"run{i}"
        command = [*ARGS, f"hydra.run.dir={run.name}"]
        for _ in range(KILLS_PER_RUN):
            killed = kill_at(rng.uniform(0.35 * wall, 1.05 * wall), command, tmp_path)
            kills += killed
            if run.exists():
                check_every_file_parses(run)
            command = ["resume", run.name]
        resumed = mlexp(tmp_path, "resume", run.name)
        assert resumed.returncode == 0, resumed.stderr
        check_every_file_parses(run)
        assert pd.read_csv(run / "history.csv")["epoch"].tolist() == list(range(1, EPOCHS + 1))
        assert json.loads((run / "metrics.json").read_text())["status"] == "completed"
        assert json.loads((run / "manifest.json").read_text())["status"] == "completed"
        assert not (run / ".tmp").exists() and not (run / "backup").exists()
    assert kills >= RUNS  # most moments fall inside a run; a few may come after it ended
