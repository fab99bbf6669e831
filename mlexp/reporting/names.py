"""Names for runs and columns from what the runs mean: the smallest set of differing choices, group
options first (`optimizer=sgd`), then the keys inside a group only where its option is the same.
The same names go into tables, figures, the console and the HTML report."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from mlexp.reporting.collect import PROVENANCE, text

GROUPS = ("dataset", "model", "optimizer", "regularizer", "augmentation", "callbacks", "trainer", "variant")
NAME = ".name"


def short(value) -> str:
    """A value as people write it: 0.001, [128,64], relu; long text cut."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(short(v) for v in value) + "]"
    text = "null" if value is None else str(value)
    return text if len(text) <= 28 else text[:25] + "..."


def varied_keys(records) -> list[str]:
    """Config keys whose values differ across the runs (a key missing in some runs differs too)."""
    keys = sorted({k for r in records for k in r.config} - set(PROVENANCE))
    return [k for k in keys if len({text(r.config.get(k)) for r in records}) > 1]


def component_keys(records, varied: list[str]) -> list[str]:
    """The varied config keys worth a column: a swept group's option (`optimizer.name`), and a key inside
    that group only when it differs between runs with the same option (not Adam's eleven defaults)."""
    swept = {key[: -len(NAME)] for key in varied if key.endswith(NAME)}
    keep = []
    for key in varied:
        group = key.split(".")[0]
        if group in swept and not key.endswith(NAME):
            by_option = defaultdict(set)
            for record in records:
                by_option[text(record.config.get(f"{group}{NAME}"))].add(text(record.config.get(key)))
            if not any(len(values) > 1 for values in by_option.values()):
                continue
        keep.append(key)
    return sorted(keep, key=lambda k: (not k.endswith(NAME), k == "seed", k))


def header(key: str) -> str:
    """`optimizer.name` is shown as `optimizer`."""
    return key[: -len(NAME)] if key.endswith(NAME) else key


def run_labels(records, varied: list[str] | None = None, seed: bool = True) -> list[str]:
    """One name per run: the differing command-line choices (group options first), else the differing
    config choices, else the run folder's name. seed=False: the name of the run's config (seeds alike)."""
    keys = sorted({k for r in records for k in r.overrides})
    differing = [k for k in keys if len({r.overrides.get(k) for r in records}) > 1]
    groups = [k for k in differing if "." not in k]
    inner = [k for k in differing if "." in k and k.split(".")[0] not in groups]
    chosen = [*(k for k in groups if k != "seed"), *(k for k in inner if k != "seed")]
    chosen += [k for k in differing if k == "seed" and seed]
    if chosen:
        return [", ".join(f"{k}={short(_parsed(r.overrides.get(k)))}" for k in chosen) for r in records]
    if varied is None:
        varied = varied_keys(records)
    columns = [k for k in component_keys(records, varied) if k != "data" and (seed or k != "seed")][:3]
    if columns:
        return [", ".join(f"{header(k)}={short(r.config.get(k))}" for k in columns) for r in records]
    return [Path(r.path).name if seed else "one config" for r in records]


def _parsed(value):
    """An override's text as its value, so that 0.0010 and 1e-3 print alike."""
    try:
        return float(value) if value is not None and any(c in value for c in ".e") else value
    except ValueError:
        return value
