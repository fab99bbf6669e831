"""The Hydra task behind `mlexp tune`: one search per call, in Hydra's run directory (the session)."""

from __future__ import annotations

import logging
import shlex

from omegaconf import DictConfig

from mlexp.errors import Carried, MlexpError
from mlexp.hydra_app import Request, job

log = logging.getLogger("mlexp")


def tune_task(cfg: DictConfig, request: Request) -> None:
    """One search in Hydra's run folder (the session); errors leave as exceptions, for cli to word."""
    state = job()
    if not state.single_run:
        raise Carried(MlexpError(
            "-m/--multirun: got a sweep; expected one search per mlexp tune (its trials are the sweep: "
            "tuner.max_trials=N)"
        ))  # fmt: skip
    session = state.output_dir
    from mlexp.tuning.session import BEST_CONFIG, REPORT, tune

    command = list(request.command)
    overrides = list(state.overrides)
    try:
        summary = tune(cfg, session, command, overrides)
    except MlexpError as exc:
        raise Carried(exc) from None
    log.info("Best trial %s: %s", summary["best_trial"], summary["best_values"])
    log.info("Report: %s; best config: %s", session / REPORT, session / BEST_CONFIG)
    from mlexp.hydra_app import config_flags

    words = [*config_flags(state.hydra), *(o for o in overrides if not o.startswith("hydra.run.dir="))]
    log.info("Continue this search (more trials: tuner.max_trials=N): mlexp tune %s hydra.run.dir=%s",
             " ".join(shlex.quote(w) for w in words), session)  # fmt: skip
