"""The Hydra task behind `mlexp tune`: one search per call, in Hydra's run directory (the session)."""

from __future__ import annotations

import logging
import shlex
from pathlib import Path

from omegaconf import DictConfig

from mlexp.errors import MlexpError, report
from mlexp.hydra_app import Request

log = logging.getLogger("mlexp")


def tune_task(cfg: DictConfig, request: Request) -> None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.RUN:
        raise SystemExit(report("mlexp tune", MlexpError(
            "-m/--multirun: got a sweep; expected one search per mlexp tune (its trials are the sweep: "
            "tuner.max_trials=N)"
        )))  # fmt: skip
    session = Path(hydra_cfg.runtime.output_dir)
    from mlexp.tuning.session import BEST_CONFIG, REPORT, tune

    command = list(request.command)
    overrides = list(hydra_cfg.overrides.task)
    try:
        summary = tune(cfg, session, command, overrides)
    except MlexpError as exc:
        raise SystemExit(report("mlexp tune", exc)) from None
    log.info("Best trial %s: %s", summary["best_trial"], summary["best_values"])
    log.info("Report: %s; best config: %s", session / REPORT, session / BEST_CONFIG)
    from mlexp.hydra_app import config_flags

    words = [*config_flags(hydra_cfg), *(o for o in overrides if not o.startswith("hydra.run.dir="))]
    log.info("Continue this search (more trials: tuner.max_trials=N): mlexp tune %s hydra.run.dir=%s",
             " ".join(shlex.quote(w) for w in words), session)  # fmt: skip
