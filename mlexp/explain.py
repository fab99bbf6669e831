"""`mlexp explain A B`: what differs between two runs (or two configs of sweeps) and whether it matters.

A and B are run directories, sweep directories holding one config (its seeds are replicates), or
SWEEP:CONFIG (a config of a sweep, named as in its report). Imports no TensorFlow.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlexp import runs
from mlexp.errors import MlexpError
from mlexp.reporting import stats, verdicts
from mlexp.reporting.collect import RunRecord, find_runs, is_run_dir, load_run, text, with_interval
from mlexp.reporting.names import component_keys, header, varied_keys
from mlexp.tasks import lower_is_better, score

OUT = Path("outputs/explain")


@dataclass
class Side:
    label: str  # "A" or "B"
    given: str  # as typed
    records: list[RunRecord]
    manifests: list[dict] = field(default_factory=list)
    score: str = "accuracy"  # the task's: accuracy, or mae for regressions

    @property
    def seeds(self) -> list:
        return sorted({r.config.get("seed") for r in self.records}, key=str)

    def manifest(self, key: str) -> Any:
        return self.manifests[0].get(key) if self.manifests else None


def side(label: str, given: str) -> Side:
    """The runs behind one argument: a run, a sweep of one config, or SWEEP:CONFIG."""
    path, config = Path(given), None
    if not path.exists() and ":" in given:
        folder, _, config = given.rpartition(":")
        path = Path(folder)
    records = [load_run(p) for p in find_runs([path])]
    if not is_run_dir(path):
        varied = component_keys(records, varied_keys(records))
        names = verdicts.config_names(records, varied)
        known = list(dict.fromkeys(names))
        if config is None and len(known) > 1:
            raise MlexpError(f"{given} holds {len(known)} configs; choose one as {given}:CONFIG, CONFIG one of: "
                             + "; ".join(known))  # fmt: skip
        if config is not None:
            if config not in known:
                raise MlexpError(f"{given}: no config {config!r} in {path}; expected one of: " + "; ".join(known))
            records = [r for r, n in zip(records, names, strict=True) if n == config]
    manifests = [_manifest(r.path) for r in records]
    return Side(label, given, records, manifests)


def _manifest(run_dir: Path) -> dict:
    try:
        return runs.read_json(Path(run_dir) / runs.MANIFEST)
    except (OSError, ValueError):
        return {}


def config_differences(a: Side, b: Side) -> list[dict]:
    """The config keys that differ (not the seed), group options first; keys inside a switched group hidden."""
    pair = [a.records[0], b.records[0]]
    keys = [k for k in component_keys(pair, varied_keys(pair)) if k != "seed"]
    return [{"key": header(k), "a": text(pair[0].config.get(k)), "b": text(pair[1].config.get(k))} for k in keys]


def data_difference(a: Side, b: Side) -> str | None:
    from mlexp.runs.fingerprint import changes

    return changes(a.manifest("data"), b.manifest("data"))


def code_differences(a: Side, b: Side) -> list[str]:
    """User code files and commits, mlexp's own commit, library versions and the backend, where they differ."""
    found = []
    ca, cb = _user_code(a), _user_code(b)
    for target in sorted(set(ca) | set(cb)):
        if ca.get(target) != cb.get(target):
            found.append(f"user code {target}: {_code(ca.get(target))} -> {_code(cb.get(target))}")
    ga, gb = (a.manifest("git") or {}).get("commit"), (b.manifest("git") or {}).get("commit")
    if ga != gb:
        found.append(f"commit of the working folder: {str(ga)[:10]} -> {str(gb)[:10]}")
    va, vb = a.manifest("versions") or {}, b.manifest("versions") or {}
    found += [f"{n} {va.get(n)} -> {vb.get(n)}" for n in sorted(set(va) | set(vb)) if va.get(n) != vb.get(n)]
    if a.manifest("backend") != b.manifest("backend"):
        found.append(f"backend {a.manifest('backend')} -> {b.manifest('backend')}")
    return found


def _user_code(s: Side) -> dict:
    """target -> (file, commit, content hash) of the user components the run named (manifest.json)."""
    return {
        c.get("target"): (c.get("file"), (c.get("git") or {}).get("commit"), c.get("hash"))
        for c in s.manifest("user_code") or []
    }


def _code(entry) -> str:
    if entry is None:
        return "none"
    file, commit, digest = entry
    return f"{file} @ {str(commit)[:10] if commit else 'no commit'}, content {str(digest)[:8]}"


def _config(s: Side, metric_of) -> stats.Config:
    """One side as a stats.Config of `metric_of(record)` per seed (a single run keeps its Wilson interval)."""
    scored = [(r, metric_of(r)) for r in s.records]
    scored = [(r, v) for r, v in scored if v is not None]
    config = stats.Config(s.label, {r.config.get("seed", i): v for i, (r, v) in enumerate(scored)})
    if len(scored) == 1:
        config.samples = (scored[0][0].metrics.get("samples") or {}).get("val")
        if config.samples and s.score == "accuracy":
            config.estimate = stats.wilson(scored[0][1], config.samples)
    return config


def parting_epoch(a: Side, b: Side, confidence: float) -> dict | None:
    """The first epoch whose validation scores differ beyond the noise (paired over seeds, or by each run's
    validation samples; each epoch tested at (1 - confidence) / epochs), with who was ahead; None when the
    curves never part."""
    metric = f"val_{a.score}"
    histories = [r.history for r in a.records + b.records]
    if any(h.empty or metric not in h for h in histories):
        return None
    epochs = min(len(h) for h in histories)
    sign = -1 if lower_is_better(metric) else 1
    confidence = 1 - (1 - confidence) / max(epochs, 1)  # one look per epoch: Bonferroni, so noise rarely "parts"
    for i in range(epochs):
        at = lambda r: float(r.history[metric].iloc[i])  # noqa: E731, B023
        d = stats.compare_to_best(_config(a, at), _config(b, at), sign, confidence)
        if d is not None and (d.low > 0 or d.high < 0):
            return {"epoch": i + 1, "ahead": a.label if d.mean > 0 else b.label, "metric": metric}
    return None


def explain(
    a_given: str, b_given: str, settings: verdicts.Settings, objective: str | None = None
) -> tuple[dict, Side, Side]:
    """The explanation (as --json prints it) and the two sides it was drawn from."""
    a, b = side("A", a_given), side("B", b_given)
    a.score = b.score = score(a.records[0].metrics)
    objective = objective or f"best_val_{a.score}"
    records = a.records + b.records
    names = ["A"] * len(a.records) + ["B"] * len(b.records)
    outcome = verdicts.decide(records, names, objective, settings)
    found = {
        "a": {"given": a_given, "runs": [str(r.path) for r in a.records], "seeds": a.seeds},
        "b": {"given": b_given, "runs": [str(r.path) for r in b.records], "seeds": b.seeds},
        "config": config_differences(a, b),
        "data": data_difference(a, b),
        "environment": code_differences(a, b),
        "curves_part": parting_epoch(a, b, settings.confidence),
        "objective": objective,
        "outcome": [v.as_dict() for v in outcome],
        "method": verdicts.method(outcome, settings),
    }
    found["paragraph"] = paragraph(found, a, b)
    return found, a, b


def paragraph(found: dict, a: Side, b: Side) -> str:
    keys = found["config"]
    parts = []
    if keys:
        listed = ", ".join(f"{k['key']} ({k['a']} -> {k['b']})" for k in keys)
        parts.append(f"A and B differ in {len(keys)} config key{'s' * (len(keys) > 1)}: {listed}.")
    else:
        parts.append("A and B have the same config" + (" apart from the seed." if a.seeds != b.seeds else "."))
    parts.append(f"Data: {'changed, ' + found['data'] if found['data'] else 'the same files (or both built in)'}.")
    if found["environment"]:
        parts.append("Environment: " + "; ".join(found["environment"]) + ".")
    shared = sorted(set(map(str, a.seeds)) & set(map(str, b.seeds)), key=str)
    parts.append(f"Seeds: A {_seeds(a.seeds)}, B {_seeds(b.seeds)}" + (" (paired)." if len(shared) > 1 else "."))
    part = found["curves_part"]
    parts.append(
        f"Validation curves part at epoch {part['epoch']} ({part['ahead']} ahead, beyond the noise)."
        if part
        else "Validation curves never part by more than the noise."
    )
    parts.append(_outcome(found))
    return " ".join(parts)


def _seeds(seeds: list) -> str:
    return ", ".join(map(str, seeds)) if len(seeds) <= 6 else f"{seeds[0]}..{seeds[-1]} ({len(seeds)})"


def _outcome(found: dict) -> str:
    leader, other = found["outcome"][0], found["outcome"][-1]
    if other["verdict"] == "failed" or leader["verdict"] == "failed":
        return "Outcome: one side has no score."
    head = f"Outcome ({found['objective']}): A {_shown(_named(found, 'A'))}, B {_shown(_named(found, 'B'))}; "
    if other["verdict"] == "worse":
        return head + f"{leader['name']} is better: {other['why']}."
    if other["verdict"] == "tied":
        return head + f"within noise: {other['why']}."
    return head + f"undecided: {other['why']}."


def _named(found: dict, name: str) -> dict:
    return next(v for v in found["outcome"] if v["name"] == name)


def _shown(v: dict) -> str:
    return with_interval(v["mean"], v["low"], v["high"])


def figure(found: dict, a: Side, b: Side, path: Path) -> Path:
    """Both sides' validation curves (each seed faint, the mean bold), where they part marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from mlexp.reporting.plots import PALETTE

    metric = f"val_{a.score}"
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    for s, colour in ((a, PALETTE[0]), (b, PALETTE[1])):
        curves = [r.history[metric].to_numpy(float) for r in s.records if not r.history.empty and metric in r.history]
        for curve in curves:
            ax.plot(range(1, len(curve) + 1), curve, color=colour, alpha=0.3, linewidth=1)
        if curves:
            n = min(map(len, curves))
            ax.plot(range(1, n + 1), np.mean([c[:n] for c in curves], axis=0), color=colour, linewidth=2.2,
                    label=f"{s.label}: {s.given}")  # fmt: skip
    if found["curves_part"]:
        ax.axvline(found["curves_part"]["epoch"], color="grey", linestyle=":", label="curves part")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title("Where do A and B part? (each seed faint, their mean bold)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    with runs.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str]) -> int:
    import argparse

    from mlexp.reporting.compare import OBJECTIVES, settings_of

    parser = argparse.ArgumentParser(
        prog="mlexp explain",
        description="What differs between two runs (or two configs of sweeps) and whether it matters (no TensorFlow).",
    )
    parser.add_argument("a", help="a run directory, a sweep of one config, or SWEEP:CONFIG (as named in its report)")
    parser.add_argument("b", help="the same, for the other side")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")
    parser.add_argument("--figure", type=Path, help=f"where to draw the curves (default: {OUT}/TIME.png)")
    parser.add_argument("--objective", help="metric to judge the outcome by (default: best_val_accuracy or _mae)")
    parser.add_argument("--confidence", type=float, help="of intervals and verdict (default 0.95)")
    parser.add_argument("--min-difference", type=float, help="differences smaller than this do not matter")
    args = parser.parse_args(argv)
    if args.objective is not None and args.objective not in OBJECTIVES:
        raise MlexpError(f"--objective: got {args.objective!r}; expected one of {', '.join(OBJECTIVES)}")
    for given in (args.a, args.b):
        if not Path(given).exists() and not Path(given.rpartition(":")[0] or given).is_dir():
            raise MlexpError(f"{given} is not a run or sweep directory (nor SWEEP:CONFIG)")
    found, a, b = explain(args.a, args.b, settings_of([], args), args.objective)
    path = figure(found, a, b, args.figure or OUT / f"{time.strftime('%Y-%m-%d_%H-%M-%S')}.png")
    found["figure"] = str(path)
    if args.json:
        print(json.dumps(found, indent=2, default=str))
    else:
        print(f"A = {args.a}\nB = {args.b}\n\n{found['paragraph']}\n\n{found['method']}\nFigure: {path}")
    return 0
