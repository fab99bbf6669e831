"""The comparison of a set of runs: summary.csv, comparison.md and plots/. Imports no TensorFlow."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlexp import runs
from mlexp.reporting.collect import RunRecord, find_runs, load_run, text
from mlexp.reporting.names import component_keys, header, run_labels, varied_keys
from mlexp.tasks import SCORE, lower_is_better

log = logging.getLogger(__name__)


def metric_columns(score: str) -> list[str]:
    """summary.csv's metric columns for runs judged by `score` (accuracy, or mae for regression)."""
    return [
        "final_val_loss", f"final_val_{score}", "best_val_loss", "best_val_loss_epoch", f"best_val_{score}",
        f"best_val_{score}_epoch", "test_loss", f"test_{score}", "epochs_run", "fit_seconds", "wall_seconds",
        "param_count", "status",
    ]  # fmt: skip


METRIC_COLUMNS = metric_columns("accuracy")
OBJECTIVES = sorted({c for score in ("accuracy", "mae") for c in metric_columns(score)} - {"status"})
OBJECTIVE = "best_val_accuracy"
SUMMARY = "summary.csv"
REPORT = "comparison.md"


@dataclass
class Comparison:
    records: list[RunRecord]
    table: pd.DataFrame  # one row per run: varied keys, metrics, status, reason, run
    varied: list[str]
    groups: pd.DataFrame | None  # seed groups, when runs differ in `seed` and something else
    verdict: str
    objective: str
    score: str = "accuracy"  # the task's metric: accuracy, or mae when every run is a regression

    @property
    def test_metric(self) -> str:
        return f"test_{self.score}"

    @property
    def failed(self) -> list[RunRecord]:
        return [r for r in self.records if r.status == "failed"]

    def swept_keys(self) -> list[str]:
        """The keys to draw one figure each for: the command-line overrides that differ between runs
        (`optimizer`, `model.activation`), else the varied config keys; never `seed` (it is noise)."""
        keys = sorted({k for r in self.records for k in r.overrides})
        swept = [k for k in keys if len({r.overrides.get(k) for r in self.records}) > 1]
        return [k for k in swept or self.varied if k not in ("seed", "data")]


def score_of(records: list[RunRecord]) -> str:
    """The metric the runs are judged by: mae when all are regressions, accuracy otherwise."""
    found = {r.metrics.get("task", "multiclass") for r in records if r.metrics}
    return SCORE["regression"] if found == {"regression"} else SCORE["multiclass"]


def build(records: list[RunRecord], objective: str | None = None) -> Comparison:
    varied = component_keys(records, varied_keys(records)) if len(records) > 1 else []
    if len({r.data for r in records if r.data}) > 1:  # same config, other files: say so in every table
        varied.append("data")
    score = score_of(records)
    objective = objective or f"best_val_{score}"
    columns = metric_columns(score)
    rows = []
    names = run_labels(records, varied) if records else []
    for record, name in zip(records, names, strict=True):
        row = {"name": name}
        row |= {key: text(record.data[:8] if key == "data" else record.config.get(key)) for key in varied}
        row.update({name: record.metrics.get(name) for name in columns})
        row["status"] = record.status
        row["reason"] = record.reason
        row["run"] = str(record.path)
        rows.append(row)
    table = pd.DataFrame(rows, columns=["name", *varied, *columns, "reason", "run"])
    groups, verdict = seed_groups(table, varied, objective, f"test_{score}")
    return Comparison(records, table, varied, groups, verdict, objective, score)


def higher_is_better(metric: str) -> bool:
    return not lower_is_better(metric)


def seed_groups(
    table: pd.DataFrame, varied: list[str], objective: str, test: str = "test_accuracy"
) -> tuple[pd.DataFrame | None, str]:
    """Runs that differ only in `seed`, as groups with mean and std; is the best group's lead real?"""
    keys = [k for k in varied if k != "seed"]
    if "seed" not in varied or not keys:
        return None, ""
    scored = table[table["status"].isin(["completed", "diverged"])]
    stats = scored.groupby(keys, sort=False)[[objective, test]].agg(["mean", "std", "count"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats = stats.rename(columns={f"{objective}_count": "n"}).drop(columns=[f"{test}_count"])
    stats = stats.sort_values(f"{objective}_mean", ascending=not higher_is_better(objective)).reset_index()
    return stats, lead_verdict(stats, objective)


def lead_verdict(stats: pd.DataFrame, objective: str) -> str:
    """The best group's lead over the runner-up, against the seed-to-seed noise of that difference."""
    if len(stats) < 2:
        return ""
    best, second = stats.iloc[0], stats.iloc[1]
    lead = abs(best[f"{objective}_mean"] - second[f"{objective}_mean"])
    noise = math.sqrt(
        (best[f"{objective}_std"] or 0) ** 2 / best["n"] + (second[f"{objective}_std"] or 0) ** 2 / second["n"]
    )
    if any(pd.isna(v) for v in (best[f"{objective}_std"], second[f"{objective}_std"])):
        return f"The best group leads by {lead:.4f} {objective}; one seed per group cannot measure the noise."
    larger = lead > 2 * noise
    return (
        f"The best group leads the runner-up by {lead:.4f} {objective}; the seed-to-seed noise of that "
        f"difference is {noise:.4f} (standard error), so the lead is "
        + (
            "larger than the noise (more than 2 standard errors)."
            if larger
            else "within the noise (2 standard errors)."
        )
    )


def compare(paths: list[Path | str], out: Path, objective: str | None = None) -> Comparison:
    comparison = build([load_run(p) for p in find_runs(paths)], objective)
    write_report(comparison, Path(out))
    return comparison


def default_output(paths: list[Path]) -> Path:
    """A single sweep directory gets its own report; anything else a new folder under outputs/."""
    from mlexp.reporting.collect import is_run_dir

    if len(paths) == 1 and Path(paths[0]).is_dir() and not is_run_dir(Path(paths[0])):
        return Path(paths[0])
    import time

    return Path("outputs/comparisons") / time.strftime("%Y-%m-%d_%H-%M-%S")


def console_table(comparison: Comparison) -> str:
    columns = ["name", comparison.objective, comparison.test_metric, "epochs_run", "status"]
    table = ranked(comparison)[columns]
    return table.to_string(index=False, formatters={c: text for c in columns}) if len(table) else "(no runs)"


def write_report(comparison: Comparison, out: Path) -> Path:
    from mlexp.reporting.html import write as write_html
    from mlexp.reporting.plots import comparison_figures

    out.mkdir(parents=True, exist_ok=True)
    with runs.atomic_path(out / SUMMARY) as tmp:
        comparison.table.to_csv(tmp, index=False)
    figures = comparison_figures(comparison, out / "plots")
    runs.write_text(out / REPORT, markdown(comparison, [f.relative_to(out) for f in figures], out))
    write_html(comparison, ranked(comparison), [f.relative_to(out) for f in figures], out)
    log.info("Comparison of %d runs: %s", len(comparison.records), out / REPORT)
    return out / REPORT


def ranked(comparison: Comparison) -> pd.DataFrame:
    """The table sorted by the objective, best first; runs without a score last."""
    return comparison.table.sort_values(
        comparison.objective, ascending=not higher_is_better(comparison.objective), na_position="last", kind="stable"
    )


def markdown(comparison: Comparison, figures: list[Path], out: Path) -> str:
    table = ranked(comparison)
    counts = table["status"].value_counts()
    lines = [
        "# Comparison",
        "",
        f"{len(table)} runs: " + ", ".join(f"{n} {status}" for status, n in counts.items()) + ". "
        f"Sorted by {comparison.objective} ({'higher' if higher_is_better(comparison.objective) else 'lower'} "
        "is better); the best run is marked.",
        "",
    ]
    columns = [
        "name",
        *comparison.varied,
        comparison.objective,
        comparison.test_metric,
        "test_loss",
        "epochs_run",
        "fit_seconds",
        "status",
    ]
    best_index = table[comparison.objective].first_valid_index()
    body = []
    for index, row in table.iterrows():
        run = _relative(row["run"], out)
        cells = [text(row[c]) for c in columns] + [f"[{run}]({run}) ([config]({run}/{runs.CONFIG}))"]
        body.append(["**best**" if index == best_index else "", *cells])
    lines += _table(["", *(header(c) for c in columns), "run"], body)
    failed = table[table["status"] == "failed"]
    if len(failed):
        lines += ["", "## Failed runs", ""]
        lines += [f"- `{_relative(r['run'], out)}` ({r['name']}): {r['reason']}" for _, r in failed.iterrows()]
    if comparison.groups is not None:
        lines += ["", "## Seed groups", ""]
        g = comparison.groups
        keys = [c for c in g.columns if c in comparison.varied]
        obj, test = comparison.objective, comparison.test_metric
        rows = [
            [*(text(r[k]) for k in keys), str(int(r["n"])), _pm(r[f"{obj}_mean"], r[f"{obj}_std"]),
             _pm(r[f"{test}_mean"], r[f"{test}_std"])]
            for _, r in g.iterrows()
        ]  # fmt: skip
        lines += _table([*(header(k) for k in keys), "n", f"{obj} mean ± std", f"{test} mean ± std"], rows)
        lines += ["", comparison.verdict]
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{f.stem}]({f.as_posix()})" for f in figures]
    return "\n".join(lines) + "\n"


def _pm(mean, std) -> str:
    return f"{text(mean)} ± {text(std)}"


def _relative(run: str, out: Path) -> str:
    try:
        return str(Path(run).resolve().relative_to(out.resolve()))
    except ValueError:
        return run


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    escape = lambda cell: str(cell).replace("|", "\\|")  # noqa: E731
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(escape(c) for c in row) + " |" for row in rows),
    ]
