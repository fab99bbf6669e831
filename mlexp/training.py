"""One run: data, model, fit, evaluate, and every file of the run directory.

train() runs the stages in order, each a function that reads alone: begin (config, manifest) ->
prepare (run_setup: Keras, seeds, data) -> build (model, pre-flight, restore) -> inputs (the pipeline,
shared with lr-find) -> fit (the model kind's phases) -> evaluate -> records (model.keras, curves,
metrics.json, reports) -> end (the manifest's last write).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlexp import distribution, mlflow_logger, runs, user_code
from mlexp.data.sources import DataError
from mlexp.errors import ConfigError, Interrupted, MlexpError, RunFailed, StopRequested, first_line
from mlexp.runs import backups, continuation, manifest
from mlexp.runs.fingerprint import fingerprint
from mlexp.tasks import SCORE, SINGLE_LABEL

log = logging.getLogger(__name__)


@dataclass
class Run:
    """What one train() call carries through its stages."""

    cfg: Any
    dir: runs.RunDir
    resume: bool
    backup: tuple[int, Path] | None  # the epoch backup a resumed run continues from
    started: float = field(default_factory=time.perf_counter)
    logger: Any = None  # mlflow_logger's NoLogger or MLflow run
    manifest: dict = field(default_factory=dict)  # facts for the manifest's last write (the data fingerprint)
    epochs_done: int = 0  # completed epochs: the backup's when resuming
    continued: tuple | None = None  # trainer.continue_from: (epochs, model file, history rows) of that run

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.started, 3)


def train(
    cfg,
    run_dir: Path | str,
    command: list[str] | None = None,
    overrides: list[str] = (),
    resume: bool = False,
    from_epoch: int | None = None,
) -> dict[str, Any]:
    """Train the validated run config `cfg` into `run_dir`, a folder claimed by the caller (runs.claim);
    return the metrics written to metrics.json.

    With resume=True, continue the run in `run_dir` from its last completed epoch (or from the backup
    of `from_epoch`).
    """
    from mlexp.tf_runtime import use_backend

    folder = runs.RunDir(run_dir)
    backend = cfg.trainer.get("backend", "tensorflow")
    use_backend(backend)  # before Keras is imported
    distribution.check(cfg.trainer)
    backup = backups.choose(folder, from_epoch) if resume else None  # a damaged one is refused before any write
    run = Run(cfg, folder, resume, backup)
    if cfg.trainer.get("continue_from") and backup is None:  # a resumed one without an epoch of its own too
        run.continued = continuation.start(cfg.trainer.continue_from)
        run.manifest["continued_from"] = str(cfg.trainer.continue_from)
    _begin(run, command or ["mlexp", "train"], overrides, backend)
    try:
        with mlflow_logger.tracker(cfg, folder) as run.logger:
            metrics = _train(run)
    except BaseException as exc:
        _failed(run, exc)
        raise
    if resume:  # finished now: the stop is history (the manifest's interruptions), not a failure to show
        for leftover in (runs.ERROR, "checkpoints/interrupted.keras"):
            folder.file(leftover).unlink(missing_ok=True)
    folder.update_manifest(status=metrics["status"], **run.manifest)  # the manifest's last write
    return metrics


def _begin(run: Run, command: list[str], overrides, backend: str) -> None:
    """The run's config and the manifest's first write (a resumed run: its second start)."""
    if run.resume and run.dir.file(runs.CONFIG).is_file():
        run.dir.clear_tmp()
        interruptions = _interruptions(run.dir)
        run.dir.update_manifest(status="running", resumed=manifest.now(), ended=None, interruptions=interruptions)
        return
    run.dir.begin()
    run.dir.write_config(run.cfg)
    record = manifest.start(command, overrides, run.cfg.seed, backend)
    if user_code.targets(run.cfg):  # the user's own code: which file, at which commit
        record["user_code"] = [user_code.source(target) for target in user_code.targets(run.cfg)]
    runs.write_json(run.dir.file(runs.MANIFEST), record)


def _failed(run: Run, exc: BaseException) -> None:
    """Record how the run ended (metrics.json, error.txt, the manifest) and word the error; re-raised by
    the caller unless a new one is raised here."""
    if isinstance(exc, MlexpError):  # bad input found while building (a layer name, data): keep its message
        started = run.dir.file(runs.SUMMARY).exists()  # written once the model is built and checked, before fit
        if not run.resume and isinstance(exc, (ConfigError, DataError)) and not started:
            run.dir.unstart()  # the input was refused before the first epoch: like a config error, no run is left
        else:
            run.dir.write_failure(exc, "failed", manifest=run.manifest, wall_seconds=run.elapsed())
    elif isinstance(exc, StopRequested):
        run.dir.write_failure(exc, "interrupted", manifest=run.manifest, wall_seconds=run.elapsed())
        raise Interrupted(
            f"training stopped by {exc} after the current batch; history, checkpoints/interrupted.keras and "
            f"the last completed epoch are saved. Continue with: mlexp resume {run.dir.path}"
        ) from None
    elif isinstance(exc, KeyboardInterrupt):
        run.dir.write_failure(exc, "interrupted", manifest=run.manifest, wall_seconds=run.elapsed())
    elif isinstance(exc, Exception):
        run.dir.write_failure(exc, "failed", manifest=run.manifest, wall_seconds=run.elapsed())
        raise RunFailed(
            f"training failed: {type(exc).__name__}: {first_line(exc)} (traceback in {run.dir.file(runs.ERROR)})"
        ) from exc


def _interruptions(run: runs.RunDir) -> list[dict]:
    """The manifest's record of earlier stops, with the one being resumed from (its status and reason)."""
    try:
        earlier = run.read_json(runs.MANIFEST).get("interruptions", [])
        stopped = run.read_json(runs.METRICS) if run.file(runs.METRICS).is_file() else {}
    except MlexpError:
        return []
    if stopped.get("status") in ("interrupted", "failed"):
        reason = (str(stopped.get("error") or "").strip().splitlines() or [stopped["status"]])[0]
        earlier = [*earlier, {"status": stopped["status"], "reason": reason, "epochs_done": len(run.read_history())}]
    return earlier


def _train(run: Run) -> dict[str, Any]:
    from mlexp.run_setup import prepare

    cfg = run.cfg
    keras, splits = prepare(cfg)
    spec = splits.spec
    run.manifest["data"] = fingerprint(spec.files)  # rerun and compare say when the data changed
    runs.write_json(
        run.dir.file(runs.PREPROCESSING),
        {
            **spec.preprocessing,
            "input_shape": list(spec.input_shape),
            "class_names": spec.class_names,
            "task": spec.task,
        },
    )
    spread = distribution.for_trainer(cfg.trainer)
    with spread.running():
        model, history, checks = _build(run, keras, splits, spread)
        feed = inputs(cfg, keras, splits, spread)
        fit_seconds = _fit(run, model, history, feed, splits)
        results = _evaluate(cfg, model, feed, splits, spread)
        return _records(run, model, history, results, splits, checks, spread, fit_seconds)


def _build(run: Run, keras, splits, spread):
    """The compiled model (restored from its backup when resuming), the history writer, the pre-flight findings."""
    from mlexp import callbacks, models
    from mlexp.models import seed_state

    with spread.building():  # MirroredStrategy: variables are created per replica
        model = models.build(run.cfg, splits.spec)
        checks = preflight(run.cfg, splits, model, run.dir)
        history = callbacks.HistoryWriter(run.dir)
        if run.resume and not run.continued:
            model, run.epochs_done, history.rows = _restore(run.dir, keras, model, run.backup)
        elif run.continued:
            run.epochs_done, path, history.rows = run.continued
            model = models.load(path, keras)
            seed_state.restore(model, path)
            log.info("Continuing %s after its epoch %d", path.parent, run.epochs_done)
    runs.write_text(run.dir.file(runs.SUMMARY), models.summary(model))
    log.info("Model %r: %s parameters", model.name, f"{model.count_params():,}")
    return model, history, checks


@dataclass
class Inputs:
    """The run's batches: training (shuffled and augmented per (seed, epoch)), validation (None without
    a validation split) and test, and the clock that tells the pipeline which epoch it is in."""

    train: Any
    val: Any
    test: Any
    clock: Any


def inputs(cfg, keras, splits, spread) -> Inputs:
    """The input stage of every verb that fits the run's model (train, lr-find): NumPy batches for Keras
    on JAX or PyTorch when nothing needs tf.data, else tf.data; sharded for the run's distribution."""
    from mlexp import data
    from mlexp.data.augment import augmenter
    from mlexp.data.pipeline import (
        EpochClock,
        EpochOrder,
        array_batches,
        eval_batch_size,
        evaluation_dataset,
        training_dataset,
    )
    from mlexp.tf_runtime import without_tensorflow

    clock = EpochClock()  # one epoch number for shuffling and augmentation, with or without shuffle
    augment = augmenter(cfg.augmentation, cfg.seed)
    decode = data.decoder(splits)
    eval_batch = distribution.eval_multiple(spread, eval_batch_size(cfg.trainer))
    shards, has_val, batch = spread.shards, len(splits.x_val) > 0, cfg.trainer.batch_size
    if keras.backend.backend() != "tensorflow" and augment is None and decode is None:  # nothing needs tf.data
        log.info("Input: NumPy batches for Keras on %s (no augmentation or files to decode)", keras.backend.backend())
        without_tensorflow(keras)
        seed = cfg.seed if cfg.trainer.shuffle else None
        train = array_batches(splits.x_train, splits.y_train, batch, seed=seed, clock=clock, shards=shards)
        evaluation = lambda x, y: array_batches(x, y, eval_batch, shards=shards, training=False)  # noqa: E731
    else:
        order = EpochOrder(cfg.seed, clock) if cfg.trainer.shuffle else None
        train = training_dataset(
            splits.x_train, splits.y_train, batch, augment=augment, order=order, clock=clock, decode=decode,
            shards=shards,
        )  # fmt: skip
        evaluation = lambda x, y: evaluation_dataset(x, y, eval_batch, decode, shards)  # noqa: E731
    val = evaluation(splits.x_val, splits.y_val) if has_val else None
    return Inputs(train, val, evaluation(splits.x_test, splits.y_test), clock)


def _fit(run: Run, model, history, feed: Inputs, splits) -> float:
    """model.fit through the model kind's phases, from the restored epoch; the seconds spent in fit."""
    from mlexp import callbacks, data
    from mlexp.registry import MODELS

    cfg = run.cfg
    stop = callbacks.GracefulStop()
    fit_callbacks = [
        feed.clock.callback(),
        callbacks.LearningRateLogger(),
        *callbacks.from_config(cfg.callbacks, run.dir, cfg.optimizer.learning_rate, cfg.trainer.epochs),
        history,
        *run.logger.callbacks(),
        callbacks.EpochBackup(run.dir),
        stop,
    ]
    phases = MODELS.phases(cfg.model)
    weights = class_weights(cfg.trainer, splits)  # once per run, for every phase
    done = run.epochs_done
    fit_seconds = 0.0  # the epochs alone: a sweep's first job also pays the process's start-up (imports, devices)
    with data.named_file_errors(splits):
        try:
            for phase, end in phases.plan(cfg):
                if end <= done:
                    continue
                phases.enter(phase, model, cfg)
                history.phase = phase
                fit_start = time.perf_counter()
                model.fit(
                    feed.train, validation_data=feed.val, epochs=end, initial_epoch=done, callbacks=fit_callbacks,
                    verbose=cfg.trainer.verbose,
                    shuffle=False,  # EpochOrder shuffles, as a function of (seed, epoch)
                    class_weight=weights,
                )  # fmt: skip
                fit_seconds += time.perf_counter() - fit_start
                done = int(history.rows[-1]["epoch"]) if history.rows else done
                if history.rows and not math.isfinite(history.rows[-1].get("loss", 0.0)):
                    break  # diverged (terminate_on_nan): no next phase from there
        except StopRequested:
            with runs.atomic_path(run.dir.file("checkpoints/interrupted.keras")) as tmp:
                model.save(tmp)
            raise
        finally:
            stop.restore()
    return fit_seconds


@dataclass
class Results:
    test: dict  # model.evaluate on the test split
    val_pred: Any  # predictions in label form (the labels themselves without a validation split)
    test_pred: Any


def _evaluate(cfg, model, feed: Inputs, splits, spread) -> Results:
    from mlexp import data
    from mlexp.models.head import Head

    with data.named_file_errors(splits):
        test = model.evaluate(feed.test, return_dict=True, verbose=0)
        head = Head.for_spec(splits.spec, cfg.model.logits)
        spread.prepare(model)
        predict = lambda ds, y: head.predictions(model.predict(ds, verbose=0)[: len(y)])  # noqa: E731
        val_pred = predict(feed.val, splits.y_val) if feed.val else splits.y_val
        return Results(test, val_pred, predict(feed.test, splits.y_test))


def _records(run: Run, model, history, results: Results, splits, checks, spread, fit_seconds: float) -> dict:
    """Every result file of the run; metrics.json last, so a run with metrics.json has all its files (its
    figures, or plots/pending.npz while a sweep's background process draws them)."""
    from mlexp.doctor.run_report import write_run_report
    from mlexp.models import seed_state
    from mlexp.tracking import write_hparams

    cfg, spec = run.cfg, splits.spec
    with runs.atomic_path(run.dir.file(runs.MODEL)) as tmp:
        model.save(tmp)
    seed_state.save(model, run.dir.file(runs.MODEL))  # a continued run draws on where this one stopped
    score = SCORE[spec.task]
    metrics = summarize(history.rows, results.test, model.count_params(), time.perf_counter() - run.started)
    metrics["fit_seconds"] = round(fit_seconds, 3)
    metrics["task"] = spec.task
    metrics["validation_source"] = spec.validation_source
    metrics["samples"] = dict(spec.sizes)
    if score != "accuracy":  # accuracy's interval needs only n; other scores bootstrap their samples
        metrics["standard_errors"] = standard_errors(score, splits, results.val_pred, results.test_pred)
    if record := spread.record():
        metrics["distribution"] = record
    if spec.validation_source == "test":
        metrics["validated_on_test"] = True  # model selection saw the test split: test metrics are optimistic
    write_run_report(run.dir, cfg, history.rows, metrics, splits, results.val_pred, results.test_pred, checks)
    write_hparams(run.dir, cfg, metrics)  # TensorBoard's HParams dashboard: one row per run
    run.dir.write_metrics(metrics)
    run.logger.finish(metrics)
    backups.discard(run.dir)  # finished: nothing left to resume
    return metrics


def standard_errors(score: str, splits, val_pred, test_pred) -> dict[str, float]:
    """The bootstrap standard error of the final model's MAE on validation and test, for the reports'
    intervals: {"val_mae": se, "test_mae": se} (a split without samples is left out)."""
    import numpy as np

    from mlexp.reporting.stats import bootstrap_se

    found = {}
    for split, y, pred in (("val", splits.y_val, val_pred), ("test", splits.y_test, test_pred)):
        if len(y) > 1:  # (n,) and (n, 1) alike
            errors = np.abs(np.asarray(y, float).reshape(len(y), -1) - np.asarray(pred, float).reshape(len(y), -1))
            errors = errors.mean(axis=1)
            found[f"{split}_{score}"] = round(bootstrap_se(errors), 6)
    return found


def class_weights(trainer, splits) -> dict[int, float] | None:
    """trainer.class_weight=balanced: sklearn's balanced weights, n / (classes x count), per class index."""
    if trainer.get("class_weight") != "balanced" or splits.spec.task not in SINGLE_LABEL:
        return None
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(splits.y_train)
    weights = compute_class_weight("balanced", classes=present, y=splits.y_train)
    log.info("Class weights (balanced): %s", ", ".join(f"{c}: {w:.3g}" for c, w in zip(present, weights, strict=True)))
    return {int(c): float(w) for c, w in zip(present, weights, strict=True)}


def preflight(cfg, splits, model, run: runs.RunDir | None = None):
    """The doctor's checks before training: errors stop the run, warnings are logged and recorded."""
    from mlexp import doctor
    from mlexp.doctor import preflight as checks

    findings = checks.check(cfg, splits, model)
    if run is not None:
        runs.write_json(run.file(doctor.PREFLIGHT), {"findings": [f.as_dict() for f in findings]})
    for finding in findings:
        log.warning("Pre-flight %s", finding.line())
    if doctor.errors(findings):
        raise doctor.PreflightError(
            "pre-flight check failed, nothing was trained:\n" + "\n".join(f.line() for f in doctor.errors(findings))
        )
    return findings


def _restore(run: runs.RunDir, keras, model, backup: tuple[int, Path] | None):
    """The backed-up model (with optimizer state), its epoch count, and the history up to it.

    Without a backup (stopped during its first epoch, or failed before training) the run starts over.
    """
    from mlexp import models
    from mlexp.models import seed_state

    if backup is None:
        log.info("No completed epoch in %s: starting it over", run.path)
        return model, 0, []
    model, epochs = backups.restore(run, backup, load=lambda path: models.load(path, keras))
    seed_state.restore(model, backup[1])
    log.info("Resuming %s after epoch %d", run.path, epochs)
    # A kill between the history write and the backup leaves one epoch too many: drop it.
    rows = [row for row in run.read_history() if row["epoch"] <= epochs]
    return model, epochs, rows


def summarize(rows: list[dict[str, float]], test: dict[str, float], params: int, wall: float) -> dict:
    """metrics.json: test metrics, best and final validation metrics with their epochs, run facts."""
    import pandas as pd

    from mlexp.reporting.collect import from_history

    diverged = any(not math.isfinite(row.get("loss", 0.0)) for row in rows)
    metrics: dict[str, Any] = {
        "status": "diverged" if diverged else "completed",
        "wall_seconds": round(wall, 3),
        "param_count": int(params),
        **from_history(pd.DataFrame(rows)),  # the same final and best metrics `mlexp compare` derives
    }
    metrics.update({f"test_{name}": float(value) for name, value in test.items()})
    return metrics
