"""Figures people would rather look at than read."""

from __future__ import annotations

from pathlib import Path

from mlexp.runs import atomic_path


def learning_curves(rows: list[dict[str, float]], path: Path, title: str = "") -> None:
    """Loss and accuracy per epoch: training dashed, validation solid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for key, style, label in ((metric, "--", "train"), (f"val_{metric}", "-", "validation")):
            if rows and key in rows[0]:
                ax.plot(epochs, [row[key] for row in rows], style, marker="o", markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
