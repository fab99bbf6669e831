"""Hydra callback: when a multirun ends, write its comparison report into the sweep directory."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback

from mlexp.errors import Carried, MlexpError, SweepFailed

log = logging.getLogger("mlexp")


class SweepReport(Callback):
    """The report of a multirun, written when it ends (in the launching process, with any launcher).
    Failed jobs make the sweep fail: SweepFailed, carried past Hydra's callback runner to mlexp's exit code."""

    def on_multirun_start(self, config, **kwargs: Any) -> None:
        """sweep.seeds needs mlexp's sweeper (which adds the seeds): say so before any job runs."""
        from omegaconf import OmegaConf

        from mlexp.errors import ConfigError

        seeds = OmegaConf.select(config, "sweep.seeds", default=1)
        target = str(OmegaConf.select(config, "hydra.sweeper._target_", default=""))
        if seeds != 1 and not target.startswith("hydra_plugins.mlexp_sweeper."):
            chosen = config.hydra.runtime.choices.get("hydra/sweeper")
            expected = f"1 with hydra/sweeper={chosen} (only mlexp's sweeper adds seeds)"
            error = ConfigError("sweep.seeds", seeds, expected)
            raise Carried(error)  # Hydra turns a callback's Exception into a warning
        from mlexp.reporting import run_figures

        run_figures.start_background()  # jobs in this process draw their figures while the next one trains
        if not str(OmegaConf.select(config, "hydra.launcher._target_", default="")).endswith(".BasicLauncher"):
            _import_report_modules_meanwhile()  # the jobs run in other processes: this one waits for them

    def on_multirun_end(self, config, **kwargs: Any) -> None:
        from mlexp.reporting import run_figures
        from mlexp.reporting.compare import REPORT, compare
        from mlexp.reporting.html import REPORT as HTML

        sweep_dir = Path(config.hydra.sweep.dir)
        _stop_idle_workers()
        try:
            comparison = compare([sweep_dir], sweep_dir)  # needs no run's own figures: while the last are drawn
        except MlexpError as exc:
            log.warning("No sweep report: %s", exc)
            return
        finally:
            run_figures.finish_background()
        counts = comparison.table["status"].value_counts().to_dict()
        if comparison.summary:
            log.info("Verdict: %s", comparison.summary)
        log.info(
            "Sweep report: %s (and %s; %s)", sweep_dir / HTML, REPORT, ", ".join(f"{n} {s}" for s, n in counts.items())
        )
        if comparison.failed:
            lines = [f"job {record.path.name} failed: {record.reason}" for record in comparison.failed]
            lines.append(
                f"{len(comparison.failed)} of {len(comparison.records)} sweep jobs failed; report: {sweep_dir / HTML}"
            )
            raise Carried(SweepFailed(lines))


def _stop_idle_workers() -> None:
    """The joblib launcher's worker processes idle once the sweep's jobs are done (every job's files written
    before it returned): stop them now rather than wait at exit while each tears its TensorFlow down (2 s)."""
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(loky, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def _import_report_modules_meanwhile() -> None:
    """Import what the sweep report needs (pandas, SciPy: 1.5 s) in a thread while the launcher's
    workers train, not after the last job."""
    import importlib
    import threading

    threading.Thread(target=importlib.import_module, args=("mlexp.reporting.compare",), daemon=True).start()
