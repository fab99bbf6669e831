"""The run directory: its file names, atomic writes, and the record of how a run ended."""

from __future__ import annotations

import contextlib
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

from mlexp.errors import MlexpError, first_line

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
FINISHED = ("completed", "diverged")  # statuses of a run with nothing left to do

_UMASK = os.umask(0)
os.umask(_UMASK)


TMP_DIR = ".tmp"  # a run's half-written files: a kill leaves them here, never among the results
_RUN_MARKERS = (TMP_DIR, CONFIG, HYDRA_DIR, "multirun.yaml")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path (same suffix); it replaces `path` only if the block succeeds.

    Inside a run or sweep folder the temporary file lives in that folder's `.tmp/`, which is removed
    again once empty; elsewhere it is a hidden file beside `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = _temp_folder(path.parent)
    for _ in range(3):  # another write may remove an empty .tmp/ between our mkdir and mkstemp
        folder.mkdir(exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.stem}.", suffix=path.suffix)
            break
        except FileNotFoundError:
            continue
    else:
        raise MlexpError(f"cannot create a temporary file in {folder}")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the mode a plain open() would
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        if folder.name == TMP_DIR:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: what a killed write left stays until clear_tmp


def _temp_folder(parent: Path) -> Path:
    """The `.tmp/` of the run or sweep folder holding `parent` (up to two levels up), else `parent`."""
    for folder in (parent, *parent.parents)[:3]:
        if any((folder / marker).exists() for marker in _RUN_MARKERS):
            return folder / TMP_DIR
    return parent


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

    def begin(self) -> None:
        """Start a new run in this folder, claimed by whoever chose it (claim(): Hydra's callback for its
        run folder and sweep folder, rerun and tune for theirs; a sweep's job folders are new)."""
        self.path.mkdir(parents=True, exist_ok=True)
        self.clear_tmp()
        self.file(TMP_DIR).mkdir()  # marks the folder as a run's before its first file is written

    def clear_tmp(self) -> None:
        """Remove what killed writes left in `.tmp/` (at start and at resume)."""
        shutil.rmtree(self.file(TMP_DIR), ignore_errors=True)

    def write_config(self, cfg) -> None:
        from omegaconf import OmegaConf

        write_text(self.file(CONFIG), OmegaConf.to_yaml(cfg, resolve=True))

    def write_history(self, rows: list[dict[str, float]]) -> None:
        import pandas as pd

        with atomic_path(self.file(HISTORY)) as tmp:
            pd.DataFrame(rows).to_csv(tmp, index=False)

    def read_history(self) -> list[dict[str, float]]:
        """history.csv's rows ([] when there is none yet)."""
        import pandas as pd

        path = self.file(HISTORY)
        if not path.is_file() or path.stat().st_size == 0:
            return []
        try:
            return pd.read_csv(path).to_dict("records")
        except (ValueError, UnicodeDecodeError) as exc:
            raise MlexpError(f"{path} is not a readable CSV table ({first_line(exc)})") from None

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        write_json(self.file(METRICS), metrics)

    def unstart(self) -> None:
        """Remove what a run writes before its model is built (config, manifest, preprocessing, summary)."""
        for name in (CONFIG, MANIFEST, PREPROCESSING, SUMMARY):
            self.file(name).unlink(missing_ok=True)
        self.clear_tmp()

    def write_failure(self, exc: BaseException, status: str, manifest: dict | None = None, **extra: Any) -> None:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        write_text(self.file(ERROR), text)
        self.write_metrics({"status": status, "error": f"{type(exc).__name__}: {exc}", **extra})
        self.update_manifest(status=status, **(manifest or {}))

    def status(self) -> str:
        """How the run ended (metrics.json), else what its manifest says ('running' if it was killed)."""
        for name in (METRICS, MANIFEST):
            try:
                status = self.read_json(name).get("status")
            except (OSError, ValueError):
                return "unreadable"
            if status:
                return status
        return "not started"

    def read_json(self, name: str) -> dict[str, Any]:
        return read_json(self.file(name))

    def read_config(self) -> dict[str, Any]:
        """resolved_config.yaml as plain data (YAML only: nothing is unpickled)."""
        return read_yaml(self.file(CONFIG), "a saved run config")

    def update_manifest(self, **changes: Any) -> None:
        """Change the manifest's fields (status, end time); a run without a manifest gets none."""
        from mlexp.runs.manifest import now

        manifest = self.read_json(MANIFEST)
        if manifest:
            if changes.get("status", "running") != "running":
                changes.setdefault("ended", now())
            write_json(self.file(MANIFEST), {**manifest, **changes})


def holds_results(folder: Path) -> bool:
    """A run or sweep folder: one whose files another command must not overwrite."""
    return any((Path(folder) / name).exists() for name in (CONFIG, METRICS, MANIFEST, HYDRA_DIR, "multirun.yaml"))


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file ({} when there is no file); a damaged file is an MlexpError naming it."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise MlexpError(f"{path} is damaged: not valid JSON ({first_line(exc)})") from None
    if not isinstance(data, dict):
        raise MlexpError(f"{path} is damaged: expected a JSON object, got {type(data).__name__}")
    return data


def read_yaml(path: Path, what: str) -> dict:
    """A YAML file that must hold a mapping; anything else (binary, a list, broken YAML) is an MlexpError."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise MlexpError(f"{path} is not a text file; expected {what} (YAML)") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise MlexpError(f"{path} is not valid YAML{at}; expected {what}") from None
    if not isinstance(data, dict):
        raise MlexpError(f"{path} holds {type(data).__name__ if data is not None else 'nothing'}; expected {what}")
    return data


class UnreadableModel(MlexpError):
    def __init__(self, path: Path, reason: str):
        self.path, self.reason = path, reason
        super().__init__(f"{path} is unreadable ({reason})")


def archive_damage(path: Path) -> str | None:
    """Why a .keras file cannot be loaded (a .keras file is a zip archive), or None if it looks whole."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        return f"not a complete .keras archive: {first_line(exc)}"
    return f"not a complete .keras archive: {broken} is damaged" if broken else None


def discard_if_empty(path: Path | str) -> bool:
    """Remove a run folder that holds only Hydra's bookkeeping (after a config error, say)."""
    path = Path(path)
    if not path.is_dir():
        return False
    leftovers = [p for p in path.iterdir() if p.name not in (HYDRA_DIR, TMP_DIR) and p.suffix != ".log"]
    if leftovers:
        return False
    shutil.rmtree(path)
    cwd = Path.cwd().resolve()
    for parent in path.resolve().parents:  # and outputs/runs/ if this run made them
        if parent == cwd or cwd not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()
    return True


class FolderTaken(MlexpError):
    exit_code = 2


MIN_FREE_BYTES = 16 * 2**20  # below this a run cannot even write its model; refuse at start


def claim(path: Path, key: str, sweep: bool) -> None:
    """Create `path` as a new or empty folder with room to write, so two runs never mix their files;
    raise FolderTaken (or a named MlexpError) otherwise. `key` names the setting that chose the folder."""
    if path.exists() and not path.is_dir():
        raise FolderTaken(f"{key}: got {str(path)!r}, which is a file; expected a new or empty folder")
    if path.is_dir() and any(path.iterdir()):
        raise FolderTaken(f"{key}: got {str(path)!r}, {occupant(path, sweep)}")
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(path).free
    except OSError as exc:
        raise MlexpError(
            f"{key}: cannot create {str(path)!r} ({exc.strerror or exc}); choose a folder you can write, "
            f"e.g. {key}=outputs/mine"
        ) from None
    if not os.access(path, os.W_OK):
        raise MlexpError(
            f"{key}: {str(path)!r} is not writable; choose a folder you can write, e.g. {key}=outputs/mine"
        )
    if free < MIN_FREE_BYTES:
        if created:
            path.rmdir()
        raise MlexpError(
            f"{key}: the disk holding {str(path)!r} is full ({free // 2**20} MiB free, at least "
            f"{MIN_FREE_BYTES // 2**20} MiB needed); free some space or choose a folder on another disk"
        )


def occupant(path: Path, sweep: bool) -> str:
    """What is in the folder, and the command to use instead; nothing in it is touched."""

    key = "hydra.sweep.dir" if sweep else "hydra.run.dir"
    new_folder = f"use a new folder (leave out {key}, or give a path that does not exist yet)"
    if sweep and (path / "multirun.yaml").is_file():
        return (
            f"which already holds a sweep; nothing was changed. Continue its unfinished jobs with: "
            f"mlexp resume {path}, or {new_folder}"
        )
    if (path / CONFIG).is_file() or (path / HYDRA_DIR).is_dir():
        status = RunDir(path).status()
        if status in FINISHED:
            return (
                f"which already holds a finished run (status: {status}); nothing was changed. "
                f"Repeat it with: mlexp rerun {path}, or {new_folder}"
            )
        if status == "running":
            status = "running: it was killed, or is training now"
        return (
            f"which already holds an unfinished run (status: {status}); nothing was changed. "
            f"Continue it with: mlexp resume {path}, or {new_folder}"
        )
    names = sorted(p.name for p in path.iterdir())
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"which is not empty ({shown}); nothing was changed. Give {key} a new or empty folder"
