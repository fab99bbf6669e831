"""The MNIST lab's debug figures for a finished run, from labels and predictions (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mlexp.runs import atomic_path
from mlexp.tasks import REGRESSION, SINGLE_LABEL

CLASS_REPORT = "classification_report.csv"
REGRESSION_REPORT = "regression_report.csv"
HISTOGRAM, CONFUSION, MISCLASSIFIED = "predicted_classes.png", "confusion_matrix.png", "misclassified.png"
SCATTER = "predicted_vs_true.png"
MISCLASSIFIED_SHOWN = 25


def plan(task: str, y_true: np.ndarray, y_pred: np.ndarray, x=None) -> tuple[list[str], dict[str, np.ndarray]]:
    """The debug figures of a run (file names under plots/) and the arrays that draw them (draw()): predicted
    against true values for a regression; the predicted-class histogram, the confusion matrix and the
    misclassified examples (images only) for single-label classes; none for multi-label tasks."""
    if task == REGRESSION:
        return [SCATTER], {"y_true": np.asarray(y_true), "y_pred": np.asarray(y_pred)}
    if task not in SINGLE_LABEL:
        return [], {}
    arrays = {"y_true": np.asarray(y_true), "y_pred": np.asarray(y_pred)}
    names = [HISTOGRAM, CONFUSION]
    wrong = np.flatnonzero(arrays["y_true"] != arrays["y_pred"])[:MISCLASSIFIED_SHOWN]
    if x is not None and x.ndim == 4 and x.shape[-1] in (1, 3) and len(wrong):
        names.append(MISCLASSIFIED)
        arrays["wrong"], arrays["wrong_images"] = wrong, np.stack([np.asarray(x[i]) for i in wrong])
    return names, arrays


def draw(folder: Path, task: str, class_names: list[str], arrays: dict[str, np.ndarray]) -> list[str]:
    """Draw the figures plan() named, from its arrays; their names."""
    import matplotlib

    matplotlib.use("Agg")
    if task == REGRESSION:
        _scatter(folder, arrays["y_true"], arrays["y_pred"])
        return [SCATTER]
    if "y_true" not in arrays:
        return []
    y_true, y_pred = arrays["y_true"], arrays["y_pred"]
    _histogram(folder, y_pred, class_names)
    _confusion(folder, y_true, y_pred, class_names)
    if "wrong_images" not in arrays:
        return [HISTOGRAM, CONFUSION]
    wrong = arrays["wrong"]
    _misclassified(folder, arrays["wrong_images"], y_true[wrong], y_pred[wrong], class_names)
    return [HISTOGRAM, CONFUSION, MISCLASSIFIED]


def classification_table(y_true, y_pred, class_names) -> pd.DataFrame:
    from sklearn.metrics import classification_report

    labels = list(range(len(class_names)))
    report = classification_report(
        y_true, y_pred, labels=labels, target_names=class_names, output_dict=True, zero_division=0
    )
    return pd.DataFrame(report).T.rename(columns={"f1-score": "f1"})


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path


# Fixed layouts (no constrained_layout) and one axes per figure: these are drawn for every run of a sweep.


def _histogram(folder, y_pred, class_names) -> Path:
    import matplotlib.pyplot as plt

    counts = np.bincount(y_pred, minlength=len(class_names))
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(class_names) + 2), 3.5))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.25, top=0.9)
    ax.bar(range(len(class_names)), counts, color="tab:blue")
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("test predictions")
    ax.set_title("predicted classes")
    return _save(fig, folder / HISTOGRAM)


def _confusion(folder, y_true, y_pred, class_names) -> Path:
    """Counts of (true, predicted) classes, true down and predicted across, each cell's count written in it."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    n = len(class_names)
    counts = confusion_matrix(y_true, y_pred, labels=list(range(n)))
    size = max(5, 0.45 * n + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    fig.subplots_adjust(left=0.2, right=0.97, bottom=0.2, top=0.92)
    ax.imshow(counts, cmap="Blues", interpolation="nearest")
    if n <= 20:
        dark = counts > counts.max() / 2
        for (i, j), count in np.ndenumerate(counts):
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color="white" if dark[i, j] else "black")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), class_names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("confusion matrix (test)")
    return _save(fig, folder / CONFUSION)


def _misclassified(folder, images, y_true, y_pred, class_names) -> Path:
    """The first misclassified test images with their true and predicted classes, as one mosaic."""
    import matplotlib.pyplot as plt

    columns = 5
    rows = int(np.ceil(len(images) / columns))
    height, width, channels = images.shape[1:]
    pad = max(height, width) // 8 + 1
    mosaic = np.ones((rows * (height + pad), columns * (width + pad), channels))
    for k, image in enumerate(images):
        top, left = (k // columns) * (height + pad), (k % columns) * (width + pad)
        mosaic[top : top + height, left : left + width] = (image - image.min()) / (np.ptp(image) or 1.0)
    fig, ax = plt.subplots(figsize=(2 * columns, 2.2 * rows))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.45 / rows)
    ax.imshow(mosaic[..., 0] if channels == 1 else mosaic, cmap="gray" if channels == 1 else None, vmin=0, vmax=1)
    ax.axis("off")
    for k, (true, pred) in enumerate(zip(y_true, y_pred, strict=True)):
        x, y = (k % columns) * (width + pad) + width / 2, (k // columns) * (height + pad) - pad / 2
        ax.text(x, y, f"true {class_names[true]}\npred {class_names[pred]}", ha="center", va="bottom", fontsize=8)
    return _save(fig, folder / MISCLASSIFIED)


def regression_table(y_true: np.ndarray, y_pred: np.ndarray) -> pd.DataFrame:
    """MAE, RMSE and R² on the test split, in the target's units."""
    from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

    return pd.DataFrame(
        {"value": [mean_absolute_error(y_true, y_pred), root_mean_squared_error(y_true, y_pred),
                   r2_score(y_true, y_pred)]},
        index=["mae", "rmse", "r2"],
    )  # fmt: skip


def _scatter(folder: Path, y_true: np.ndarray, y_pred: np.ndarray) -> Path:
    """Predicted against true values on the test split, with the line of perfect predictions."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), constrained_layout=True)
    ax.scatter(y_true, y_pred, s=8, alpha=0.5, color="#0072B2")
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], color="#D55E00", lw=1, label="perfect prediction")
    ax.set_xlabel("true value (test)")
    ax.set_ylabel("predicted value")
    ax.set_title("How close are the predictions? (test)")
    ax.legend(loc="upper left")
    return _save(fig, folder / SCATTER)


def label_table(y_true: np.ndarray, y_pred: np.ndarray, label_names: list[str]) -> pd.DataFrame:
    """Per-label precision, recall and F1 of a multi-label task (rows of 0/1)."""
    from sklearn.metrics import classification_report

    report = classification_report(
        y_true.astype(int), y_pred.astype(int), target_names=label_names, output_dict=True, zero_division=0
    )
    return pd.DataFrame(report).T.rename(columns={"f1-score": "f1"}).loc[label_names]
