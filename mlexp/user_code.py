"""User components named by `_target_` (Hydra's convention): import, check arguments, describe.

A config naming user code imports the user's module while it is validated (and so, often, Keras);
configs of mlexp's own components never do. The current folder is importable, as in any Python project.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

from mlexp.errors import ConfigError, closest, first_line

TARGET = "_target_"


def has_target(section: Any) -> bool:
    return isinstance(section, dict) and TARGET in section


ENTRY_POINTS = (
    "mlexp.components"  # installed packages offer components by name: [project.entry-points."mlexp.components"]
)


def resolve(target: Any, key: str):
    """The object a dotted path names (`pkg.module.name`), or an installed package's component by its
    entry-point name; a ConfigError at `key` when it cannot be imported."""
    if "" not in sys.path and str(Path.cwd()) not in sys.path:  # the project folder, as in any Python project
        sys.path.insert(0, str(Path.cwd()))
    if isinstance(target, str) and "." not in target.strip("."):
        return _entry_point(target, key)
    if not isinstance(target, str):
        raise ConfigError(key, target, "a dotted path to your code, e.g. my_project.models.small_cnn")
    module_name, _, attribute = target.rpartition(".")
    if module_name not in sys.modules:
        from mlexp.tf_runtime import import_keras

        import_keras()  # user code imports Keras itself; this way TensorFlow's start-up banner stays filtered
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ModuleNotFoundError, or the user's module failing while it imports
        raise ConfigError(
            key, target, f"an importable module: importing {module_name!r} failed ({type(exc).__name__}: "
            f"{first_line(exc)}); run mlexp from your project's folder, or install your package",
        ) from None  # fmt: skip
    try:
        return getattr(module, attribute)
    except AttributeError:
        names = [n for n in dir(module) if not n.startswith("_")]
        raise ConfigError(key, target, f"a name defined in {module_name}", closest(attribute, names)) from None


def _entry_point(name: str, key: str):
    from importlib.metadata import entry_points

    offered = {ep.name: ep for ep in entry_points(group=ENTRY_POINTS)}
    if name not in offered:
        known = ", ".join(sorted(offered)) or "none installed"
        raise ConfigError(
            key, name, f"a dotted path to your code (e.g. my_project.models.small_cnn) or a component that an "
            f"installed package offers ({ENTRY_POINTS}: {known})", closest(name, offered),
        )  # fmt: skip
    try:
        return offered[name].load()
    except Exception as exc:  # the offering package fails to import
        raise ConfigError(key, name, f"an importable component ({offered[name].value}: {first_line(exc)})") from None


def check_arguments(fn, args: dict[str, Any], key: str, given_by_mlexp: tuple[str, ...] = ()) -> None:
    """Refuse an argument `fn` does not take, and a required one that is missing (mlexp passes the others)."""
    target = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}"
    signature = inspect.signature(fn.__init__ if inspect.isclass(fn) else fn)
    params = {n: p for n, p in signature.parameters.items() if n != "self"}
    open_ended = any(p.kind == p.VAR_KEYWORD for p in params.values())
    named = [n for n, p in params.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    accepted = [n for n in named if n not in given_by_mlexp]
    for arg, value in args.items():
        if arg not in params and not open_ended:
            raise ConfigError(
                f"{key}.{arg}", value, f"an argument of {target}: {', '.join(accepted) or '(none)'}",
                closest(arg, accepted),
            )  # fmt: skip
    for name in accepted:
        p = params[name]
        if p.default is p.empty and p.kind is not p.VAR_POSITIONAL and name not in args:
            raise ConfigError(f"{key}.{name}", None, f"a value ({target} needs it)")


def source(target: str) -> dict[str, Any]:
    """Where a user component's code lives, for manifest.json: its file and the git commit of its folder."""
    from mlexp.runs.manifest import git_state

    module = sys.modules.get(target.rpartition(".")[0])
    path = Path(getattr(module, "__file__", "") or "").resolve() if module else None
    if path is None or not path.is_file():
        return {"target": target}
    import hashlib

    root = next((p for p in path.parents if (p / ".git").exists()), None)
    digest = hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()  # mlexp explain: edited, not committed
    return {"target": target, "file": str(path), "hash": digest, "git": git_state(root) if root else None}


def targets(cfg) -> list[str]:
    """Every user component a run config names."""
    found = [cfg[g][TARGET] for g in ("model", "dataset") if TARGET in cfg[g]]
    found += [entry[TARGET] for entry in (cfg.get("callbacks") or {}).values() if TARGET in entry]
    for group in ("model", "augmentation"):
        found += [e["layer"] for e in cfg[group].get("layers") or [] if "." in str(e.get("layer"))]
    return found
