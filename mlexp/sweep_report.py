"""Hydra callback: when a multirun ends, write its comparison report into the sweep directory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from mlexp.errors import MlexpError

log = logging.getLogger("mlexp")

# The last report written in this process, for the CLI's exit code (the callback runs in the
# launching process, also with the joblib launcher).
LAST: dict[str, Any] = {}


class SweepReport(Callback):
    def on_multirun_end(self, config, **kwargs: Any) -> None:
        from mlexp.reporting.compare import REPORT, compare

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            comparison = compare([sweep_dir], sweep_dir)
        except MlexpError as exc:
            log.warning("No sweep report: %s", exc)
            return
        LAST.update(comparison=comparison, directory=sweep_dir)
        counts = comparison.table["status"].value_counts().to_dict()
        log.info("Sweep report: %s (%s)", sweep_dir / REPORT, ", ".join(f"{n} {s}" for s, n in counts.items()))
