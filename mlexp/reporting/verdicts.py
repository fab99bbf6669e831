"""From run records to verdicts: each run's interval, runs grouped into configs (seeds pooled), a verdict
per config (`stats.decide`), the sentence that says it, and verdict.json. Imports no TensorFlow."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from mlexp.reporting import stats
from mlexp.reporting.collect import with_interval
from mlexp.reporting.names import run_labels
from mlexp.tasks import lower_is_better

VERDICT = "verdict.json"
SCORED = ("completed", "diverged")


@dataclass(frozen=True)
class Settings:
    """How sure a verdict must be (compare.confidence) and how small a difference is irrelevant."""

    confidence: float = stats.CONFIDENCE
    min_difference: float = 0.0


def evaluation_split(metric: str, metrics: dict) -> str | None:
    """The split a metric was measured on: test_* on test; *val_* on validation (the test split when the
    run validated on it); None for anything else (loss curves, seconds)."""
    if metric.startswith("test_"):
        return "test"
    if metric.startswith(("best_val_", "final_val_")):
        return "test" if metrics.get("validation_source") == "test" else "val"
    return None


def run_interval(metrics: dict, metric: str, confidence: float = stats.CONFIDENCE) -> stats.Estimate | None:
    """One run's score with its interval from its evaluation samples, or None when that noise is unknown:
    Wilson's interval for an accuracy (n from metrics.json's samples), the bootstrap standard error the run
    recorded for another score (MAE)."""
    value, split = metrics.get(metric), evaluation_split(metric, metrics)
    if not isinstance(value, (int, float)) or not math.isfinite(value) or split is None:
        return None
    if metric.endswith("accuracy"):
        samples = (metrics.get("samples") or {}).get(split)
        return stats.wilson(float(value), int(samples), confidence) if samples else None
    score = metric.split("_")[-1]
    se = (metrics.get("standard_errors") or {}).get(f"{'val' if 'val_' in metric else 'test'}_{score}")
    return stats.from_standard_error(float(value), se, confidence) if se else None


def samples_of(metrics: dict, metric: str) -> int | None:
    split = evaluation_split(metric, metrics)
    return (metrics.get("samples") or {}).get(split) if split and metric.endswith("accuracy") else None


def config_names(records, varied: list[str]) -> list[str]:
    """Each run's config: its name without the seed, so that the seeds of one config pool."""
    keys = [k for k in varied if k != "seed"]
    labels = run_labels(records, keys, seed=False)
    # The label shows at most three keys: configs that differ further get the rest in their identity.
    identity = [
        (label, tuple(r.data if k == "data" else str(r.config.get(k)) for k in keys))
        for label, r in zip(labels, records, strict=True)
    ]
    first: dict[tuple, str] = {}
    for (label, values), record in zip(identity, records, strict=True):
        name = label if label not in first.values() else f"{label} ({Path(record.path).name})"
        first.setdefault((label, values), name)
    return [first[key] for key in identity]


def configs(records, names: list[str], objective: str, confidence: float) -> list[stats.Config]:
    """The runs of each config with their per-seed scores; a config run once keeps its run's interval."""
    grouped: dict[str, list] = {}
    for record, name in zip(records, names, strict=True):
        grouped.setdefault(name, []).append(record)
    found = []
    for name, members in grouped.items():
        scored = [r for r in members if r.status in SCORED and _finite(r.metrics.get(objective))]
        seeds = [r.config.get("seed") for r in scored]
        unique = len(set(map(str, seeds))) == len(seeds)  # a seed run twice cannot be paired by seed
        keys = seeds if unique else [f"run{i}" for i in range(len(scored))]
        config = stats.Config(name, {k: float(r.metrics[objective]) for k, r in zip(keys, scored, strict=True)})
        config.runs = len(members)
        if len(scored) == 1:
            config.estimate = run_interval(scored[0].metrics, objective, confidence)
            config.samples = samples_of(scored[0].metrics, objective)
        found.append(config)
    return found


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def decide(records, names, objective: str, settings: Settings) -> list[stats.Verdict]:
    found = configs(records, names, objective, settings.confidence)
    return stats.decide(found, not lower_is_better(objective), settings.confidence, settings.min_difference)


def method(verdicts: list[stats.Verdict], settings: Settings) -> str:
    """The methods behind the verdicts, named, in one sentence."""
    tests = sorted({v.test for v in verdicts if v.test})
    intervals = sorted({_kind(v.interval_method) for v in verdicts if v.low is not None})
    compared = sum(1 for v in verdicts if v.p_value is not None)
    parts = [f"{settings.confidence:.0%} intervals ({'; '.join(intervals) or 'none: the noise is unknown'})"]
    if tests:
        parts.append(
            f"each config against the leader by {' / '.join(tests)}, p-values Holm-corrected over "
            f"{compared} comparison{'s' * (compared != 1)}"
        )
    if settings.min_difference:
        parts.append(f"differences within ±{settings.min_difference:g} count as ties")
    return "Method: " + "; ".join(parts) + "."


def _kind(interval_method: str) -> str:
    """ "t interval over 5 seeds" and "Wilson interval, n=288" as kinds: "t interval over seeds", "Wilson interval"."""
    return re.sub(r"over \d+ seeds", "over seeds", interval_method.split(",")[0])


def summary(verdicts: list[stats.Verdict], objective: str) -> str:
    """The conclusion in one or two sentences: a winner only when its lead is supported."""
    scored = [v for v in verdicts if v.verdict != "failed"]
    if not scored:
        return "No config has a score: nothing to compare."
    if len(scored) == 1:
        return f"One config ({scored[0].name}): nothing to compare it with."
    best = [v for v in scored if v.verdict == "best"]
    if best:
        return f"{best[0].name} is best by {objective}: every other config is worse, at the chosen confidence."
    leader = next(v for v in scored if v.difference is None)
    tied = [v for v in scored if v.verdict == "tied" and v is not leader]
    undecided = [v for v in scored if v.verdict == "undecided" and v is not leader]
    text = f"No single winner by {objective}."
    if tied:
        closest = min(tied, key=lambda v: abs(v.difference["mean"]))
        names = ", ".join([leader.name, *(v.name for v in tied)])
        text += f" Tied for best: {names} ({closest.name}: {closest.why})."
    else:
        text += f" {leader.name} has the best mean."
    if undecided:
        text += " Undecided: " + "; ".join(f"{v.name} ({v.why})" for v in undecided) + "."
    return text


def verdict_rows(comparison) -> tuple[list[str], list[list[str]]]:
    """One row per config: n, its score with interval, its test score, its difference from the leader, the
    corrected p-value, the verdict and why (markdown and HTML show the same table)."""
    objective, test = comparison.objective, comparison.test_metric
    head = ["config", "n", f"{objective} [interval]", f"{test} [interval]", "difference from best [interval]",
            "p (Holm)", "verdict", "why"]  # fmt: skip
    rows = []
    for v in comparison.verdicts:
        t = comparison.test_estimates.get(v.name)
        d = v.difference
        rows.append([
            v.name, str(v.n), with_interval(v.mean, v.low, v.high),
            with_interval(t.mean, t.low, t.high) if t else "-",
            with_interval(d["mean"], d["low"], d["high"]) if d else "-",
            stats.p_text(v.p_adjusted), v.verdict, v.why,
        ])  # fmt: skip
    return head, rows


def write(path: Path, verdicts: list[stats.Verdict], objective: str, settings: Settings, runs_of: dict) -> Path:
    """verdict.json: per config its name, n, mean, interval, verdict, p-value against the best; the method."""
    from mlexp import runs

    data = {
        "objective": objective,
        "higher_is_better": not lower_is_better(objective),
        "confidence": settings.confidence,
        "min_difference": settings.min_difference,
        "method": method(verdicts, settings),
        "summary": summary(verdicts, objective),
        "configs": [v.as_dict() | {"run_dirs": runs_of.get(v.name, [])} for v in verdicts],
    }
    runs.write_json(path, data)
    return path
