"""Run a task function under Hydra's own command line (overrides, -m, --cfg, --help)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from mlexp.errors import MlexpError, closest

CONFIG_DIR_ENV = "MLEXP_CONFIG_DIR"


class HydraUsageError(MlexpError):
    """Hydra refused the command line (unknown group option, unknown key, bad override syntax)."""

    exit_code = 2


def config_dir() -> Path:
    path = Path(os.environ.get(CONFIG_DIR_ENV) or Path(__file__).resolve().parent.parent / "conf")
    if not (path / "train.yaml").is_file():
        raise MlexpError(
            f"config directory {path} has no train.yaml; set {CONFIG_DIR_ENV} to mlexp's conf/ folder "
            "or install mlexp from its checkout (pip install -e .)"
        )
    return path


def run_hydra(task: Callable, config_name: str, argv: list[str], prog: str) -> int:
    import hydra
    from hydra.errors import CompactHydraException

    from mlexp.claim import Refused

    entry = hydra.main(config_path=str(config_dir()), config_name=config_name, version_base="1.3")(task)
    saved_argv, saved_full_error = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    # Let exceptions reach us instead of Hydra's traceback printer: we word them and pick the exit code.
    os.environ["HYDRA_FULL_ERROR"] = "1"
    sys.argv = [prog, *argv]
    try:
        entry()
    except Refused as refused:
        raise refused.error from None
    except CompactHydraException as exc:
        raise HydraUsageError(_describe(exc)) from None
    except ValueError as exc:
        if isinstance(exc, MlexpError) or not str(exc).startswith("Only one of --run"):
            raise
        raise HydraUsageError(f"{exc} (got {' '.join(argv)})") from None
    finally:
        sys.argv = saved_argv
        if saved_full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_full_error
    return 0


def compose_validated(overrides: list[str], config_name: str = "train"):
    """The validated run config for these overrides, composed without Hydra's command line or run directory."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import CompactHydraException

    from mlexp.config import validate

    try:
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            return validate(compose(config_name, overrides=list(overrides)))
    except CompactHydraException as exc:
        raise HydraUsageError(_describe(exc)) from None


def _describe(exc: Exception) -> str:
    """Hydra's own message, plus the keys that were possible when a key was unknown."""
    message = str(exc).split("\nConfig search path:")[0].strip()
    override = getattr(exc, "override", None)  # OverrideParseException knows which override failed
    if override:
        message = f"Error parsing override {override!r}: {message}"
    cause = exc.__cause__
    parent = getattr(cause, "parent_node", None)
    key = getattr(cause, "key", None)
    if parent is not None and key is not None and hasattr(parent, "keys"):
        known = sorted(str(k) for k in parent.keys())
        message += f"\nKnown keys there: {', '.join(known)}."
        hint = closest(str(key), known)
        if hint:
            message += f" Did you mean {hint!r}?"
    return message
