"""The Hydra task behind `mlexp train`: a run or a sweep job from Hydra's state (hydra_app.job())."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from mlexp import tasks
from mlexp.config import validate
from mlexp.errors import Carried, ConfigError, Interrupted, MlexpError
from mlexp.hydra_app import Job, Request, job

log = logging.getLogger("mlexp")


def run(argv: list[str], resume: bool = False) -> int:
    """mlexp train ARGV (and `mlexp resume SWEEP`, with resume=True): Hydra's command line. Errors leave as
    exceptions (a sweep with failed jobs: SweepFailed, raised by its report at the sweep's end)."""
    from mlexp.hydra_app import run_hydra

    return run_hydra(train_task, "train", argv, prog="mlexp train", resume=resume)


def train_task(cfg: DictConfig, request: Request) -> float | None:
    """A run, or a sweep's job; returns the objective a sweeper optimizes."""
    from mlexp.runs import discard_if_empty

    state = job()
    try:
        return _validate_and_train(cfg, state, request)
    except Interrupted as exc:
        if state.single_run:
            raise Carried(exc) from None
        log.error("%s\nThe sweep stops here; continue it with: mlexp resume %s", exc, state.output_dir.parent)
        raise KeyboardInterrupt from None  # Hydra's launcher would otherwise go on to the next job
    except Exception as exc:
        if not state.single_run:
            return _job_failed(state.output_dir, exc)  # the sweep goes on; its report says why
        if isinstance(exc, MlexpError):
            discard_if_empty(state.output_dir)  # nothing ran: leave no empty run folder behind
            raise Carried(exc) from None
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


def _validate_and_train(cfg: DictConfig, state: Job, request: Request) -> float | None:
    _check_search(cfg, state.choices)
    run_cfg = validate(cfg)
    _check_seeds(cfg, state)

    from mlexp.runs import FINISHED, METRICS, RunDir
    from mlexp.training import train  # imports TensorFlow

    run_dir, overrides = state.output_dir, list(state.overrides)
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


def _check_seeds(cfg: DictConfig, state: Job) -> None:
    """sweep.seeds repeats a sweep's configs: it needs -m (the sweep report's callback checks the sweeper)."""
    from omegaconf import OmegaConf

    seeds = OmegaConf.select(cfg, "sweep.seeds", default=1)
    if seeds == 1:
        return
    if state.single_run:
        raise ConfigError(
            "sweep.seeds", seeds, f"1 for a single run; add -m to run every config with seeds 0..{seeds - 1}"
        )


def _objective(cfg: DictConfig, score: str = "accuracy") -> str:
    """What a sweeper optimizes: the search space's validation metric (the task's score without one)."""
    return cfg.search_space.objective if cfg.get("search_space") else f"val_{score}"
