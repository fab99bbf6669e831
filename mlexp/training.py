"""One run: data, model, fit, evaluate, and every file of the run directory."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

from mlexp import runs
from mlexp.errors import MlexpError, RunFailed

log = logging.getLogger(__name__)


def train(cfg, run_dir: Path | str) -> dict[str, Any]:
    """Train the validated run config `cfg` into `run_dir`; return the metrics written to metrics.json."""
    run = runs.RunDir(run_dir)
    run.claim()
    run.write_config(cfg)
    start = time.perf_counter()
    try:
        return _train(cfg, run, start)
    except MlexpError as exc:  # bad input found while building (a layer name, data): keep its message and code
        run.write_failure(exc, "failed", wall_seconds=round(time.perf_counter() - start, 3))
        raise
    except KeyboardInterrupt as exc:
        run.write_failure(exc, "interrupted", wall_seconds=round(time.perf_counter() - start, 3))
        raise
    except Exception as exc:
        run.write_failure(exc, "failed", wall_seconds=round(time.perf_counter() - start, 3))
        raise RunFailed(f"training failed: {type(exc).__name__}: {exc} (traceback in {run.file(runs.ERROR)})") from exc


def _train(cfg, run: runs.RunDir, start: float) -> dict[str, Any]:
    from mlexp.tf_runtime import import_keras

    keras = import_keras()
    from mlexp import callbacks, data, models
    from mlexp.data.pipeline import augmenter, make_dataset
    from mlexp.reporting.plots import learning_curves

    keras.backend.clear_session()  # sweep jobs share a process: start each from a clean Keras state
    keras.utils.set_random_seed(cfg.seed)
    splits = data.load(cfg.dataset, cfg.trainer)
    model = models.build(cfg, splits.spec)
    runs.write_text(run.file(runs.SUMMARY), model_summary(model))
    log.info("Model %r: %s parameters", model.name, f"{model.count_params():,}")

    batch = cfg.trainer.batch_size
    augment = augmenter(cfg.augmentation, cfg.seed)
    train_ds = make_dataset(
        splits.x_train, splits.y_train, batch, shuffle=cfg.trainer.shuffle, seed=cfg.seed, augment=augment
    )
    val_ds = make_dataset(splits.x_val, splits.y_val, batch)
    test_ds = make_dataset(splits.x_test, splits.y_test, batch)

    history = callbacks.HistoryWriter(run)
    user_callbacks = callbacks.from_config(cfg.callbacks, run, cfg.optimizer.learning_rate, cfg.trainer.epochs)
    model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=cfg.trainer.epochs,
        callbacks=[callbacks.LearningRateLogger(), *user_callbacks, history],
        verbose=cfg.trainer.verbose,
        shuffle=False,  # the tf.data pipeline shuffles, seeded
    )
    test = model.evaluate(test_ds, return_dict=True, verbose=0)

    with runs.atomic_path(run.file(runs.MODEL)) as tmp:
        model.save(tmp)
    learning_curves(history.rows, run.file(runs.CURVES), title=f"{cfg.model.name} on {cfg.dataset.name}")
    metrics = summarize(history.rows, test, model.count_params(), time.perf_counter() - start)
    metrics["validation_source"] = splits.spec.validation_source
    if splits.spec.validation_source == "test":
        metrics["validated_on_test"] = True  # model selection saw the test split: test metrics are optimistic
    run.write_metrics(metrics)
    return metrics


def model_summary(model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda text, **_: lines.append(text))
    return "\n".join(lines) + "\n"


def summarize(rows: list[dict[str, float]], test: dict[str, float], params: int, wall: float) -> dict:
    """metrics.json: test metrics, best and final validation metrics with their epochs, run facts."""
    diverged = any(not math.isfinite(row.get("loss", 0.0)) for row in rows)
    metrics: dict[str, Any] = {
        "status": "diverged" if diverged else "completed",
        "epochs_run": len(rows),
        "wall_seconds": round(wall, 3),
        "param_count": int(params),
    }
    metrics.update({f"test_{name}": float(value) for name, value in test.items()})
    for name in rows[0] if rows else ():
        if name in ("epoch", "learning_rate"):
            continue
        values = [row[name] for row in rows]
        metrics[f"final_{name}"] = values[-1]
        if name.startswith("val_"):
            lower_is_better = name.endswith("loss")
            best = (min if lower_is_better else max)(range(len(values)), key=values.__getitem__)
            metrics[f"best_{name}"] = values[best]
            metrics[f"best_{name}_epoch"] = int(rows[best]["epoch"])
    return metrics
