"""A run's own figures (learning curves and the debug figures), drawn now or while a sweep trains on.

A run saves what its figures need (history, test labels and predictions, the misclassified images) in
plots/pending.npz, then draws them: at once, or, for the jobs of a sweep in the launching process, in one
background drawing process while the next job trains (matplotlib's savefig was half of a short job's
time). The sweep waits for the drawings before it ends (its report, which needs none of them, is written
meanwhile). A pending file left by a killed
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
_background = False  # a sweep in this process draws in the background (start_background .. finish_background)
_drawer = None  # the drawing process, started when the first run is sent to it
_submitted: list[Path] = []  # the run folders sent to it


def defer(run: runs.RunDir, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """Save what the run's figures need, then draw them (in the background while a sweep runs)."""
    save(run, meta, arrays)
    if not _background:
        draw(run.path)
    else:
        _send(run.path)


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


def draw_missing(run_dirs) -> None:
    """Draw the figures that runs left pending (a killed sweep, a failed drawing); a failure is a warning.
    Runs the background drawer has in hand are left to it."""
    in_hand = {Path(run_dir).resolve() for run_dir in _submitted} if _background else set()
    for run_dir in run_dirs:
        if (Path(run_dir) / PENDING).is_file() and Path(run_dir).resolve() not in in_hand:
            try:
                draw(run_dir)
            except Exception as exc:  # noqa: BLE001 - a damaged file: the run's numbers are still there
                log.warning("Figures of %s not drawn: %s: %s", run_dir, type(exc).__name__, first_line(exc))


def start_background() -> None:
    """Draw the figures of the jobs that train in this process in one background process until
    finish_background(). Jobs in other processes (the joblib launcher's) draw their own."""
    global _background
    _background = True


def _send(run_dir: Path) -> None:
    """Hand a run to the drawer: `python -m mlexp.reporting.run_figures`, reading run folders on its standard
    input (a process of its own: multiprocessing's would re-import the caller's main script); it never
    loads TensorFlow."""
    global _drawer
    import subprocess
    import sys

    if _drawer is None:
        command = [sys.executable, "-m", "mlexp.reporting.run_figures"]
        _drawer = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        _drawer.stdin.write(f"{Path(run_dir).resolve()}\n")
        _drawer.stdin.flush()
    except OSError:  # the drawer died: the sweep's end draws what it did not
        pass
    _submitted.append(Path(run_dir))


def finish_background() -> None:
    """Wait for the background drawings; what the drawer did not draw (its pending file is still there) is
    drawn here, or keeps its pending file with a warning."""
    global _background, _drawer
    if not _background:
        return
    drawer, _drawer, _background = _drawer, None, False
    if drawer is not None:
        try:
            drawer.stdin.close()  # it draws what it was sent, then ends
        except OSError:
            pass
        drawer.wait()
    left = [run_dir for run_dir in _submitted if (run_dir / PENDING).is_file()]
    _submitted.clear()
    draw_missing(left)


def _serve() -> None:
    """The background drawer: one run folder per input line; a drawing that fails is said on stderr and
    left pending (the sweep's end draws it again)."""
    import sys

    try:
        for line in sys.stdin:
            try:
                draw(line.strip())
            except Exception as exc:  # noqa: BLE001 - any failure: the run keeps its pending file
                print(f"Figures of {line.strip()} not drawn: {type(exc).__name__}: {first_line(exc)}", file=sys.stderr)
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: the sweep says what to do, not us
        pass


if __name__ == "__main__":
    _serve()
