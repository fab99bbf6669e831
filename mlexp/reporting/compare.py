"""The comparison of a set of runs: summary.csv, comparison.md and plots/. Imports no TensorFlow."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from mlexp import runs
from mlexp.reporting import race_report, stats, verdicts
from mlexp.reporting.collect import RunRecord, find_runs, load_run, text, with_interval
from mlexp.reporting.names import component_keys, header, run_labels, varied_keys
from mlexp.reporting.stats import Estimate, Verdict
from mlexp.tasks import MULTICLASS, REGRESSION, SCORE, lower_is_better

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
    table: pd.DataFrame  # one row per run: name, config, varied keys, metrics, intervals, verdict, status, reason, run
    varied: list[str]
    verdicts: list[Verdict]  # one per config (a config's seeds pooled), in the order of first appearance
    objective: str
    score: str = "accuracy"  # the task's metric: accuracy, or mae when every run is a regression
    settings: verdicts.Settings = field(default_factory=verdicts.Settings)
    test_estimates: dict[str, Estimate | None] = field(default_factory=dict)  # config -> its test score's interval

    @property
    def test_metric(self) -> str:
        return f"test_{self.score}"

    @property
    def failed(self) -> list[RunRecord]:
        return [r for r in self.records if r.status == "failed"]

    @property
    def summary(self) -> str:
        return verdicts.summary(self.verdicts, self.objective) if len(self.verdicts) > 1 else ""

    @property
    def method(self) -> str:
        return verdicts.method(self.verdicts, self.settings)

    def swept_keys(self) -> list[str]:
        """The keys to draw one figure each for: the command-line overrides that differ between runs
        (`optimizer`, `model.activation`), else the varied config keys; never `seed` (it is noise)."""
        keys = sorted({k for r in self.records for k in r.overrides})
        swept = [k for k in keys if len({r.overrides.get(k) for r in self.records}) > 1]
        return [k for k in swept or self.varied if k not in ("seed", "data")]


def score_of(records: list[RunRecord]) -> str:
    """The metric the runs are judged by: mae when all are regressions, accuracy otherwise."""
    found = {r.metrics.get("task", MULTICLASS) for r in records if r.metrics}
    return SCORE[REGRESSION] if found == {REGRESSION} else SCORE[MULTICLASS]


def build(
    records: list[RunRecord], objective: str | None = None, settings: verdicts.Settings | None = None
) -> Comparison:
    settings = settings or verdicts.Settings()
    varied = component_keys(records, varied_keys(records)) if len(records) > 1 else []
    if len({r.data for r in records if r.data}) > 1:  # same config, other files: say so in every table
        varied.append("data")
    score = score_of(records)
    objective = objective or f"best_val_{score}"
    test = f"test_{score}"
    names = run_labels(records, varied) if records else []
    configs = verdicts.config_names(records, varied) if records else []
    decided = verdicts.decide(records, configs, objective, settings)
    verdict_of = {v.name: v.verdict for v in decided}
    rows = []
    for record, name, config in zip(records, names, configs, strict=True):
        row = {"name": name, "config": config}
        row |= {key: text(record.data[:8] if key == "data" else record.config.get(key)) for key in varied}
        row.update({name: record.metrics.get(name) for name in metric_columns(score)})
        for metric in (objective, test):
            estimate = verdicts.run_interval(record.metrics, metric, settings.confidence)
            row[f"{metric}_low"], row[f"{metric}_high"] = (estimate.low, estimate.high) if estimate else (None, None)
        row["verdict"] = verdict_of.get(config, "")
        row["status"] = record.status
        row["reason"] = record.reason
        row["run"] = str(record.path)
        rows.append(row)
    intervals = [f"{m}_{end}" for m in dict.fromkeys((objective, test)) for end in ("low", "high")]
    columns = ["name", "config", *varied, *metric_columns(score), *intervals, "verdict", "reason", "run"]
    table = pd.DataFrame(rows, columns=columns)
    tests = verdicts.configs(records, configs, test, settings.confidence)
    estimates = {c.name: stats.estimate(c, settings.confidence) for c in tests}
    return Comparison(records, table, varied, decided, objective, score, settings, estimates)


def higher_is_better(metric: str) -> bool:
    return not lower_is_better(metric)


def settings_of(paths: list[Path | str], flags=None) -> verdicts.Settings:
    """compare.confidence and compare.min_difference: the command's flags (`flags.confidence`,
    `flags.min_difference`), else as the sweep was launched (its multirun.yaml), else the defaults."""
    import yaml

    from mlexp.config import catalog

    found: dict = {}
    for path in paths:
        try:
            saved = yaml.safe_load((Path(path) / "multirun.yaml").read_text(encoding="utf-8"))
            found = dict(saved.get("compare") or {})
            break
        except (OSError, AttributeError, TypeError, ValueError, yaml.YAMLError):
            continue
    for key in ("confidence", "min_difference"):
        if getattr(flags, key, None) is not None:
            found[key] = getattr(flags, key)
            catalog.SWEEP_SETTINGS["compare"][key].check(f"--{key.replace('_', '-')}", found[key])
    return verdicts.Settings(float(found.get("confidence", stats.CONFIDENCE)), float(found.get("min_difference", 0.0)))


def compare(
    paths: list[Path | str], out: Path, objective: str | None = None, settings: verdicts.Settings | None = None
) -> Comparison:
    """Compare the runs under `paths` and write the report into `out`; settings default to the sweep's own."""
    from mlexp.reporting.run_figures import draw_missing

    found = find_runs(paths)
    draw_missing(found)  # the figures a killed sweep left undrawn
    records = race_report.final_stage([load_run(p) for p in found], race_report.read(out))
    comparison = build(records, objective, settings or settings_of(paths))
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
    """The ranked runs with their intervals and verdicts, then the conclusion."""
    table = ranked(comparison)
    if not len(table):
        return "(no runs)"
    shown = pd.DataFrame({
        "name": table["name"],
        comparison.objective: [_cell(row, comparison.objective) for _, row in table.iterrows()],
        comparison.test_metric: [_cell(row, comparison.test_metric) for _, row in table.iterrows()],
        "epochs_run": table["epochs_run"].map(text),
        "status": table["status"],
        "verdict": table["verdict"],
    })  # fmt: skip
    lines = [shown.to_string(index=False)]
    if comparison.summary:
        lines += [comparison.summary, comparison.method]
    return "\n".join(lines)


def _cell(row, metric: str) -> str:
    return with_interval(row.get(metric), row.get(f"{metric}_low"), row.get(f"{metric}_high"))


def write_report(comparison: Comparison, out: Path) -> Path:
    from mlexp.reporting.html import write as write_html
    from mlexp.reporting.plots import comparison_figures

    out.mkdir(parents=True, exist_ok=True)
    with runs.atomic_path(out / SUMMARY) as tmp:
        comparison.table.to_csv(tmp, index=False)
    run_dirs: dict[str, list[str]] = {}
    for _, row in comparison.table.iterrows():
        run_dirs.setdefault(row["config"], []).append(_relative(row["run"], out))
    verdicts.write(out / verdicts.VERDICT, comparison.verdicts, comparison.objective, comparison.settings, run_dirs)
    figures = comparison_figures(comparison, out / "plots")
    race = race_report.read(out)  # a race's record (hydra/sweeper=race): its own section and figure
    extra = race_report.markdown(race, comparison, out) if race else []
    if race and race_report.figure(race, out / "plots" / "race.png"):
        figures.insert(0, out / "plots" / "race.png")
    runs.write_text(out / REPORT, markdown(comparison, [f.relative_to(out) for f in figures], out, extra))
    write_html(comparison, ranked(comparison), [f.relative_to(out) for f in figures], out)
    log.info("Comparison of %d runs: %s", len(comparison.records), out / REPORT)
    return out / REPORT


def ranked(comparison: Comparison) -> pd.DataFrame:
    """The table sorted by the objective, best first; runs without a score last."""
    return comparison.table.sort_values(
        comparison.objective, ascending=not higher_is_better(comparison.objective), na_position="last", kind="stable"
    )


def markdown(comparison: Comparison, figures: list[Path], out: Path, extra: list[str] = ()) -> str:
    table = ranked(comparison)
    counts = table["status"].value_counts()
    confidence = f"{comparison.settings.confidence:.0%}"
    lines = [
        "# Comparison",
        "",
        f"{len(table)} runs: " + ", ".join(f"{n} {status}" for status, n in counts.items()) + ". "
        f"Sorted by {comparison.objective} ({'higher' if higher_is_better(comparison.objective) else 'lower'} "
        f"is better), with {confidence} intervals in brackets; a run's config is marked best only when its lead "
        "is supported (see How sure is this comparison?).",
        "",
    ]
    columns = ["name", *comparison.varied, "test_loss", "epochs_run", "fit_seconds", "status"]
    scores = [comparison.objective, comparison.test_metric]
    body = []
    for _, row in table.iterrows():
        run = _relative(row["run"], out)
        cells = [text(row[c]) for c in columns[: 1 + len(comparison.varied)]]
        cells += [_cell(row, m) for m in scores] + [text(row[c]) for c in columns[1 + len(comparison.varied) :]]
        marker = "**best**" if row["verdict"] == "best" else row["verdict"]
        body.append([marker, *cells, f"[{run}]({run}) ([config]({run}/{runs.CONFIG}))"])
    heads = [header(c) for c in columns]
    heads = heads[: 1 + len(comparison.varied)] + scores + heads[1 + len(comparison.varied) :]
    lines += _table(["verdict", *heads, "run"], body)
    failed = table[table["status"] == "failed"]
    if len(failed):
        lines += ["", "## Failed runs", ""]
        lines += [f"- `{_relative(r['run'], out)}` ({r['name']}): {r['reason']}" for _, r in failed.iterrows()]
    if len(comparison.verdicts) > 1:
        lines += ["", "## How sure is this comparison?", "", comparison.summary, ""]
        lines += _table(*verdicts.verdict_rows(comparison))
        lines += ["", comparison.method]
    if extra:
        lines += ["", *extra]
    if figures:
        lines += ["", "## Figures", ""]
        lines += [f"![{f.stem}]({f.as_posix()})" for f in figures]
    return "\n".join(lines) + "\n"


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
