"""mlexp data: look at a dataset before training on it (the lab notebook's first step).

Split sizes, the task, class counts and imbalance, the inputs' dtype and value range, a grid of
sample images per class and, with an augmentation, the same images augmented; printed and written
to a folder (summary.json, class_counts.png, samples.png, augmented.png).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from mlexp import runs
from mlexp.tasks import MULTILABEL, SINGLE_LABEL

log = logging.getLogger(__name__)

SAMPLE = 512  # inputs decoded to describe value ranges of data read from files
VERSIONS = 4  # augmented versions shown per image


def describe(splits) -> dict:
    """What `mlexp data` prints and writes to summary.json."""
    spec = splits.spec
    inputs = splits.inputs("x_train", limit=SAMPLE)
    out = {
        "dataset": spec.name, "task": spec.task, "input_shape": list(spec.input_shape), "sizes": dict(spec.sizes),
        "validation_source": spec.validation_source, "input_dtype": str(inputs.dtype),
        "input_range": [float(inputs.min()), float(inputs.max())] if inputs.size else None,
        "input_mean": float(inputs.mean()) if inputs.size else None,
        "preprocessing": {k: v for k, v in spec.preprocessing.items() if k in ("scale", "max_value", "mean", "std")},
    }  # fmt: skip
    if spec.task in SINGLE_LABEL:
        counts = {split: np.bincount(getattr(splits, f"y_{split}"), minlength=spec.num_classes).tolist()
                  for split in ("train", "val", "test")}  # fmt: skip
        out["class_names"] = spec.class_names
        out["class_counts"] = counts
        train = np.array(counts["train"])
        out["imbalance"] = float(train.max() / max(train.min(), 1))  # largest over smallest class
        out["missing_classes"] = {
            split: [spec.class_names[i] for i, n in enumerate(c) if n == 0]
            for split, c in counts.items()
            if spec.sizes[split] and 0 in c
        }
    elif spec.task == MULTILABEL:
        out["label_counts"] = dict(zip(spec.class_names, splits.y_train.sum(axis=0).astype(int).tolist(), strict=True))
    else:
        y = splits.y_train
        out["target"] = {"min": float(y.min()), "max": float(y.max()), "mean": float(y.mean()), "std": float(y.std())}
    return out


def text(summary: dict) -> str:
    sizes = summary["sizes"]
    lines = [
        f"Dataset {summary['dataset']!r}: {summary['task']}, input {tuple(summary['input_shape'])} "
        f"{summary['input_dtype']}, values {summary['input_range'][0]:.4g} to {summary['input_range'][1]:.4g} "
        f"(mean {summary['input_mean']:.4g}) after scale={summary['preprocessing'].get('scale')}",
        f"Splits: {sizes['train']} train / {sizes['val']} validation ({summary['validation_source']}) / "
        f"{sizes['test']} test",
    ]
    if "class_counts" in summary:
        width = max(len(name) for name in summary["class_names"])
        lines.append(f"{'class':<{width}}  {'train':>7} {'val':>7} {'test':>7}")
        for i, name in enumerate(summary["class_names"]):
            row = " ".join(f"{summary['class_counts'][s][i]:>7}" for s in ("train", "val", "test"))
            lines.append(f"{name:<{width}}  {row}")
        lines.append(f"Imbalance (largest / smallest training class): {summary['imbalance']:.2f}")
        for split, missing in summary["missing_classes"].items():
            lines.append(f"Warning: the {split} split has no sample of {', '.join(missing)}")
    elif "label_counts" in summary:
        lines.append("Training samples per label: " + ", ".join(f"{k} {v}" for k, v in summary["label_counts"].items()))
    else:
        t = summary["target"]
        lines.append(f"Target: {t['min']:.4g} to {t['max']:.4g}, mean {t['mean']:.4g}, std {t['std']:.4g}")
    return "\n".join(lines)


def write(splits, cfg, out: Path, per_class: int) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    summary = describe(splits)
    out.mkdir(parents=True, exist_ok=True)
    runs.write_json(out / "summary.json", summary)
    written = [out / "summary.json"]
    if "class_counts" in summary:
        written.append(_class_counts(summary, out / "class_counts.png"))
    if len(splits.spec.input_shape) == 3 and splits.spec.input_shape[-1] in (1, 3):
        chosen = _per_class(splits, per_class)
        images = splits.take("x_train", chosen)
        titles = [_label(splits, i) for i in chosen]
        written.append(_grid(images, titles, out / "samples.png", "Training samples", columns=per_class))
        one_each = [titles.index(t) for t in dict.fromkeys(titles)]  # a sample of every class first
        shown = (one_each + [i for i in range(len(titles)) if i not in one_each])[:8]
        written += _augmented(cfg, images[shown], [titles[i] for i in shown], out / "augmented.png")
    print(text(summary))
    return written


def _per_class(splits, per_class: int) -> np.ndarray:
    y = splits.y_train
    if splits.spec.task not in SINGLE_LABEL:
        return np.arange(min(len(y), per_class * 4))
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(splits.spec.num_classes)])


def _label(splits, i: int) -> str:
    y = splits.y_train[i]
    if splits.spec.task in SINGLE_LABEL:
        return splits.spec.class_names[int(y)]
    if splits.spec.task == MULTILABEL:
        return "|".join(n for n, v in zip(splits.spec.class_names, y, strict=True) if v)
    return f"{float(y):.3g}"


def _augmented(cfg, images: np.ndarray, titles: list[str], path: Path) -> list[Path]:
    from mlexp.tf_runtime import import_tensorflow

    tf = import_tensorflow()

    from mlexp.data.augment import augmenter

    augment = augmenter(cfg.augmentation, cfg.seed)
    if augment is None or not len(images):
        return []
    batch = tf.constant(images.astype(np.float32))
    versions = [augment(batch, tf.constant(epoch, tf.int64), tf.constant(0, tf.int64)).numpy() for epoch in
                range(VERSIONS)]  # fmt: skip
    grid = np.stack([images, *versions], axis=1).reshape(-1, *images.shape[1:])
    labels = [t if k == 0 else f"epoch {k - 1}" for t in titles for k in range(VERSIONS + 1)]
    title = f"augmentation={cfg.augmentation.name}: original, then epochs 0-{VERSIONS - 1}"
    return [_grid(grid, labels, path, title, columns=VERSIONS + 1)]


def _grid(images: np.ndarray, titles: list[str], path: Path, title: str, columns: int) -> Path:
    import matplotlib.pyplot as plt

    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.8 * rows + 0.4), squeeze=False)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.5 / (rows + 0.3), wspace=0.1, hspace=0.4)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, label in zip(axes.flat, images, titles, strict=False):
        shown = (image - image.min()) / (np.ptp(image) or 1.0)  # any scaling, shown full range
        ax.imshow(shown[..., 0] if shown.shape[-1] == 1 else shown, cmap="gray" if shown.shape[-1] == 1 else None)
        ax.set_title(label, fontsize=7)
    fig.suptitle(title, fontsize=10)
    with runs.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return path


def _class_counts(summary: dict, path: Path) -> Path:
    import matplotlib.pyplot as plt

    names, counts = summary["class_names"], summary["class_counts"]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(names) + 2), 3.8), constrained_layout=True)
    for k, (split, colour) in enumerate((("train", "#0072B2"), ("val", "#E69F00"), ("test", "#009E73"))):
        ax.bar(x + (k - 1) * 0.27, counts[split], width=0.27, label=split, color=colour)
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("samples")
    ax.set_title("How many samples of each class per split?")
    ax.legend()
    with runs.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path
