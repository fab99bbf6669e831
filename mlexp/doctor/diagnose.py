"""After training: what the curves and the predictions say, each finding with evidence and an override."""

from __future__ import annotations

import math

import numpy as np

from mlexp import tasks
from mlexp.doctor import Finding

OVERFIT_RISE = 0.10  # validation loss this far above its minimum ...
OVERFIT_AFTER = 3  # ... with the minimum at least this many epochs before the end
CHANCE_MARGIN = 0.05
COLLAPSE_SHARE = 0.9


def diagnose(
    rows: list[dict], learning_rate: float, predicted, labels, classes: int, classifies: bool = True
) -> list[Finding]:
    """Findings for a finished run: `predicted` and `labels` are validation classes (when `classifies`)."""
    if not rows:
        return []
    loss = [r.get("loss", math.nan) for r in rows]
    if any(not math.isfinite(v) for v in loss) or (len(loss) > 2 and loss[-1] > 10 * loss[0]):
        return [_divergence(rows, loss, learning_rate)]
    if not len(labels):  # trainer.validation=none: no validation data to judge by
        return []
    findings = []
    for rule in (_not_learning, _collapsed) if classifies else ():
        findings += rule(rows, predicted, labels, classes)
    if not findings:
        for rule in (_overfitting, _oscillation, _plateau, _underfitting):
            findings += rule(rows, learning_rate)
    return findings


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


def _not_learning(rows, predicted, labels, classes) -> list[Finding]:
    accuracy = [r.get("val_accuracy", math.nan) for r in rows]
    best = max(accuracy)
    chance = float(np.bincount(labels, minlength=classes).max() / len(labels)) if len(labels) else 1 / classes
    if best > chance + CHANCE_MARGIN:
        return []
    return [
        Finding(
            "not_learning", "error",
            f"validation accuracy never rose above chance: best {best:.3f}, chance {chance:.3f} "
            f"(the most frequent class) over {len(rows)} epochs.",
            "model.kernel_initializer=glorot_uniform, dataset.scale=unit, or optimizer.learning_rate=0.001",
            {"best_val_accuracy": best, "chance": chance, "epochs": len(rows)},
        )
    ]  # fmt: skip


def _collapsed(rows, predicted, labels, classes) -> list[Finding]:
    if not len(predicted):
        return []
    counts = np.bincount(predicted, minlength=classes)
    top = int(counts.argmax())
    share = float(counts[top] / counts.sum())
    if share < COLLAPSE_SHARE or float(np.mean(labels == top)) > 0.5:
        return []
    return [
        Finding(
            "collapsed_predictions", "error",
            f"{share:.0%} of the validation predictions are class {top}, which is only "
            f"{float(np.mean(labels == top)):.0%} of the labels.",
            "model.kernel_initializer=glorot_uniform or a lower optimizer.learning_rate",
            {"class": top, "predicted_share": share, "label_share": float(np.mean(labels == top))},
        )
    ]  # fmt: skip


def _overfitting(rows, lr) -> list[Finding]:
    val = [r.get("val_loss", math.nan) for r in rows]
    best = int(np.nanargmin(val))
    if best > len(val) - 1 - OVERFIT_AFTER or val[-1] < val[best] * (1 + OVERFIT_RISE):
        return []
    gap = lambda i: rows[i].get("accuracy", 0) - rows[i].get("val_accuracy", 0)  # noqa: E731
    epoch = int(rows[best]["epoch"])
    return [
        Finding(
            "overfitting", "warning",
            f"validation loss bottomed out at epoch {epoch} ({val[best]:.4f}) and rose to {val[-1]:.4f} "
            f"({val[-1] / val[best] - 1:.0%}) by epoch {rows[-1]['epoch']}; the train/validation accuracy gap grew "
            f"from {gap(best):.3f} to {gap(len(rows) - 1):.3f}.",
            f"callbacks.early_stopping.enabled=true (or trainer.epochs={epoch}), model.dropout=0.3, regularizer=l2",
            {"best_epoch": epoch, "best_val_loss": val[best], "final_val_loss": val[-1],
             "gap_at_best": gap(best), "final_gap": gap(len(rows) - 1)},
        )
    ]  # fmt: skip


def _oscillation(rows, lr) -> list[Finding]:
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


def _plateau(rows, lr) -> list[Finding]:
    loss = [r["loss"] for r in rows]
    if len(loss) < 6 or rows[-1].get("accuracy", 0) > 0.95:
        return []
    change = (loss[-6] - loss[-1]) / loss[-6]
    if change > 0.01:
        return []
    evidence = {"relative_change": change}
    rates = [r["learning_rate"] for r in rows if r.get("learning_rate") is not None]
    lowered = ""
    suggestion = "callbacks.reduce_lr_on_plateau.enabled=true, or a bigger model"
    if len(rates) > 1 and rates[-1] < rates[0]:  # a callback or schedule already lowered it: lowering is not the cure
        evidence |= {"first_learning_rate": rates[0], "last_learning_rate": rates[-1]}
        lowered = f"; the learning rate was already lowered from {rates[0]:.3g} to {rates[-1]:.3g}"
        suggestion = "a bigger model, or less regularization (model.dropout, regularizer=none, augmentation=none)"
    return [
        Finding(
            "plateau", "warning",
            f"the training loss changed by {change:.2%} over the last 5 epochs at training accuracy "
            f"{rows[-1].get('accuracy', 0):.3f}{lowered}.",
            suggestion, evidence,
        )
    ]  # fmt: skip


def _underfitting(rows, lr) -> list[Finding]:
    last = rows[-1]
    train, val = last.get("accuracy", 1.0), last.get("val_accuracy", 1.0)
    improving = len(rows) > 1 and rows[-1]["loss"] < rows[-2]["loss"] * 0.99
    if train >= 0.8 or train - val > 0.05 or not improving:
        return []
    return [
        Finding(
            "underfitting", "warning",
            f"training accuracy is only {train:.3f} (validation {val:.3f}) and the loss was still falling "
            f"at the last epoch: the model has not fit the training data yet.",
            f"trainer.epochs={2 * len(rows)}, or more units (model.hidden_units)",
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
    return [f"- **{finding.severity}** `{finding.code}`: {finding.message}", f"  Try: `{finding.suggestion}`"]
