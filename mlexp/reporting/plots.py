"""Figures people would rather look at than read."""

from __future__ import annotations

from pathlib import Path

from mlexp.runs import atomic_path

# Okabe-Ito: told apart with the common colour-vision deficiencies, and in greyscale by line style.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def learning_curves(rows: list[dict[str, float]], path: Path, title: str = "", score: str = "accuracy") -> None:
    """Loss and the task's score (accuracy, or mae) per epoch: training dashed, validation solid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))  # a fixed layout: drawn for every run of a sweep
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.86 if title else 0.93, wspace=0.22)
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
    """Overlaid learning curves per swept key, the verdicts, the test score per config, the doctor's grid."""
    figures = []
    for key in comparison.swept_keys():
        path = folder / f"curves_{_safe(key)}.png"
        _overlaid_curves(comparison.records, key, path, comparison.score)
        figures.append(path)
    path = folder / "verdicts.png"
    if _verdict_chart(comparison, path):
        figures.append(path)
    path = folder / f"{comparison.test_metric}.png"
    if _test_score_bars(comparison, path):
        figures.append(path)
    path = folder / "doctor.png"
    if _doctor_grid(comparison, path):
        figures.append(path)
    return figures


def _doctor_grid(comparison, path: Path) -> bool:
    """Which run got which of the doctor's findings: runs down, finding codes across (errors dark)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    table = comparison.table
    found = [{f["code"]: f["severity"] for f in record.findings} for record in comparison.records]
    codes = sorted({code for run in found for code in run})
    if not codes:
        return False
    level = {"info": 1, "warning": 2, "error": 3}
    grid = np.array([[level.get(run.get(code), 0) for code in codes] for run in found])
    # Cells of a fixed size (about 0.9 x 0.35 inch): one finding is a small strip, not a large block.
    fig, ax = plt.subplots(figsize=(3.2 + 0.9 * len(codes), 1.4 + 0.35 * len(found)), layout="constrained")
    colours = matplotlib.colors.ListedColormap(["#FFFFFF", "#56B4E9", "#E69F00", "#D55E00"])
    ax.imshow(grid, cmap=colours, vmin=0, vmax=3, aspect="auto")
    ax.set_xticks(range(len(codes)), codes, rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(found)), [_wrap(name, 40) for name in table["name"]], fontsize=8)
    for (i, j), value in np.ndenumerate(grid):
        if value:
            ax.text(j, i, ("info", "warning", "error")[value - 1], ha="center", va="center", fontsize=7)
    ax.set_title("What did the doctor find in each run?", fontsize=10)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return True


def _safe(key: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in key)


def _value(record, key: str) -> str:
    from mlexp.reporting.names import short

    return record.overrides.get(key) or short(record.config.get(key))


def _overlaid_curves(records, key: str, path: Path, score: str = "accuracy") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    values = list(dict.fromkeys(_value(r, key) for r in records))
    look = {v: (PALETTE[i % len(PALETTE)], STYLES[i % len(STYLES)], MARKERS[i % len(MARKERS)])
            for i, v in enumerate(values)}  # fmt: skip
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for ax, metric in zip(axes, (score, "loss"), strict=True):
        labelled = set()
        for record in records:
            history = record.history
            if history.empty or f"val_{metric}" not in history:
                continue
            value = _value(record, key)
            colour, style, marker = look[value]
            label = None if value in labelled else f"{key}={value}"
            labelled.add(value)
            epochs = list(history["epoch"] if "epoch" in history else range(1, len(history) + 1))
            curve = list(history[f"val_{metric}"])
            ax.plot(epochs, curve, style, color=colour, label=label, linewidth=1.6)
            ax.plot(epochs[-1:], curve[-1:], marker, color=colour, markersize=7)  # where each run ends
            if metric in history:
                ax.plot(epochs, history[metric], style, color=colour, alpha=0.35, linewidth=1)
        ax.set_title(f"How does validation {metric} evolve with {key}? (training faint)", fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if labelled:
            ax.legend(fontsize=8)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)


def _test_score_bars(comparison, path: Path) -> bool:
    """The test score per config with its interval (over seeds, or from the test samples): values on the
    bars, the axis from 0, names from meaning."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    test = comparison.test_metric
    shown = [(name, e) for name, e in comparison.test_estimates.items() if e is not None]
    if not shown:  # no interval known (old regressions): the bare scores per run
        scored = comparison.table[comparison.table[test].notna()]
        shown = [(name, None) for name in scored["name"]]
        heights = list(scored[test])
    else:
        heights = [e.mean for _, e in shown]
    if not heights:
        return False
    labels = [name for name, _ in shown]
    errors = None
    if all(e is not None for _, e in shown):
        errors = [[e.mean - e.low for _, e in shown], [e.high - e.mean for _, e in shown]]
    width = max(6, 0.8 * len(labels) + 3)
    fig, ax = plt.subplots(figsize=(width, 4.5), layout="constrained")
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(labels))]
    bars = ax.bar(range(len(labels)), heights, yerr=errors, capsize=4, color=colours)
    form = "{:.3f}" if comparison.score == "accuracy" else "{:.4g}"
    ax.bar_label(bars, labels=[form.format(h) for h in heights], padding=3, fontsize=8)
    ax.set_xticks(range(len(labels)), [_wrap(label) for label in labels], rotation=20, ha="right", fontsize=8)
    spread = f" ({comparison.settings.confidence:.0%} interval)" if errors is not None else ""
    ax.set_ylabel(test.replace("_", " ") + spread)
    top = max(e.high for _, e in shown) if errors is not None else float(max(heights))
    ax.set_ylim(0.0, min(1.08, top * 1.12) if comparison.score == "accuracy" else top * 1.15)  # honest: from 0
    better = "higher" if comparison.score == "accuracy" else "lower"
    ax.set_title(f"Which config scores best on the test split? ({test.replace('_', ' ')}, {better} is better)",
                 fontsize=10)  # fmt: skip
    ax.grid(axis="y", alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return True


VERDICT_COLOURS = {"best": "#009E73", "tied": "#0072B2", "undecided": "#E69F00", "worse": "#999999"}


def _verdict_chart(comparison, path: Path) -> bool:
    """Each config's objective with its interval, coloured by verdict, the leader's mean as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [v for v in comparison.verdicts if v.mean is not None]
    if len(shown) < 2:
        return False
    fig, ax = plt.subplots(figsize=(8, 1.4 + 0.45 * len(shown)), layout="constrained")
    for i, v in enumerate(shown):
        colour = VERDICT_COLOURS.get(v.verdict, "#000000")
        if v.low is not None:
            ax.plot([v.low, v.high], [i, i], color=colour, linewidth=3, solid_capstyle="butt")
        ax.plot([v.mean], [i], "o", color=colour, markersize=7)
        ax.annotate(f" {v.verdict} (n={v.n})", (v.high if v.high is not None else v.mean, i), va="center", fontsize=8)
    leader = next(v for v in shown if v.difference is None)
    ax.axvline(leader.mean, color="grey", linestyle=":", linewidth=1)
    ax.set_yticks(range(len(shown)), [_wrap(v.name, 40) for v in shown], fontsize=8)
    ax.invert_yaxis()
    ax.margins(x=0.25)
    ax.set_xlabel(f"{comparison.objective} ({comparison.settings.confidence:.0%} interval)")
    ax.set_title("Which configs can be told apart? (dotted: the leader's mean)", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return True


def _wrap(label: str, width: int = 28) -> str:
    """Long names on several lines, at the commas, so nothing is clipped."""
    lines, line = [], ""
    for part in label.split(", "):
        if line and len(line) + len(part) + 2 > width:
            lines.append(line)
            line = part
        else:
            line = f"{line}, {part}" if line else part
    return "\n".join([*lines, line])
