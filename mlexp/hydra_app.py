"""Run a task function under Hydra's own command line (overrides, -m, --cfg, --help)."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlexp.config.folders import builtin_config_dir
from mlexp.errors import Carried, MlexpError, closest

CONFIG_DIR_ENV = "MLEXP_CONFIG_DIR"
LABEL_RESOLVER = "mlexp.label"  # ${mlexp.label:model} in folder names: never fails on a section without name:


def label(group: str, *, _root_) -> str:
    """A section's label for a folder name: its `name:`, else its `kind:`, else its `_target_`'s last part.

    Sections written by users may have no `name:` (a `_target_` is enough), and an interpolation of a
    missing key in hydra.run.dir would end the run before it starts.
    """
    import re

    section = _root_.get(group) if hasattr(_root_, "get") else None
    for key in ("name", "kind", "_target_"):
        try:
            value = section.get(key) if hasattr(section, "get") else None
        except Exception:  # noqa: BLE001 - a missing or broken value: the next key, validation reports it
            value = None
        if isinstance(value, str) and value.strip():
            return re.sub(r"[^A-Za-z0-9._-]+", "-", value.rpartition(".")[2] if key == "_target_" else value)
    return group


def register_resolvers() -> None:
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver(LABEL_RESOLVER):
        OmegaConf.register_new_resolver(LABEL_RESOLVER, label)


register_resolvers()  # at import, for processes that resolve a saved Hydra config; again before each composition


class HydraUsageError(MlexpError):
    """Hydra refused the command line (unknown group option, unknown key, bad override syntax)."""

    exit_code = 2


def project_config_dirs(extra: list[str] = ()) -> list[Path]:
    """Config folders that add to mlexp's own (their options sit beside mlexp's, and win on a clash):
    `extra` (-cd DIR of the verbs without Hydra's command line), MLEXP_CONFIG_DIR, and the current
    folder's conf/ (a user project)."""
    named = [(f"-cd {d}", Path(d)) for d in extra]
    if os.environ.get(CONFIG_DIR_ENV):
        named.append((CONFIG_DIR_ENV, Path(os.environ[CONFIG_DIR_ENV])))
    for source, path in named:
        if not path.is_dir():
            raise MlexpError(f"{source}: no folder {path}; expected a folder of config groups (model/, dataset/, ...)")
    local = Path.cwd() / "conf"
    if local.is_dir():
        named.append(("./conf", local))
    builtin = builtin_config_dir()
    found: list[Path] = []
    for _, path in named:
        if path.resolve() != builtin and path.resolve() not in found:
            found.append(path.resolve())
    return found


def config_flags(hydra_cfg) -> list[str]:
    """The command-line words that bring back the config folders a Hydra run used (for printed hints)."""
    flags = [
        word
        for source in hydra_cfg.runtime.config_sources
        if source.provider == "command-line"
        for word in ("-cd", str(source.path).removeprefix("file://"))
    ]
    return flags + [str(o) for o in hydra_cfg.overrides.hydra if str(o).startswith("hydra.searchpath=")]


def search_path_override(dirs: list[Path]) -> list[str]:
    """The Hydra override that adds these folders to the config search path (none for no folder)."""
    return [f"hydra.searchpath=[{','.join(f'file://{d}' for d in dirs)}]"] if dirs else []


@dataclass(frozen=True)
class Request:
    """What the command asked for, handed to the task itself (not through sys.argv or the environment).

    It travels with the task function, so sweep jobs in other processes (joblib) get it too.
    """

    command: tuple[str, ...]  # as typed, for manifest.json
    resume: bool = False  # a sweep relaunched into its own folder: finished jobs skipped, the others continued


@dataclass(frozen=True)
class Job:
    """Hydra's runtime state for the task running now (read once, by job(), for every task)."""

    single_run: bool  # a plain run, not a job of a multirun
    output_dir: Path
    overrides: tuple[str, ...]  # the task's overrides as typed
    choices: dict  # group -> chosen option (hydra/sweeper included)
    hydra: object  # the whole hydra config, for config_flags


def job() -> Job:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hydra_cfg = HydraConfig.get()
    return Job(
        hydra_cfg.mode == RunMode.RUN, Path(hydra_cfg.runtime.output_dir), tuple(hydra_cfg.overrides.task),
        hydra_cfg.runtime.choices, hydra_cfg,
    )  # fmt: skip


def run_hydra(
    task: Callable, config_name: str, argv: list[str], prog: str, resume: bool = False, settings: list[str] = ()
) -> int:
    """Run `task(cfg, request)` under Hydra's command line; `settings` are mlexp's own Hydra overrides,
    not part of the command as typed. The task's errors, and those Hydra's callbacks carry (errors.Carried),
    leave as exceptions, for cli's one boundary to word."""
    import hydra
    from hydra.errors import CompactHydraException

    request = Request((*prog.split(), *argv), resume)
    register_resolvers()

    @functools.wraps(task)
    def with_request(cfg):
        return task(cfg, request)

    typed = list(argv)
    if "--help" in argv or "-h" in argv:
        text = quick_help(argv, config_name)
        if text is not None:
            print(text)
            return 0
    if not resume:
        precheck(argv, config_name)
    if resume:
        settings = [*settings, "hydra.callbacks.claim.resume=true"]  # the sweep folder is taken on purpose
    argv = with_overrides(argv, settings)
    entry = hydra.main(config_path=str(builtin_config_dir()), config_name=config_name, version_base="1.3")
    if not any(arg.startswith("hydra.searchpath=") for arg in argv):  # the user's own setting wins
        argv = with_overrides(argv, search_path_override(project_config_dirs()))
    try:
        with _hydra_command_line([prog, *argv]):
            entry(with_request)()
    except Carried as carried:
        raise carried.error from None
    except CompactHydraException as exc:
        raise HydraUsageError(_describe(exc)) from None
    except ValueError as exc:
        if isinstance(exc, MlexpError) or not str(exc).startswith("Only one of --run"):
            raise
        raise HydraUsageError(f"{exc} (got {' '.join(typed)})") from None
    return 0


@contextlib.contextmanager
def _hydra_command_line(argv: list[str]):
    """The two things @hydra.main reads from the process, set for the one call and put back after it:
    sys.argv (its command line: hydra.main has no argv parameter) and HYDRA_FULL_ERROR=1 (without it
    Hydra prints a trimmed traceback and exits; with it the exception reaches run_hydra, which words it
    and cli picks the exit code)."""
    saved_argv, saved_full_error = sys.argv, os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = saved_argv
        if saved_full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_full_error


def with_overrides(argv: list[str], extra: list[str]) -> list[str]:
    """`extra` overrides joined to the user's own: argparse takes overrides as one run of words, so they go
    right after the last override (`a=1 --cfg job` stays valid), or first when there is none."""
    last = max((i for i, word in enumerate(argv) if "=" in word and not word.startswith("-")), default=-1)
    return [*argv[: last + 1], *extra, *argv[last + 1 :]]


def compose_validated(overrides: list[str], config_name: str = "train"):
    """The validated run config for these overrides, composed without Hydra's command line or run directory.

    `-cd DIR` / `--config-dir DIR` among the overrides add DIR to the config search path, as for train.
    """
    from hydra import compose
    from hydra.errors import CompactHydraException

    from mlexp.config import validate

    try:
        with composing(overrides) as words:
            return validate(compose(config_name, overrides=words))
    except CompactHydraException as exc:
        raise HydraUsageError(_describe(exc)) from None


@contextlib.contextmanager
def composing(argv: list[str]):
    """Hydra's compose API over mlexp's configs and the project's; yields the overrides, -cd flags taken out."""
    from hydra import initialize_config_dir

    overrides, extra = _config_dir_flags(list(argv))
    overrides += search_path_override(project_config_dirs(extra))
    register_resolvers()
    with initialize_config_dir(config_dir=str(builtin_config_dir()), version_base="1.3"):
        yield overrides


def precheck(argv: list[str], config_name: str) -> None:
    """Check a single run's config with one composition before Hydra's command line takes over.

    Hydra composes twice (once to learn the run mode) before the task sees the config, which made a
    config error cost most of a second. Anything but a plain single run (`-m`, `--cfg`, `--help`, a
    config that sets `hydra.mode`), and any error other than a config error, is left to Hydra.
    """
    from hydra import compose
    from hydra.types import RunMode

    from mlexp.config import validate

    if any(word.startswith("-") or "=" not in word for word in _config_dir_flags(list(argv))[0]):
        return
    try:
        with composing(argv) as words:
            cfg = compose(config_name, overrides=words, return_hydra_config=True)
    except Exception:  # noqa: BLE001 - Hydra's own command line reports it, in its words
        return
    if cfg.hydra.mode in (None, RunMode.RUN):
        validate(cfg)


def quick_help(argv: list[str], config_name: str) -> str | None:
    """`--help` as Hydra writes it (the config's hydra/help template), in one composition.

    Hydra's own help recomposes its repository for every group and option (1.7 s for mlexp's groups).
    None (Hydra's help then) for a template with Hydra's flags or groups in it.
    """
    import string

    from hydra import compose
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.object_type import ObjectType
    from omegaconf import OmegaConf

    try:
        with composing([w for w in argv if w not in ("--help", "-h")]) as words:
            cfg = compose(config_name, overrides=words, return_hydra_config=True)
            loader = GlobalHydra.instance().config_loader()
            _, repo = loader._parse_overrides_and_create_caching_repo(config_name, words)
    except Exception:  # noqa: BLE001 - Hydra's own --help reports it, in its words
        return None
    template = cfg.hydra.help.template
    if "$FLAGS_HELP" in template or "$HYDRA_CONFIG_GROUPS" in template:
        return None

    def groups(parent: str) -> list[str]:
        found = []
        for name in repo.get_group_options(parent, ObjectType.GROUP):
            group = f"{parent}/{name}" if parent else name
            if group != "hydra":
                found += [group] * bool(repo.get_group_options(group, ObjectType.CONFIG)) + groups(group)
        return found

    listing = "".join(
        f"{g}: {', '.join(sorted(repo.get_group_options(g, ObjectType.CONFIG)))}\n" for g in sorted(groups(""))
    )
    job = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    return string.Template(template).substitute(APP_CONFIG_GROUPS=listing, CONFIG=OmegaConf.to_yaml(job))


def _config_dir_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split `-cd DIR` / `--config-dir DIR` / `--config-dir=DIR` off the overrides."""
    rest, dirs = [], []
    args = iter(argv)
    for arg in args:
        if arg in ("-cd", "--config-dir"):
            folder = next(args, None)
            if folder is None:
                raise HydraUsageError(f"{arg}: expected a folder after it")
            dirs.append(folder)
        elif arg.startswith("--config-dir="):
            dirs.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    return rest, dirs


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
