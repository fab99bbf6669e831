"""Hydra callback: when a multirun ends, write its comparison report into the sweep directory."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from mlexp.errors import MlexpError

log = logging.getLogger("mlexp")


class SweepReport(Callback):
    def __init__(self, verdict: str | None = None) -> None:
        # The file mlexp train named for the verdict: the callback runs in the launching process (also
        # with joblib), but Hydra returns nothing from a multirun, so the verdict travels through it.
        self.verdict = Path(verdict) if verdict else None

    def on_multirun_start(self, config, **kwargs: Any) -> None:
        """sweep.seeds needs mlexp's sweeper (which adds the seeds): say so before any job runs."""
        from omegaconf import OmegaConf

        from mlexp.claim import Refused
        from mlexp.errors import ConfigError

        seeds = OmegaConf.select(config, "sweep.seeds", default=1)
        target = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
        if seeds != 1 and not target.startswith("hydra_plugins.mlexp_sweeper."):
            chosen = config.hydra.runtime.choices.get("hydra/sweeper")
            expected = f"1 with hydra/sweeper={chosen} (only mlexp's sweeper adds seeds)"
            error = ConfigError("sweep.seeds", seeds, expected)
            raise Refused(error)  # Hydra turns a callback's Exception into a warning

    def on_multirun_end(self, config, **kwargs: Any) -> None:
        from mlexp.reporting.compare import REPORT, compare
        from mlexp.reporting.html import REPORT as HTML

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            comparison = compare([sweep_dir], sweep_dir)
        except MlexpError as exc:
            log.warning("No sweep report: %s", exc)
            return
        if self.verdict is not None:
            failed = [{"job": record.path.name, "reason": record.reason} for record in comparison.failed]
            verdict = {"report": str(sweep_dir / HTML), "jobs": len(comparison.records), "failed": failed}
            self.verdict.write_text(json.dumps(verdict), encoding="utf-8")
        counts = comparison.table["status"].value_counts().to_dict()
        if comparison.summary:
            log.info("Verdict: %s", comparison.summary)
        log.info(
            "Sweep report: %s (and %s; %s)", sweep_dir / HTML, REPORT, ", ".join(f"{n} {s}" for s, n in counts.items())
        )
