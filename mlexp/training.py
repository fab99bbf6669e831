"""One run: data, model, fit, evaluate, and every file of the run directory."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

from mlexp import backups, distribution, manifest, mlflow_logger, runs, user_code
from mlexp.data.sources import DataError
from mlexp.errors import ConfigError, Interrupted, MlexpError, RunFailed, StopRequested, first_line
from mlexp.fingerprint import fingerprint

log = logging.getLogger(__name__)


def train(
    cfg,
    run_dir: Path | str,
    command: list[str] | None = None,
    overrides: list[str] = (),
    resume: bool = False,
    from_epoch: int | None = None,
) -> dict[str, Any]:
    """Train the validated run config `cfg` into `run_dir`; return the metrics written to metrics.json.

    With resume=True, continue the run in `run_dir` from its last completed epoch (or from the backup
    of `from_epoch`).
    """
    from mlexp.tf_runtime import use_backend

    run = runs.RunDir(run_dir)
    backend = cfg.trainer.get("backend", "tensorflow")
    use_backend(backend)  # before Keras is imported
    distribution.check(cfg.trainer)
    backup = backups.choose(run, from_epoch) if resume else None  # a damaged one is refused before any write
    if resume and run.file(runs.CONFIG).is_file():
        run.clear_tmp()
        run.update_manifest(status="running", resumed=manifest.now(), ended=None, interruptions=_interruptions(run))
    else:
        if not resume:
            run.claim()
        run.write_config(cfg)
        record = manifest.start(command or ["mlexp", "train"], overrides, cfg.seed, backend)
        if user_code.targets(cfg):  # the user's own code: which file, at which commit
            record["user_code"] = [user_code.source(target) for target in user_code.targets(cfg)]
        runs.write_json(run.file(runs.MANIFEST), record)
    start = time.perf_counter()
    elapsed = lambda: round(time.perf_counter() - start, 3)  # noqa: E731
    try:
        with mlflow_logger.tracker(cfg, run) as logger:
            metrics = _train(cfg, run, start, resume, logger, backup)
    except MlexpError as exc:  # bad input found while building (a layer name, data): keep its message and code
        started = run.file(runs.SUMMARY).exists()  # written once the model is built and checked, before fit
        if not resume and isinstance(exc, (ConfigError, DataError)) and not started:
            run.unstart()  # the input was refused before the first epoch: like a config error, no run is left
        else:
            run.write_failure(exc, "failed", wall_seconds=elapsed())
        raise
    except StopRequested as exc:
        run.write_failure(exc, "interrupted", wall_seconds=elapsed())
        raise Interrupted(
            f"training stopped by {exc} after the current batch; history, checkpoints/interrupted.keras and "
            f"the last completed epoch are saved. Continue with: mlexp resume {run.path}"
        ) from None
    except KeyboardInterrupt as exc:
        run.write_failure(exc, "interrupted", wall_seconds=elapsed())
        raise
    except Exception as exc:
        run.write_failure(exc, "failed", wall_seconds=elapsed())
        raise RunFailed(
            f"training failed: {type(exc).__name__}: {first_line(exc)} (traceback in {run.file(runs.ERROR)})"
        ) from exc
    if resume:  # finished now: the stop is history (the manifest's interruptions), not a failure to show
        for leftover in (runs.ERROR, "checkpoints/interrupted.keras"):
            run.file(leftover).unlink(missing_ok=True)
    run.update_manifest(status=metrics["status"])
    return metrics


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


def _train(cfg, run: runs.RunDir, start: float, resume: bool, logger, backup) -> dict[str, Any]:
    from mlexp.run_setup import prepare

    keras, splits = prepare(cfg)
    spec = splits.spec
    run.update_manifest(data=fingerprint(spec.files))  # rerun and compare say when the data changed
    runs.write_json(
        run.file(runs.PREPROCESSING),
        {
            **spec.preprocessing,
            "input_shape": list(spec.input_shape),
            "class_names": spec.class_names,
            "task": spec.task,
        },  # fmt: skip
    )
    spread = distribution.for_trainer(cfg.trainer)
    with spread.running():
        return _fit(cfg, run, start, resume, logger, backup, keras, splits, spread)


def _fit(cfg, run, start, resume, logger, backup, keras, splits, spread) -> dict[str, Any]:
    """Build, train, evaluate and write the run's results, under the run's distribution."""
    from mlexp import callbacks, data, models
    from mlexp.data.augment import augmenter
    from mlexp.data.pipeline import (
        EpochClock,
        EpochOrder,
        array_batches,
        eval_batch_size,
        evaluation_dataset,
        training_dataset,
    )  # fmt: skip
    from mlexp.doctor.report import write_run_report
    from mlexp.models import backbone
    from mlexp.models.components import build_optimizer
    from mlexp.models.head import Head
    from mlexp.reporting.plots import learning_curves
    from mlexp.tasks import SCORE
    from mlexp.tf_runtime import without_tensorflow
    from mlexp.tracking import write_hparams

    spec = splits.spec
    with spread.building():  # MirroredStrategy: variables are created per replica
        model = models.build(cfg, splits.spec)
        checks = preflight(cfg, splits, model, run)
        history = callbacks.HistoryWriter(run)
        initial_epoch = 0
        if resume:
            model, initial_epoch, history.rows = _restore(run, keras, model, backup)
    runs.write_text(run.file(runs.SUMMARY), model_summary(model))
    log.info("Model %r: %s parameters", model.name, f"{model.count_params():,}")

    clock = EpochClock()  # one epoch number for shuffling and augmentation, with or without shuffle
    order = EpochOrder(cfg.seed, clock) if cfg.trainer.shuffle else None
    augment = augmenter(cfg.augmentation, cfg.seed)
    decode = data.decoder(splits)
    eval_batch = distribution.eval_multiple(spread, eval_batch_size(cfg.trainer))
    shards, has_val = spread.shards, len(splits.x_val) > 0
    if keras.backend.backend() != "tensorflow" and augment is None and decode is None:  # nothing needs tf.data
        log.info("Input: NumPy batches for Keras on %s (no augmentation or files to decode)", keras.backend.backend())
        without_tensorflow(keras)
        seed = cfg.seed if cfg.trainer.shuffle else None
        train_ds = array_batches(
            splits.x_train, splits.y_train, cfg.trainer.batch_size, seed=seed, clock=clock, shards=shards
        )  # fmt: skip
        evaluation = lambda x, y: array_batches(x, y, eval_batch, shards=shards, training=False)  # noqa: E731
        val_ds = evaluation(splits.x_val, splits.y_val) if has_val else None
        test_ds = evaluation(splits.x_test, splits.y_test)
    else:
        train_ds = training_dataset(
            splits.x_train, splits.y_train, cfg.trainer.batch_size, augment=augment, order=order, clock=clock,
            decode=decode, shards=shards,
        )  # fmt: skip
        val_ds = evaluation_dataset(splits.x_val, splits.y_val, eval_batch, decode, shards) if has_val else None
        test_ds = evaluation_dataset(splits.x_test, splits.y_test, eval_batch, decode, shards)

    weights = class_weights(cfg.trainer, splits)
    stop = callbacks.GracefulStop()
    fit_callbacks = [
        clock.callback(),
        callbacks.LearningRateLogger(),
        *callbacks.from_config(cfg.callbacks, run, cfg.optimizer.learning_rate, cfg.trainer.epochs),
        history,
        *logger.callbacks(),
        callbacks.EpochBackup(run),
        stop,
    ]
    fit_seconds = 0.0  # the epochs alone: a sweep's first job also pays the process's start-up (imports, devices)
    with data.named_file_errors(splits):
        try:
            for phase, end in phases(cfg):
                if end <= initial_epoch:
                    continue
                if phase == "fine_tune" and backbone.frozen(model):
                    backbone.unfreeze(model, cfg, build_optimizer)
                history.phase = phase
                fit_start = time.perf_counter()
                model.fit(
                    train_ds,
                    validation_data=val_ds,
                    epochs=end,
                    initial_epoch=initial_epoch,
                    callbacks=fit_callbacks,
                    verbose=cfg.trainer.verbose,
                    shuffle=False,  # EpochOrder shuffles, as a function of (seed, epoch)
                    class_weight=weights,
                )
                fit_seconds += time.perf_counter() - fit_start
                initial_epoch = int(history.rows[-1]["epoch"]) if history.rows else initial_epoch
                if history.rows and not math.isfinite(history.rows[-1].get("loss", 0.0)):
                    break  # diverged (terminate_on_nan): no fine-tuning from there
        except StopRequested:
            with runs.atomic_path(run.file("checkpoints/interrupted.keras")) as tmp:
                model.save(tmp)
            raise
        finally:
            stop.restore()
        test = model.evaluate(test_ds, return_dict=True, verbose=0)
        head = Head.for_spec(spec, cfg.model.logits)
        spread.prepare(model)
        val_pred = head.predictions(model.predict(val_ds, verbose=0)[: len(splits.y_val)]) if val_ds else splits.y_val
        test_pred = head.predictions(model.predict(test_ds, verbose=0)[: len(splits.y_test)])

    with runs.atomic_path(run.file(runs.MODEL)) as tmp:
        model.save(tmp)
    score = SCORE[spec.task]
    learning_curves(history.rows, run.file(runs.CURVES), f"{cfg.model.name} on {cfg.dataset.name}", score)
    metrics = summarize(history.rows, test, model.count_params(), time.perf_counter() - start)
    metrics["fit_seconds"] = round(fit_seconds, 3)
    metrics["task"] = spec.task
    metrics["validation_source"] = splits.spec.validation_source
    metrics["samples"] = dict(splits.spec.sizes)
    if score != "accuracy":  # accuracy's interval needs only n; other scores bootstrap their samples
        metrics["standard_errors"] = standard_errors(score, splits, val_pred, test_pred)
    if record := spread.record():
        metrics["distribution"] = record
    if splits.spec.validation_source == "test":
        metrics["validated_on_test"] = True  # model selection saw the test split: test metrics are optimistic
    write_run_report(run, cfg, history.rows, metrics, splits, val_pred, test_pred, checks)
    write_hparams(run, cfg, metrics)  # TensorBoard's HParams dashboard: one row per run
    run.write_metrics(metrics)  # last of the results: a run with metrics.json has all its files
    logger.finish(metrics)
    backups.discard(run)  # finished: nothing left to resume
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
    if trainer.get("class_weight") != "balanced" or splits.spec.task not in ("multiclass", "binary"):
        return None
    import numpy as np
    from sklearn.utils.class_weight import compute_class_weight

    present = np.unique(splits.y_train)
    weights = compute_class_weight("balanced", classes=present, y=splits.y_train)
    log.info("Class weights (balanced): %s", ", ".join(f"{c}: {w:.3g}" for c, w in zip(present, weights, strict=True)))
    return {int(c): float(w) for c, w in zip(present, weights, strict=True)}


def phases(cfg) -> list[tuple[str | None, int]]:
    """(phase, last epoch) pairs: a backbone with fine_tune.freeze_epochs trains frozen, then fine-tunes,
    in one run; every other model has one unnamed phase."""
    freeze = cfg.model.get("fine_tune", {}).get("freeze_epochs", 0) if cfg.model.get("kind") == "backbone" else 0
    if not freeze or freeze >= cfg.trainer.epochs:
        return [("frozen" if freeze else None, cfg.trainer.epochs)]
    return [("frozen", freeze), ("fine_tune", cfg.trainer.epochs)]


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
    if backup is None:
        log.info("No completed epoch in %s: starting it over", run.path)
        return model, 0, []
    model, epochs = backups.restore(run, keras, backup)
    log.info("Resuming %s after epoch %d", run.path, epochs)
    # A kill between the history write and the backup leaves one epoch too many: drop it.
    rows = [row for row in run.read_history() if row["epoch"] <= epochs]
    return model, epochs, rows


def model_summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda text, **_: lines.append(text))
    return "\n".join(lines) + "\n"


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
