"""Where mlexp's own configs are: inside the installed package, or beside it in a checkout."""

from __future__ import annotations

from pathlib import Path

from mlexp.errors import MlexpError


def builtin_config_dir() -> Path:
    """mlexp's own configs: mlexp/conf in an installed wheel, conf/ beside the package in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for path in (package / "conf", package.parent / "conf"):
        if (path / "train.yaml").is_file():
            return path
    raise MlexpError(f"mlexp's configs are missing: no train.yaml in {package / 'conf'}; reinstall mlexp")
