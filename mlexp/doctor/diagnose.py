"""After training: what the curves and the predictions say, each finding with evidence and an override."""

from __future__ import annotations

import math
import re

import numpy as np

from mlexp import tasks
from mlexp.doctor import Finding, advice

# Thresholds and why:
OVERFIT_RISE = 0.10  # validation loss this far above its minimum (both smoothed over SMOOTH epochs) ...
OVERFIT_AFTER = 3  # ... with the minimum at least this many epochs before the end
SMOOTH = 3  # epochs averaged: a one-epoch dip on a small validation set is noise, not a trend
CHANCE_MARGIN = 0.05  # at least this far above chance, or 2 binomial standard errors if the set is small
COLLAPSE_SHARE = 0.9
NO_SIGNAL_GAIN = 2  # training accuracy this many margins above the majority share (a gain validation would show) ...
NO_SIGNAL_EPOCHS = 5  # ... stays at chance for at least this many epochs: labels without signal, not slow learning
GAP_TRAIN = 0.97  # training accuracy from which the model has memorized its data ...
GAP_MIN = 0.05  # ... and a train/validation gap this large (or 3 standard errors) over the last 3 epochs


def diagnose(
    rows: list[dict], learning_rate: float, predicted, labels, classes: int, classifies: bool = True, cfg=None
) -> list[Finding]:
    """Findings for a finished run: `predicted` and `labels` are validation classes (when `classifies`);
    with the run's `cfg`, advice names the config values behind each finding."""
    if not rows:
        return []
    loss = [r.get("loss", math.nan) for r in rows]
    if any(not math.isfinite(v) for v in loss) or (len(loss) > 2 and loss[-1] > 10 * loss[0]):
        return [_divergence(rows, loss, learning_rate)]
    if not len(labels):  # trainer.validation=none: no validation data to judge by
        return []
    findings = []
    for rule in (_not_learning, _collapsed) if classifies else ():
        findings += rule(rows, predicted, labels, classes, cfg)
    if not findings:
        size = len(labels)
        for rule in (_overfitting, _generalization_gap, _oscillation, _plateau, _underfitting):
            if rule is _generalization_gap and any(f.code == "overfitting" for f in findings):
                continue  # the same story, told once
            findings += rule(rows, learning_rate, cfg, size)
    return findings


def _standard_error(p: float, n: int) -> float:
    """The binomial standard error of an accuracy p measured on n samples."""
    return math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))


def balanced_accuracy(predicted, labels, classes: int) -> float:
    """The mean of the per-class recalls: chance is 1/classes however imbalanced the labels are."""
    recalls = [float(np.mean(predicted[labels == c] == c)) for c in range(classes) if np.any(labels == c)]
    return float(np.mean(recalls)) if recalls else 0.0


def _divergence(rows, loss, lr) -> Finding:
    bad = next((i for i, v in enumerate(loss) if not math.isfinite(v)), None)
    evidence = {"first_loss": loss[0], "last_loss": loss[-1] if math.isfinite(loss[-1]) else None}
    where = f"the loss became NaN or infinite at epoch {rows[bad]['epoch']}" if bad is not None else (
        f"the loss grew from {loss[0]:.4g} to {loss[-1]:.4g}"
    )  # fmt: skip
    if bad is not None:
        evidence["epoch"] = int(rows[bad]["epoch"])
    return Finding(
        "divergence", "error", f"training diverged: {where}.", f"optimizer.learning_rate={lr / 10:g}", evidence
    )


def _not_learning(rows, predicted, labels, classes, cfg=None) -> list[Finding]:
    accuracy = [r.get("val_accuracy", math.nan) for r in rows]
    best = max(accuracy)
    chance = 1 / classes
    balanced = balanced_accuracy(np.asarray(predicted), np.asarray(labels), classes)
    margin = max(CHANCE_MARGIN, 2 * _standard_error(chance, len(labels)))
    majority = float(np.bincount(labels, minlength=classes).max() / len(labels)) if len(labels) else chance
    trained = max((r.get("accuracy", 0.0) for r in rows), default=0.0)
    if balanced > chance + margin or best > majority + margin:
        return []
    if trained > majority + NO_SIGNAL_GAIN * margin and len(rows) >= NO_SIGNAL_EPOCHS:
        return [_no_signal(rows, best, balanced, chance, margin, majority, trained, len(labels))]
    # A small validation set cannot show learning (wide margin); the training accuracy still can.
    if trained > majority + CHANCE_MARGIN:
        return []
    rate = (cfg.optimizer.learning_rate if cfg else 0.01) / 10
    fallback = f"optimizer.learning_rate={rate:g}, and look at the data (mlexp data)"
    return [
        Finding(
            "not_learning", "error",
            f"the model did not learn: balanced validation accuracy {balanced:.3f} against chance {chance:.3f} "
            f"(1/{classes} classes, +-{margin:.3f} for {len(labels)} samples); best validation accuracy {best:.3f}, "
            f"the most frequent class alone scores {majority:.3f}; best training accuracy {trained:.3f}; "
            f"{len(rows)} epochs.",
            advice.by_cause(cfg, rows, advice.NOT_LEARNING, fallback),
            {"balanced_accuracy": balanced, "chance": chance, "best_val_accuracy": best, "majority_share": majority,
             "best_accuracy": trained, "epochs": len(rows)},
        )
    ]  # fmt: skip


def _no_signal(rows, best, balanced, chance, margin, majority, trained, size) -> Finding:
    """Training accuracy climbs while validation never leaves chance: memorized labels that carry nothing the
    inputs predict (shuffled, or misaligned with the inputs). Overfitting, by contrast, first rises on validation."""
    return Finding(
        "labels_without_signal", "error",
        f"validation accuracy never rose above chance (best {best:.3f}, balanced {balanced:.3f} against chance "
        f"{chance:.3f}, +-{margin:.3f} for {size} samples) while training accuracy reached {trained:.3f} in "
        f"{len(rows)} epochs: the model memorized labels that carry no signal it can use (shuffled labels, or "
        "labels misaligned with the inputs?).",
        "look at a few samples beside their labels with mlexp data and the same dataset overrides; check that "
        "inputs and labels were shuffled or filtered together",
        {"best_val_accuracy": best, "balanced_accuracy": balanced, "chance": chance, "majority_share": majority,
         "best_accuracy": trained, "epochs": len(rows)},
    )  # fmt: skip


def _collapsed(rows, predicted, labels, classes, cfg=None) -> list[Finding]:
    if not len(predicted):
        return []
    counts = np.bincount(predicted, minlength=classes)
    top = int(counts.argmax())
    share = float(counts[top] / counts.sum())
    if share < COLLAPSE_SHARE or float(np.mean(labels == top)) > 0.5:
        return []
    fallback = "model.kernel_initializer=glorot_uniform or a lower optimizer.learning_rate"
    return [
        Finding(
            "collapsed_predictions", "error",
            f"{share:.0%} of the validation predictions are class {top}, which is only "
            f"{float(np.mean(labels == top)):.0%} of the labels.",
            advice.by_cause(cfg, rows, advice.NOT_LEARNING, fallback),
            {"class": top, "predicted_share": share, "label_share": float(np.mean(labels == top))},
        )
    ]  # fmt: skip


def _score(rows) -> str | None:
    """The task's own metric in the history: accuracy for classifiers, mae for regressions (None: neither)."""
    return next((key for key in ("accuracy", "mae") if key in rows[-1] and f"val_{key}" in rows[-1]), None)


def _gap(row: dict, score: str | None) -> float:
    """How much better training scores than validation, in the score's own units (mae: lower is better)."""
    if score is None:
        return 0.0
    difference = row.get(score, 0) - row.get(f"val_{score}", 0)
    return -difference if tasks.lower_is_better(score) else difference


def _smoothed(values: list[float]) -> np.ndarray:
    """A trailing mean over SMOOTH epochs (fewer at the start)."""
    out = np.array(values, dtype=float)
    return np.array([np.nanmean(out[max(0, i - SMOOTH + 1) : i + 1]) for i in range(len(out))])


def _overfitting(rows, lr, cfg=None, size=0) -> list[Finding]:
    raw = [r.get("val_loss", math.nan) for r in rows]
    if len(raw) < OVERFIT_AFTER + SMOOTH or not np.isfinite(raw).any():
        return []
    val = _smoothed(raw)
    best = int(np.nanargmin(val))
    if best > len(val) - 1 - OVERFIT_AFTER or val[-1] < val[best] * (1 + OVERFIT_RISE):
        return []
    score = _score(rows)
    gap = lambda i: _gap(rows[i], score)  # noqa: E731
    if "val_accuracy" in rows[-1]:  # a loss that creeps up while accuracy holds is confidence, not overfitting
        accuracy = [r["val_accuracy"] for r in rows]
        drop = max(accuracy) - accuracy[-1]
        if drop <= max(0.01, 2 * _standard_error(accuracy[-1], size)) and gap(len(rows) - 1) <= GAP_MIN:
            return []
    epoch = int(rows[best]["epoch"])
    return [
        Finding(
            "overfitting", "warning",
            f"validation loss (averaged over {SMOOTH} epochs) bottomed out at epoch {epoch} ({val[best]:.4f}) and "
            f"rose to {val[-1]:.4f} ({val[-1] / val[best] - 1:.0%}) by epoch {rows[-1]['epoch']}"
            + (f"; the train/validation {score} gap grew from {gap(best):.3f} to {gap(len(rows) - 1):.3f}."
               if score else "."),
            f"callbacks.early_stopping.enabled=true (or trainer.epochs={epoch}), model.dropout=0.3, regularizer=l2",
            {"best_epoch": epoch, "best_val_loss": float(val[best]), "final_val_loss": float(val[-1]),
             "gap_at_best": gap(best), "final_gap": gap(len(rows) - 1)},
        )
    ]  # fmt: skip


def _generalization_gap(rows, lr, cfg=None, size=0) -> list[Finding]:
    """Memorized training data with a large, stable gap to validation: overfitting without a rising loss."""
    last = rows[-3:]
    train = [r.get("accuracy") for r in last]
    val = [r.get("val_accuracy") for r in last]
    if len(rows) < 3 or None in train or None in val or min(train) < GAP_TRAIN:
        return []
    gap = float(np.mean(train) - np.mean(val))
    limit = max(GAP_MIN, 3 * _standard_error(float(np.mean(val)), size or 1))
    if gap <= limit:
        return []
    regularized = cfg is not None and ((cfg.model.get("dropout") or 0) > 0 or cfg.regularizer.name != "none")
    suggestion = "augmentation=flip_shift, or more training data" if regularized else (
        "model.dropout=0.3, regularizer=l2")  # fmt: skip
    if cfg is not None and cfg.model.get("dropout") is None:
        suggestion = "regularizer=l2, or callbacks.early_stopping.enabled=true"
    return [
        Finding(
            "generalization_gap", "warning",
            f"training accuracy {np.mean(train):.3f} against validation {np.mean(val):.3f} over the last 3 epochs: "
            f"a gap of {gap:.3f}, beyond the {limit:.3f} that validation noise explains ({size} samples); the model "
            "memorized its training data.",
            suggestion, {"train_accuracy": float(np.mean(train)), "val_accuracy": float(np.mean(val)), "gap": gap,
                         "noise_limit": limit},
        )
    ]  # fmt: skip


def _oscillation(rows, lr, cfg=None, size=0) -> list[Finding]:
    loss = [r["loss"] for r in rows]
    if len(loss) < 5:
        return []
    rises = [i + 1 for i in range(1, len(loss) - 1) if loss[i + 1] > loss[i] * 1.05]
    if len(rises) < 0.3 * (len(loss) - 2):
        return []
    return [
        Finding(
            "oscillation", "warning",
            f"the training loss went up by more than 5% in {len(rises)} of {len(loss) - 2} epochs "
            f"(epochs {', '.join(str(rows[i]['epoch']) for i in rises[:6])}): the steps overshoot.",
            f"optimizer.learning_rate={lr / 10:g}", {"rising_epochs": [int(rows[i]["epoch"]) for i in rises]},
        )
    ]  # fmt: skip


def _plateau(rows, lr, cfg=None, size=0) -> list[Finding]:
    loss = [r["loss"] for r in rows]
    if len(loss) < 6 or rows[-1].get("accuracy", 0) > 0.95:
        return []
    change = (loss[-6] - loss[-1]) / loss[-6]
    if change > 0.01:
        return []
    evidence = {"relative_change": change}
    score = _score(rows)
    rates = [r["learning_rate"] for r in rows if r.get("learning_rate") is not None]
    lowered = ""
    suggestion = "callbacks.reduce_lr_on_plateau.enabled=true, or a bigger model"
    if len(rates) > 1 and rates[-1] < rates[0]:  # a callback or schedule already lowered it: lowering is not the cure
        evidence |= {"first_learning_rate": rates[0], "last_learning_rate": rates[-1]}
        lowered = f"; the learning rate was already lowered from {rates[0]:.3g} to {rates[-1]:.3g}"
        suggestion = advice.by_cause(
            cfg, rows, advice.PLATEAU,
            "a bigger model, or less regularization (model.dropout, regularizer=none, augmentation=none)",
        )  # fmt: skip
    return [
        Finding(
            "plateau", "warning",
            f"the training loss changed by {change:.2%} over the last 5 epochs"
            + (f" at training {score} {rows[-1][score]:.3f}" if score else "") + f"{lowered}.",
            suggestion, evidence,
        )
    ]  # fmt: skip


def _underfitting(rows, lr, cfg=None, size=0) -> list[Finding]:
    """Training accuracy low while the loss still falls, or low and far below validation accuracy (the
    training pass is crippled by dropout or augmentation that validation does not see)."""
    last = rows[-1]
    train, val = last.get("accuracy", 1.0), last.get("val_accuracy", 1.0)
    improving = len(rows) > 1 and rows[-1]["loss"] < rows[-2]["loss"] * 0.99
    # Training below validation is normal lag in early epochs; it is a cause only with dropout or augmentation.
    held_back = cfg is not None and ((cfg.model.get("dropout") or 0) >= 0.3 or bool(cfg.augmentation.get("layers")))
    crippled = held_back and train < val - 0.05
    if train >= 0.8 or train - val > 0.05 or not (improving or crippled):
        return []
    why = "the loss was still falling at the last epoch" if not crippled else (
        "validation, without dropout and augmentation, scores higher: training is held back")  # fmt: skip
    return [
        Finding(
            "underfitting", "warning",
            f"training accuracy is only {train:.3f} (validation {val:.3f}) and {why}: the model has not fit the "
            "training data.",
            advice.by_cause(cfg, rows, advice.UNDERFITTING,
                            f"trainer.epochs={2 * len(rows)}, or more units (model.hidden_units)"),
            {"final_accuracy": train, "final_val_accuracy": val},
        )
    ]  # fmt: skip


def markdown(findings: list[Finding], metrics: dict, checks: list[Finding] = ()) -> str:
    lines = ["# Run report", ""]
    status = metrics.get("status", "?")
    score = tasks.score(metrics)
    test, best = metrics.get(f"test_{score}", float("nan")), metrics.get(f"best_val_{score}", float("nan"))
    lines.append(
        f"Status: {status}. Test {score} {test:.4f}, best validation {score} {best:.4f} "
        f"(epoch {metrics.get(f'best_val_{score}_epoch', '-')}), {metrics.get('epochs_run', 0)} epochs."
    )
    if checks:
        lines += ["", "## Pre-flight", ""]
        lines += [line for f in checks for line in _item(f)]
    lines += ["", "## Diagnosis", ""]
    if not findings:
        lines.append("Healthy: no finding." if not checks else "No finding in the curves.")
    lines += [line for f in findings for line in _item(f)]
    lines += ["", "![learning curves](plots/learning_curves.png)", ""]
    return "\n".join(lines)


def _item(finding: Finding) -> list[str]:
    return [f"- **{finding.severity}** `{finding.code}`: {finding.message}", f"  Try: {code_spans(finding.suggestion)}"]


# Overrides (a run of key=value words stays one span, to copy whole) and config keys named in prose.
_COPYABLE = re.compile(
    r"[+~]?[A-Za-z_][\w./]*=[^\s,;()]+(?: [+~]?[A-Za-z_][\w./]*=[^\s,;()]+)*|\b[a-z_]+(?:\.[a-z_]+)+\b"
)


def code_spans(suggestion: str) -> str:
    """Markdown for a suggestion: what can be typed in code spans, the prose around them as prose."""
    return _COPYABLE.sub(lambda m: f"`{m.group(0)}`", suggestion)
