"""The run directory: its file names, atomic writes, and the record of how a run ended."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlexp.errors import MlexpError

CONFIG = "resolved_config.yaml"
HISTORY = "history.csv"
METRICS = "metrics.json"
MODEL = "model.keras"
SUMMARY = "model_summary.txt"
CURVES = "plots/learning_curves.png"
ERROR = "error.txt"
MANIFEST = "manifest.json"
PREPROCESSING = "preprocessing.json"
HYDRA_DIR = ".hydra"

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same suffix); it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the mode a plain open() would
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_text(path, json.dumps(_finite(data), indent=2, sort_keys=True) + "\n")


def _finite(value: Any) -> Any:
    """NaN and infinity are not JSON: store them as null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class RunDir:
    """One run's folder. Every write goes through atomic_path."""

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def claim(self) -> None:
        """Refuse a folder that already holds a run, so that two runs never mix their files."""
        if self.file(METRICS).exists():
            raise MlexpError(
                f"run directory {self.path} already holds a run ({METRICS} exists); "
                "choose another with hydra.run.dir=..."
            )
        self.path.mkdir(parents=True, exist_ok=True)

    def write_config(self, cfg) -> None:
        from omegaconf import OmegaConf

        write_text(self.file(CONFIG), OmegaConf.to_yaml(cfg, resolve=True))

    def write_history(self, rows: list[dict[str, float]]) -> None:
        import pandas as pd

        with atomic_path(self.file(HISTORY)) as tmp:
            pd.DataFrame(rows).to_csv(tmp, index=False)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json(self.file(METRICS), metrics)

    def write_failure(self, exc: BaseException, status: str, **extra: Any) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        write_text(self.file(ERROR), text)
        self.write_metrics({"status": status, "error": f"{type(exc).__name__}: {exc}", **extra})
        self.update_manifest(status=status)

    def read_json(self, name: str) -> dict[str, Any]:
        path = self.file(name)
        return json.loads(path.read_text()) if path.is_file() else {}

    def update_manifest(self, **changes: Any) -> None:
        """Change the manifest's fields (status, end time); a run without a manifest gets none."""
        from mlexp.manifest import now

        manifest = self.read_json(MANIFEST)
        if manifest:
            if changes.get("status", "running") != "running":
                changes.setdefault("ended", now())
            write_json(self.file(MANIFEST), {**manifest, **changes})


def discard_if_empty(path: Path | str) -> bool:
    """Remove a run folder that holds only Hydra's bookkeeping (after a config error, say)."""
    path = Path(path)
    if not path.is_dir():
        return False
    leftovers = [p for p in path.iterdir() if p.name != HYDRA_DIR and p.suffix != ".log"]
    if leftovers:
        return False
    shutil.rmtree(path)
    cwd = Path.cwd().resolve()
    for parent in path.resolve().parents:  # and outputs/runs/ if this run made them
        if parent == cwd or cwd not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()
    return True
