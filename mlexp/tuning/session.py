"""mlexp tune: a keras-tuner search whose trials are ordinary mlexp runs.

Session folder: keras_tuner/ (the oracle's state: the same command on the same folder continues),
trials/trial_NN/ (one run directory per trial), trials.csv, best_hyperparameters.yaml,
best_config.yaml, comparison.md with summary.csv and plots/, tune_report.md, and retrain/ with
tuner.retrain_best=true.
"""

from __future__ import annotations

import logging
import math
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from mlexp import runs
from mlexp.config import validate
from mlexp.errors import ConfigError, MlexpError
from mlexp.lazy import lazy
from mlexp.tuning.space import SearchSpace

pd = lazy("pandas")

log = logging.getLogger("mlexp")


TRIALS = "trials.csv"
BEST_HP = "best_hyperparameters.yaml"
BEST_CONFIG = "best_config.yaml"
REPORT = "tune_report.md"
HYPERBAND_EPOCHS = "tuner/epochs"  # the epoch budget that keras-tuner's Hyperband gives a trial


def tune(cfg: DictConfig, session: Path, command: list[str], overrides: list[str]) -> dict[str, Any]:
    from mlexp.tuning import space as space_module
    from mlexp.tuning.settings import check_tuner

    base = validate(cfg)  # the run config: the search's own keys are left out
    space = space_module.parse(cfg.search_space, base)
    settings = check_tuner(cfg.tuner, space)
    session.mkdir(parents=True, exist_ok=True)
    search = _make_search(settings, space, base, session, command, overrides)
    done_before = sum(t.status == "COMPLETED" for t in search.oracle.trials.values())
    if done_before:
        log.info("Continuing the search in %s: %d trials already completed", session, done_before)
    try:
        search.search()
    except RuntimeError as exc:  # keras-tuner's limit on consecutive failed trials
        if "consecutive failures" not in str(exc):
            raise
        log.error("The search stopped: %s", str(exc).splitlines()[0])
    return write_results(search, settings, space, session)


def _make_search(settings, space: SearchSpace, base: DictConfig, session: Path, command, overrides):
    from mlexp.tf_runtime import import_keras

    # first: it keeps TensorFlow's start-up banner off the console; every trial runs in this process
    import_keras(base.trainer.get("backend", "tensorflow"))
    import keras_tuner as kt

    from mlexp.compat import quiet_keras_tuner

    quiet_keras_tuner()

    hp = kt.HyperParameters()
    space.declare(hp)
    objective = kt.Objective(settings.objective, settings.direction)
    common = {
        "objective": objective,
        "hyperparameters": hp,
        "allow_new_entries": False,
        "tune_new_entries": False,
        "seed": settings.seed,
        "max_consecutive_failed_trials": settings.max_consecutive_failed_trials,
    }
    if settings.name == "random_search":
        oracle = kt.oracles.RandomSearchOracle(max_trials=settings.max_trials, **common)
    elif settings.name == "bayesian":
        oracle = kt.oracles.BayesianOptimizationOracle(
            max_trials=settings.max_trials, num_initial_points=settings.num_initial_points, **common
        )
    else:
        oracle = kt.oracles.HyperbandOracle(
            max_epochs=settings.max_epochs, factor=settings.factor, hyperband_iterations=1, **common
        )
    search_class = _search_class()
    return search_class(
        oracle, space=space, base=base, session=session, command=command, overrides=overrides,
        directory=str(session), project_name="keras_tuner", overwrite=False,
    )  # fmt: skip


def _search_class():
    import keras_tuner as kt

    class Search(kt.engine.base_tuner.BaseTuner):
        """Each trial: the run config with the trial's values, validated, trained by mlexp's train()."""

        def __init__(self, oracle, *, space, base, session, command, overrides, **kwargs):
            self.space, self.base, self.session = space, base, Path(session)
            self.command, self.overrides = command, overrides
            super().__init__(oracle, hypermodel=None, **kwargs)

        def run_trial(self, trial, *args, **kwargs):
            return run_trial(self, trial)

        def on_trial_end(self, trial):
            if trial.message:  # keras-tuner keeps a traceback; the trial folder has it, the console gets one line
                trial.message = trial.message.strip().splitlines()[-1]
            super().on_trial_end(trial)
            score = trial.score if trial.score is not None else float("nan")
            log.info("Trial %s: %s, %s = %.4f", trial.trial_id, trial.status, self.oracle.objective.name, score)

    return Search


def trial_dir(session: Path, trial_id: str) -> Path:
    return session / "trials" / f"trial_{trial_id}"


def run_trial(search, trial) -> dict[str, float]:
    import keras_tuner as kt

    from mlexp.training import train

    hp = trial.hyperparameters
    values = search.space.values_of(hp)
    if HYPERBAND_EPOCHS in hp.values:  # Hyperband's budget for this bracket
        values["trainer.epochs"] = int(hp.values[HYPERBAND_EPOCHS])
    overrides = [f"{key}={_override(value)}" for key, value in values.items()]
    folder = trial_dir(search.session, trial.trial_id)
    log.info("Trial %s: %s", trial.trial_id, " ".join(overrides))
    cfg = OmegaConf.create(OmegaConf.to_container(search.base))
    for key, value in values.items():
        OmegaConf.update(cfg, key, value, merge=False)
    previous = runs.RunDir(folder).read_json(runs.METRICS)
    resume = previous.get("status") == "interrupted"
    if previous and not resume:
        if previous.get("status") == "completed":
            return _objective(search, previous)  # finished, but the oracle was stopped before it heard
        aside = folder.with_name(f"{folder.name}.{previous.get('status', 'old')}-{datetime.now():%H%M%S}")
        shutil.move(folder, aside)
    try:
        cfg = validate(cfg)
    except ConfigError as exc:  # an invalid combination: recorded like a failed sweep job
        runs.RunDir(folder).path.mkdir(parents=True, exist_ok=True)
        runs.RunDir(folder).write_failure(exc, "failed")
        raise kt.errors.FailedTrialError(str(exc)) from None
    try:
        if not resume:
            runs.claim(folder, f"trial {trial.trial_id}'s folder", sweep=False)
        metrics = train(cfg, folder, command=[*search.command, f"# trial {trial.trial_id}"],
                        overrides=[*search.overrides, *overrides], resume=resume)  # fmt: skip
    except MlexpError as exc:
        raise kt.errors.FailedTrialError(str(exc)) from None
    return _objective(search, metrics)


def _objective(search, metrics: dict[str, Any]) -> dict[str, float]:
    import keras_tuner as kt

    name = search.oracle.objective.name
    value = metrics.get(f"best_{name}")
    if metrics.get("status") != "completed" or value is None or not math.isfinite(value):
        raise kt.errors.FailedTrialError(f"status {metrics.get('status')}, best_{name} = {value}")
    return {name: float(value)}


def _override(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def trials_table(search, space: SearchSpace, session: Path) -> pd.DataFrame:
    rows = []
    for trial_id, trial in sorted(search.oracle.trials.items()):
        hp = trial.hyperparameters
        values = space.values_of(hp)
        folder = trial_dir(session, trial_id)
        metrics = runs.RunDir(folder).read_json(runs.METRICS)
        rows.append({
            "trial": trial_id,
            "status": trial.status,
            search.oracle.objective.name: trial.score,
            **{k: _override(v) for k, v in values.items()},
            "epochs": hp.values.get(HYPERBAND_EPOCHS, metrics.get("epochs_run")),
            "test_accuracy": metrics.get("test_accuracy"),
            "wall_seconds": metrics.get("wall_seconds"),
            "run_dir": str(folder.relative_to(session)),
            # a trial refused before its folder was written has only keras-tuner's message
            "error": (metrics.get("error") or trial.message or "") if trial.status != "COMPLETED" else "",
        })  # fmt: skip
    return pd.DataFrame(rows)


def write_results(search, settings, space: SearchSpace, session: Path) -> dict[str, Any]:
    from mlexp.reporting import compare

    table = trials_table(search, space, session)
    with runs.atomic_path(session / TRIALS) as tmp:
        table.to_csv(tmp, index=False)
    best = search.oracle.get_best_trials(1)
    if not best or best[0].score is None:
        raise MlexpError(f"no trial completed; every trial's error is in {session / TRIALS}")
    best = best[0]
    best_row = table[table["trial"] == best.trial_id].iloc[0]
    values = {k: yaml.safe_load(str(best_row[k])) for k in space.keys}
    runs.write_text(
        session / BEST_HP,
        yaml.safe_dump({"trial": best.trial_id, "objective": settings.objective, "score": float(best.score),
                        "values": values}, sort_keys=False),
    )  # fmt: skip
    best_dir = trial_dir(session, best.trial_id)
    shutil.copyfile(best_dir / runs.CONFIG, session / BEST_CONFIG)
    comparison = compare.compare([session / "trials"], session, f"best_{settings.objective}")
    summary = {
        "trials": len(table),
        "completed": int((table["status"] == "COMPLETED").sum()),
        "failed": int((table["status"] != "COMPLETED").sum()),
        "best_trial": best.trial_id,
        "best_score": float(best.score),
        "best_values": values,
        "best_test_accuracy": runs.RunDir(best_dir).read_json(runs.METRICS).get("test_accuracy"),
        "runs_compared": len(comparison.records),
    }
    if settings.retrain_best:
        from mlexp.tuning.retrain import retrain_best

        summary["retrain"] = retrain_best(session, best_dir, settings.objective)
    runs.write_text(session / REPORT, report(summary, settings, space, session))
    return summary


def report(summary: dict[str, Any], settings, space: SearchSpace, session: Path) -> str:
    objective = settings.objective
    lines = [
        f"# Tuning: {space.name} with {settings.name}",
        "",
        f"{summary['trials']} trials: {summary['completed']} completed, {summary['failed']} failed "
        f"(every trial: {TRIALS}; failed ones say why in their error column and trial folder).",
        "",
        f"Selection metric: best {objective} of each trial, measured on the validation data "
        f"(trainer.validation); the test split played no part in the choice.",
        "",
        f"Best trial {summary['best_trial']}: {objective} = {summary['best_score']:.4f} (validation).",
        "",
        "| key | value |",
        "| --- | --- |",
        *[f"| {k} | {_override(v)} |" for k, v in summary["best_values"].items()],
        "",
        f"Its test accuracy, trained on the training split only: {summary['best_test_accuracy']:.4f} (test split).",
        "",
        f"Files: {BEST_HP}, {BEST_CONFIG} (`mlexp rerun {session / BEST_CONFIG}`), comparison.md (all trial runs).",
    ]
    retrain = summary.get("retrain")
    if retrain:
        lines += [
            "",
            "## Retrained on training + validation data",
            "",
            f"The best config trained again on {retrain['train_samples']} samples (training + validation) for "
            f"{retrain['epochs']} epochs (the best trial's best epoch), no validation data: "
            f"test accuracy {retrain['test_accuracy']:.4f} (test split), run in {retrain['run_dir']}.",
        ]
    return "\n".join(lines) + "\n"
