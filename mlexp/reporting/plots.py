"""Figures people would rather look at than read."""

from __future__ import annotations

from pathlib import Path

from mlexp.runs import atomic_path


def learning_curves(rows: list[dict[str, float]], path: Path, title: str = "", score: str = "accuracy") -> None:
    """Loss and the task's score (accuracy, or mae) per epoch: training dashed, validation solid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, metric in zip(axes, ("loss", score), strict=True):
        for key, style, label in ((metric, "--", "train"), (f"val_{metric}", "-", "validation")):
            if rows and key in rows[0]:
                ax.plot(epochs, [row[key] for row in rows], style, marker="o", markersize=3, label=label)
        start = next((row["epoch"] for row in rows if row.get("phase") == "fine_tune"), None)
        if start is not None:  # one run, two phases: where the backbone was unfrozen
            ax.axvline(start - 0.5, color="grey", linestyle=":", label="fine-tuning starts")
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


def comparison_figures(comparison, folder: Path) -> list[Path]:
    """Overlaid learning curves per swept key, and the test score per run (or per seed group)."""
    figures = []
    for key in comparison.swept_keys():
        path = folder / f"curves_{_safe(key)}.png"
        _overlaid_curves(comparison.records, key, path, comparison.score)
        figures.append(path)
    path = folder / f"{comparison.test_metric}.png"
    if _test_score_bars(comparison, path):
        figures.append(path)
    return figures


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in key)


def _value(record, key: str) -> str:
    from mlexp.reporting.collect import text

    return record.overrides.get(key) or text(record.config.get(key))


def _overlaid_curves(records, key: str, path: Path, score: str = "accuracy") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    values = list(dict.fromkeys(_value(r, key) for r in records))
    colours = {v: plt.cm.tab10(i % 10) for i, v in enumerate(values)}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for ax, metric in zip(axes, (score, "loss"), strict=True):
        labelled = set()
        for record in records:
            history = record.history
            if history.empty or f"val_{metric}" not in history:
                continue
            value = _value(record, key)
            label = None if value in labelled else f"{key}={value}"
            labelled.add(value)
            epochs = history["epoch"] if "epoch" in history else range(1, len(history) + 1)
            ax.plot(epochs, history[f"val_{metric}"], "-", color=colours[value], label=label)
            if metric in history:
                ax.plot(epochs, history[metric], "--", color=colours[value], alpha=0.6)
        ax.set_title(f"validation {metric} (training dashed)")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if labelled:
            ax.legend(fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def _test_score_bars(comparison, path: Path) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table, test = comparison.table, comparison.test_metric
    if comparison.groups is not None:
        groups = comparison.groups
        keys = [c for c in groups.columns if c in comparison.varied]
        labels = [", ".join(str(row[k]) for k in keys) for _, row in groups.iterrows()]
        heights, errors = groups[f"{test}_mean"], groups[f"{test}_std"].fillna(0)
    else:
        scored = table[table[test].notna()]
        keys = [k for k in comparison.varied if k != "seed"][:3]
        labels = [", ".join(str(row[k]) for k in keys) or Path(row["run"]).name for _, row in scored.iterrows()]
        heights, errors = scored[test], None
    if len(heights) == 0:
        return False
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(labels) + 2), 4), constrained_layout=True)
    ax.bar(range(len(labels)), heights, yerr=errors, capsize=4, color="tab:blue")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(test.replace("_", " ") + (" (mean ± std over seeds)" if errors is not None else ""))
    if comparison.score == "accuracy":
        low = float(min(heights)) - (float(max(errors)) if errors is not None else 0)
        ax.set_ylim(max(0.0, low - 0.05), min(1.0, float(max(heights)) + 0.05))
    ax.grid(axis="y", alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return True
