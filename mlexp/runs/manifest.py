"""manifest.json: what ran, with which packages, from which commit, when, and how it ended."""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import mlexp

PACKAGES = {
    "keras": ("keras",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras-tuner": ("keras-tuner",),
    "hydra-core": ("hydra-core",),
    "numpy": ("numpy",),
}
OPTIONAL = {"jax": ("jax",), "torch": ("torch",)}  # other Keras backends: recorded when installed


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"mlexp": mlexp.__version__, "python": platform.python_version()}
    for name, distributions in PACKAGES.items():
        found[name] = next((v for d in distributions if (v := _version(d))), None)
    for name, distributions in OPTIONAL.items():
        if version := next((v for d in distributions if (v := _version(d))), None):
            found[name] = version
    return found


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def git_state(folder: Path | None = None) -> dict[str, Any] | None:
    """The commit and dirty flag of mlexp's checkout, or None when not run from one."""
    folder = folder or Path(mlexp.__file__).resolve().parent.parent
    if not (folder / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    if commit.returncode != 0:
        return None
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def start(command: list[str], overrides: list[str], seed: int, backend: str = "tensorflow") -> dict[str, Any]:
    return {
        "backend": backend,
        "status": "running",
        "command": " ".join(command),
        "overrides": list(overrides),
        "seed": seed,
        "started": now(),
        "ended": None,
        "versions": versions(),
        "platform": platform.platform(),
        "git": git_state(),
    }


def differing_versions(recorded: dict[str, Any]) -> list[str]:
    """'keras 3.10.0 -> 3.15.1' for every package whose version differs from a manifest's."""
    current = versions()
    return [
        f"{name} {old} -> {current.get(name)}"
        for name, old in (recorded.get("versions") or {}).items()
        if current.get(name) != old
    ]
