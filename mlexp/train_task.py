"""The Hydra task behind `mlexp train`: the only code that reads Hydra's runtime state."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from omegaconf import DictConfig

from mlexp import tasks
from mlexp.config import validate
from mlexp.errors import ConfigError, Interrupted, MlexpError, report
from mlexp.hydra_app import Request

log = logging.getLogger("mlexp")


def run(argv: list[str], resume: bool = False) -> int:
    """mlexp train ARGV (and `mlexp resume SWEEP`, with resume=True): Hydra's command line, then the sweep's verdict."""
    import json
    import tempfile

    from mlexp.hydra_app import run_hydra

    with tempfile.TemporaryDirectory(prefix="mlexp-verdict-") as folder:
        verdict_file = Path(folder) / "verdict.json"  # written by the sweep report, when a multirun ends
        settings = [f"hydra.callbacks.sweep_report.verdict={verdict_file}"]
        code = run_hydra(train_task, "train", argv, prog="mlexp train", resume=resume, settings=settings)
        verdict = json.loads(verdict_file.read_text(encoding="utf-8")) if verdict_file.is_file() else None
    if code == 0 and verdict is not None and verdict["failed"]:
        for job in verdict["failed"]:
            print(f"mlexp train: job {job['job']} failed: {job['reason']}", file=sys.stderr)
        failed = len(verdict["failed"])
        print(
            f"mlexp train: {failed} of {verdict['jobs']} sweep jobs failed; report: {verdict['report']}",
            file=sys.stderr,
        )
        return 1
    return code


def train_task(cfg: DictConfig, request: Request) -> float | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra_cfg = HydraConfig.get()
    single_run = hydra_cfg.mode == RunMode.RUN
    run_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        return _train(cfg, run_dir, single_run, request)
    except Interrupted as exc:
        if single_run:
            raise SystemExit(report("mlexp train", exc)) from None
        sweep_dir = run_dir.parent
        log.error("%s\nThe sweep stops here; continue it with: mlexp resume %s", exc, sweep_dir)
        raise KeyboardInterrupt from None  # Hydra's launcher would otherwise go on to the next job
    except MlexpError as exc:
        if not single_run:
            return _job_failed(run_dir, exc)
        raise SystemExit(report("mlexp train", exc)) from None
    except Exception as exc:
        if not single_run:
            return _job_failed(run_dir, exc)
        raise


def _job_failed(run_dir: Path, exc: Exception) -> None:
    """A sweep job that failed records why in its own folder; the sweep goes on and its report says so.

    (Raising would make Hydra's sweeper stop before the end-of-sweep report.)
    """
    from mlexp.runs import METRICS, RunDir

    run = RunDir(run_dir)
    if not run.file(METRICS).exists():  # training writes its own failures; config errors come earlier
        run.write_failure(exc, "failed")
    log.error("Job %s failed: %s", run_dir.name, exc)
    return None


def _train(cfg: DictConfig, run_dir: Path, single_run: bool, request: Request) -> float | None:
    from hydra.core.hydra_config import HydraConfig

    try:
        return _validate_and_train(cfg, run_dir, HydraConfig.get(), request)
    except MlexpError:
        if single_run:
            from mlexp.runs import discard_if_empty

            discard_if_empty(run_dir)  # nothing ran: leave no empty run folder behind
        raise


def _validate_and_train(cfg: DictConfig, run_dir: Path, hydra_cfg, request: Request) -> float | None:
    _check_search(cfg, hydra_cfg.runtime.choices)
    run_cfg = validate(cfg)
    _check_seeds(cfg, hydra_cfg)

    from mlexp.runs import FINISHED, METRICS, RunDir
    from mlexp.training import train  # imports TensorFlow

    overrides = list(hydra_cfg.overrides.task)
    done = RunDir(run_dir).read_json(METRICS) if request.resume else {}
    if done.get("status") in FINISHED:
        log.info("Job %s already %s; skipped", run_dir.name, done["status"])
        return done.get(f"best_{_objective(cfg, tasks.score(done))}")
    metrics = train(run_cfg, run_dir, command=list(request.command), overrides=overrides, resume=request.resume)
    log.info("Run directory: %s", run_dir)
    score = tasks.score(metrics)
    log.info("Test %s: %.4f (test loss %.4f)", score, metrics[f"test_{score}"], metrics["test_loss"])
    return metrics.get(f"best_{_objective(cfg, score)}")


def _check_search(cfg: DictConfig, choices) -> None:
    if cfg.get("search_space") and choices.get("hparams_search") in (None, "null"):
        raise ConfigError(
            "search_space", cfg.search_space.name,
            "no search space for a single run: add -m hparams_search=optuna, or run mlexp tune search_space=NAME",
        )  # fmt: skip


def _check_seeds(cfg: DictConfig, hydra_cfg) -> None:
    """sweep.seeds repeats a sweep's configs: it needs -m (the sweep report's callback checks the sweeper)."""
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    seeds = OmegaConf.select(cfg, "sweep.seeds", default=1)
    if seeds == 1:
        return
    if hydra_cfg.mode == RunMode.RUN:
        raise ConfigError(
            "sweep.seeds", seeds, f"1 for a single run; add -m to run every config with seeds 0..{seeds - 1}"
        )


def _objective(cfg: DictConfig, score: str = "accuracy") -> str:
    """What a sweeper optimizes: the search space's validation metric (the task's score without one)."""
    return cfg.search_space.objective if cfg.get("search_space") else f"val_{score}"
