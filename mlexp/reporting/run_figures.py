"""A run's own figures (learning curves and the debug figures), drawn now or while a sweep trains on.

A run saves what its figures need (history, test labels and predictions, the misclassified images) in
plots/pending.npz, then draws them: at once, or, for the jobs of a sweep in the launching process, in one
background drawing process while the next job trains (matplotlib's savefig was half of a short job's
time). The sweep's report waits for the drawings before it is written. A pending file left by a killed
sweep (or a failed drawing) is drawn by `mlexp compare` and `mlexp report`; every figure is written
through the run's `.tmp/`, so no half-drawn figure is ever left.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from mlexp import runs
from mlexp.errors import first_line

log = logging.getLogger(__name__)

PENDING = "plots/pending.npz"
_drawer = None  # the background drawing process of a sweep, while one runs (start_background)
_submitted: list = []  # (run folder, future) drawn or being drawn by it


def defer(run: runs.RunDir, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Save what the run's figures need, then draw them (in the background while a sweep runs)."""
    save(run, meta, arrays)
    if _drawer is None:
        draw(run.path)
    else:
        _submitted.append((run.path, _drawer.submit(_draw_in_drawer, str(run.path))))


def save(run: runs.RunDir, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """plots/pending.npz: `meta` (history rows, title, score, task, class names) and the debug arrays."""
    with runs.atomic_path(run.file(PENDING)) as tmp, open(tmp, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta, default=float)), **arrays)


def draw(run_dir: Path | str) -> list[str]:
    """Draw a run's pending figures (plots/pending.npz), then remove that file; the figures' names."""
    from mlexp.reporting import debug
    from mlexp.reporting.plots import learning_curves

    run = runs.RunDir(run_dir)
    with np.load(run.file(PENDING), allow_pickle=False) as saved:
        meta = json.loads(str(saved["meta"]))
        arrays = {name: saved[name] for name in saved.files if name != "meta"}
    learning_curves(meta["rows"], run.file(runs.CURVES), meta["title"], meta["score"])
    drawn = debug.draw(run.file("plots"), meta["task"], meta["class_names"], arrays)
    run.file(PENDING).unlink(missing_ok=True)
    return [runs.CURVES, *(f"plots/{name}" for name in drawn)]


def _draw_in_drawer(run_dir: str) -> list[str]:
    """The background process's work: this module imported afresh there, never TensorFlow."""
    return draw(run_dir)


def draw_missing(run_dirs) -> None:
    """Draw the figures that runs left pending (a killed sweep, a failed drawing); a failure is a warning.
    Runs the background drawer has in hand are left to it."""
    in_hand = {Path(run_dir).resolve() for run_dir, _ in _submitted}
    for run_dir in run_dirs:
        if (Path(run_dir) / PENDING).is_file() and Path(run_dir).resolve() not in in_hand:
            try:
                draw(run_dir)
            except Exception as exc:  # noqa: BLE001 - a damaged file: the run's numbers are still there
                log.warning("Figures of %s not drawn: %s: %s", run_dir, type(exc).__name__, first_line(exc))


def start_background() -> None:
    """Draw the figures of the jobs that train in this process in one background process (spawned: it
    never loads TensorFlow), until finish_background()."""
    global _drawer
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if _drawer is None:
        _drawer = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def finish_background() -> None:
    """Wait for the background drawings; a run whose drawing failed is drawn here, or keeps its pending file."""
    global _drawer
    if _drawer is None:
        return
    failed = []
    for run_dir, future in _submitted:
        try:
            future.result()
        except Exception as exc:  # noqa: BLE001 - the process died, or a drawing raised: try once more here
            log.warning("Drawing the figures of %s in the background failed (%s); drawing them now", run_dir, exc)
            failed.append(run_dir)
    _drawer.shutdown()
    _drawer = None
    _submitted.clear()
    draw_missing(failed)
