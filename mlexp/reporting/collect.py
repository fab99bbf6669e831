"""Read run directories back: config, overrides, metrics and history. Imports no TensorFlow."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mlexp import runs
from mlexp.errors import MlexpError, first_line
from mlexp.nested import flatten
from mlexp.tasks import lower_is_better


@dataclass
class RunRecord:
    path: Path
    config: dict[str, Any]  # flattened: "model.activation" -> "relu"
    overrides: dict[str, str] = field(default_factory=dict)  # Hydra's task overrides, key -> value text
    metrics: dict[str, Any] = field(default_factory=dict)
    history: pd.DataFrame = field(default_factory=pd.DataFrame)
    data: str = ""  # the digest of the data files the run read (manifest.json), "" when not recorded
    findings: list[dict] = field(default_factory=list)  # the doctor's: pre-flight, then diagnosis

    @property
    def status(self) -> str:
        return self.metrics.get("status", "running" if len(self.history) else "not started")

    @property
    def reason(self) -> str:
        # The whole message on one line: its first line alone can end at "...not found in:", before the path.
        return " ".join(line.strip() for line in str(self.metrics.get("error") or "").splitlines())[:400]


def findings_of(run_dir: Path) -> list[dict]:
    """The doctor's findings of a run: pre-flight warnings and the diagnosis ([] when none were written)."""
    found = []
    for name in ("preflight.json", "diagnosis.json"):
        try:
            found += json.loads((Path(run_dir) / name).read_text()).get("findings", [])
        except (OSError, ValueError):
            continue
    return found


def is_run_dir(path: Path) -> bool:
    return (path / runs.CONFIG).is_file() or (path / runs.HYDRA_DIR / "config.yaml").is_file()


def find_runs(paths: list[Path | str]) -> list[Path]:
    """Run directories given directly, or found one level down in sweep directories, in job order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.is_dir():
            raise MlexpError(f"compare: {path} is not a directory; expected run or sweep directories")
        if is_run_dir(path):
            found.append(path)
            continue
        children = sorted((p for p in path.iterdir() if p.is_dir() and is_run_dir(p)), key=_job_order)
        if not children:
            raise MlexpError(
                f"compare: {path} holds no run directory (a folder with {runs.CONFIG} or .hydra/config.yaml)"
            )
        found += children
    return found


def _job_order(path: Path):
    return (0, int(path.name), "") if path.name.isdigit() else (1, 0, path.name)


def load_run(path: Path) -> RunRecord:
    """A run's files; a damaged one makes the record's status 'unreadable' (the others are still compared)."""
    damaged: list[str] = []

    def read(name: str, reader, empty):
        try:
            return reader(path)
        except Exception as exc:  # binary garbage, cut-off JSON or YAML: any parser's error
            damaged.append(f"{name} is unreadable ({first_line(exc)})")
            return empty

    config = read(runs.CONFIG, _load_config, {})
    overrides = read(f"{runs.HYDRA_DIR}/overrides.yaml", _load_overrides, {})
    metrics = read(runs.METRICS, lambda p: runs.read_json(p / runs.METRICS), {})
    history = read(runs.HISTORY, lambda p: pd.DataFrame(runs.RunDir(p).read_history()), pd.DataFrame())
    if "status" not in metrics and len(history):
        metrics = {**from_history(history), **metrics}
    if damaged:
        metrics = {**metrics, "status": "unreadable", "error": "; ".join(damaged)}
    data = read(runs.MANIFEST, lambda p: runs.read_json(p / runs.MANIFEST) if (p / runs.MANIFEST).is_file() else {}, {})
    digest = ((data or {}).get("data") or {}).get("digest", "")
    return RunRecord(path, flatten(config), overrides, metrics, history, digest, findings_of(path))


PROVENANCE = ("trainer.continue_from",)  # where a run started from, not what it is: never part of a config's name


def _load_overrides(path: Path) -> dict[str, str]:
    overrides_file = path / runs.HYDRA_DIR / "overrides.yaml"
    overrides = {}
    if overrides_file.is_file():
        for item in yaml.safe_load(overrides_file.read_text()) or []:
            key, _, value = str(item).partition("=")
            overrides[key.lstrip("+~")] = value
    return {k: v for k, v in overrides.items() if k not in PROVENANCE}


def _load_config(path: Path) -> dict[str, Any]:
    if (path / runs.CONFIG).is_file():
        return runs.read_yaml(path / runs.CONFIG, "a saved run config")
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(path / runs.HYDRA_DIR / "config.yaml")
    if not OmegaConf.is_dict(cfg):
        raise ValueError(f"expected a mapping, got {type(cfg).__name__}")
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except Exception:  # an interpolation that does not resolve: the raw values still tell the story
        return OmegaConf.to_container(cfg, resolve=False)


def from_history(history: pd.DataFrame) -> dict[str, Any]:
    """Final and best validation metrics of a run that has not finished (still running, or cut short)."""
    out: dict[str, Any] = {"epochs_run": len(history)}
    # A diverged epoch (loss NaN or infinite) is no candidate for "best", whatever its accuracy says.
    losses = history[[c for c in ("loss", "val_loss") if c in history]].astype(float)
    sound = np.isfinite(losses).all(axis=1) if len(losses.columns) else pd.Series(True, index=history.index)
    for name in history.columns:
        if name in ("epoch", "learning_rate", "phase"):
            continue
        values = history[name]
        out[f"final_{name}"] = float(values.iloc[-1])
        candidates = values[sound]
        if name.startswith("val_") and candidates.notna().any():
            best = candidates.idxmin() if lower_is_better(name) else candidates.idxmax()
            out[f"best_{name}"] = float(values[best])
            out[f"best_{name}_epoch"] = int(history["epoch"][best]) if "epoch" in history else int(best) + 1
    return out


def text(value: Any) -> str:
    """One cell of a table: lists compactly, floats briefly, missing as '-'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(text(v) for v in value) + "]"
    return str(value)


def with_interval(value, low, high) -> str:
    """`0.889 [0.852, 0.921]`; the value alone when its interval is unknown."""
    if low is None or high is None or any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        return text(value)
    return f"{text(value)} [{text(low)}, {text(high)}]"
