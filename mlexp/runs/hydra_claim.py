"""The Hydra callback that claims a run or sweep folder before anything is written into it, Hydra's own
`.hydra/` included: Hydra writes `.hydra/` (and the sweep's `multirun.yaml`) before the task runs, so
the claim happens at `on_run_start` / `on_multirun_start`. The claim itself is runs.claim."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from mlexp.errors import Carried, MlexpError
from mlexp.runs import claim


class ClaimOutputDir(Callback):
    """Refuse a run folder or sweep folder that already holds something, before Hydra writes to it.

    With tuning_session=true (mlexp tune), a folder holding a tuning session is accepted: the same
    command with its hydra.run.dir continues that search. resume=true (set by `mlexp resume SWEEP`)
    accepts the sweep folder. A sweep's job folders are new folders inside the claimed sweep folder.
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
        raise Carried(exc) from None
