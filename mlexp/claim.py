"""Claim an output folder before anything is written into it, Hydra's own `.hydra/` included.

Hydra writes `.hydra/` (and the sweep's `multirun.yaml`) before the task runs, so the check has to
happen in a Hydra callback, at `on_run_start` / `on_multirun_start`. Hydra turns a callback's
exceptions into warnings; the refusal therefore travels as `Refused`, a BaseException that
`hydra_app.run_hydra` unwraps into the MlexpError it carries.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from mlexp.errors import MlexpError
from mlexp.runs import FolderTaken, occupant

MIN_FREE_BYTES = 16 * 2**20  # below this a run cannot even write its model; refuse at start


class Refused(BaseException):  # noqa: N818 (a control-flow signal, not an error class)
    """Carries an MlexpError through Hydra's callback runner, which swallows Exceptions."""

    def __init__(self, error: MlexpError):
        super().__init__(str(error))
        self.error = error


class ClaimOutputDir(Callback):
    """Refuse a run folder or sweep folder that already holds something, before Hydra writes to it.

    With tuning_session=true (mlexp tune), a folder holding a tuning session is accepted: the same
    command with its hydra.run.dir continues that search. resume=true (set by `mlexp resume SWEEP`)
    accepts the sweep folder.
    """

    def __init__(self, tuning_session: bool = False, resume: bool = False):
        self.tuning_session, self.resume = tuning_session, resume

    def on_run_start(self, config, **kwargs: Any) -> None:
        path = Path(str(config.hydra.run.dir))
        if self.tuning_session and (path / "keras_tuner").is_dir():
            return
        _guard(lambda: claim(path, "hydra.run.dir", sweep=False))

    def on_multirun_start(self, config, **kwargs: Any) -> None:
        if not self.resume:  # `mlexp resume SWEEP` relaunches into its own folder on purpose
            _guard(lambda: claim(Path(str(config.hydra.sweep.dir)), "hydra.sweep.dir", sweep=True))


def _guard(check) -> None:
    try:
        check()
    except MlexpError as exc:
        raise Refused(exc) from None


def claim(path: Path, key: str, sweep: bool) -> None:
    """Create `path` as a new or empty folder with room to write; raise FolderTaken otherwise."""
    if path.exists() and not path.is_dir():
        raise FolderTaken(f"{key}: got {str(path)!r}, which is a file; expected a new or empty folder")
    if path.is_dir() and any(path.iterdir()):
        raise FolderTaken(f"{key}: got {str(path)!r}, {occupant(path, sweep)}")
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(path).free
    except OSError as exc:
        raise MlexpError(
            f"{key}: cannot create {str(path)!r} ({exc.strerror or exc}); choose a folder you can write, "
            f"e.g. {key}=outputs/mine"
        ) from None
    if not os.access(path, os.W_OK):
        raise MlexpError(
            f"{key}: {str(path)!r} is not writable; choose a folder you can write, e.g. {key}=outputs/mine"
        )
    if free < MIN_FREE_BYTES:
        if created:
            path.rmdir()
        raise MlexpError(
            f"{key}: the disk holding {str(path)!r} is full ({free // 2**20} MiB free, at least "
            f"{MIN_FREE_BYTES // 2**20} MiB needed); free some space or choose a folder on another disk"
        )
