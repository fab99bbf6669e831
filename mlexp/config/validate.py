"""Check a composed config against the catalogue before anything heavy is imported."""

from __future__ import annotations

import copy
import functools
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import InterpolationResolutionError, MissingMandatoryValue

import mlexp.config.catalog as catalog
from mlexp import user_code
from mlexp.config.folders import builtin_config_dir
from mlexp.config.rules import Rule, choice, string
from mlexp.errors import ConfigError, closest
from mlexp.registry import REGISTRIES, Registry
from mlexp.runs import continuation


def validate(cfg: DictConfig, data_paths: bool = True) -> DictConfig:
    """Return the resolved, checked run config (read-only); raise ConfigError on the first problem.

    data_paths=False skips the check that dataset.path exists (a saved run's model predicts without its data).
    """
    plain = {k: v for k, v in _resolve(cfg).items() if k not in catalog.SEARCH_KEYS}
    for key, rules in catalog.SWEEP_SETTINGS.items():
        if key in plain:
            check_section(key, plain.pop(key), rules, key)
    plain.setdefault("logger", {"name": "none"})  # run directories saved before the logger group existed
    _check_keys("", plain, {k: None for k in catalog.TOP_LEVEL}, "the run config")
    for key in catalog.TOP_LEVEL:
        if key not in plain:
            raise ConfigError(key, None, "a value (every run config needs it)")
    for group, registry in REGISTRIES.items():
        _check_kind(group, plain[group], registry, data_paths)
    for group, components in catalog.COMPONENTS.items():
        _check_component(group, plain[group], components)
    _check_callbacks(plain["callbacks"])
    check_section("trainer", plain["trainer"], catalog.TRAINER, "trainer")
    catalog.SEED.check("seed", plain["seed"])
    _check_combinations(plain)
    if data_paths:  # a saved run's model predicts without the run it was continued from
        continuation.check(plain)
    run_cfg = OmegaConf.create(plain)
    OmegaConf.set_readonly(run_cfg, True)
    return run_cfg


def _resolve(cfg: DictConfig) -> dict[str, Any]:
    if "hydra" in cfg:  # present only when composed with return_hydra_config
        cfg = OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"])
    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except MissingMandatoryValue as exc:
        raise ConfigError(exc.full_key, "???", "a value (it is mandatory)") from None
    except InterpolationResolutionError as exc:
        raw = OmegaConf.to_container(cfg, resolve=False)
        for part in str(exc.full_key).split("."):  # the value as written: `${nope}`
            raw = raw.get(part) if isinstance(raw, dict) else None
        reason = str(exc.msg).strip().splitlines()[0]  # the rest repeats the key and the node type
        raise ConfigError(exc.full_key, raw, f"an interpolation that resolves ({reason})") from None


def _check_keys(prefix: str, section: Any, allowed: dict, owner: str) -> None:
    if not isinstance(section, dict):
        raise ConfigError(prefix.rstrip("."), section, f"a mapping of {owner}'s settings")
    for key in section:
        if key not in allowed:
            raise ConfigError(
                f"{prefix}{key}",
                section[key],
                f"a key that {owner} takes: {', '.join(sorted(allowed)) or '(none)'}",
                closest(key, allowed),
            )


def check_section(path: str, section: Any, rules: dict[str, Rule], owner: str) -> None:
    _check_keys(f"{path}.", section, rules, owner)
    for key, value in section.items():
        rules[key].check(f"{path}.{key}", value)


def _check_kind(group: str, section: Any, registry: Registry, data_paths: bool = True) -> None:
    """A model or dataset: `kind:` chooses mlexp's code (or `_target_` the user's), `name:` is a label."""
    if user_code.has_target(section):
        _check_user_component(group, section)
        return
    if not isinstance(section, dict):
        raise ConfigError(group, section, f"a mapping with {group}.kind")
    kinds = registry.kinds()
    kind = registry.kind_of(section)
    if kind is None:
        raise ConfigError(
            f"{group}.kind", section.get("kind"),
            f"a {group} kind: {', '.join(kinds)} (or {group}._target_ naming your own code)",
            closest(str(section.get("name")), kinds),
        )  # fmt: skip
    choice(kinds, f"a {group} kind:").check(f"{group}.kind", kind)
    section["kind"] = kind
    section.setdefault("name", kind)
    string().check(f"{group}.name", section["name"])
    entry, name = kinds[kind], section["name"]
    for key, value in _kind_defaults(group, entry.preset).items():
        if key not in entry.required:  # a preset of one's own, or a run saved before the key existed
            section.setdefault(key, copy.deepcopy(value))
    owner = f"{group} '{name}'" if name == kind else f"{group} '{name}' (kind {kind})"
    args = {k: v for k, v in section.items() if k not in ("name", "kind")}
    for key in entry.required:
        if key not in args:
            raise ConfigError(f"{group}.{key}", None, f"a value ({owner} needs it)")
    check_section(group, args, entry.rules, owner)
    _check_own_output(group, section)
    if entry.check is not None:
        entry.check(section)
    if "path" in entry.required and data_paths:
        _check_exists(f"{group}.path", section["path"])


def _check_exists(key: str, path: Any) -> None:
    """A data path that is not there is refused with the config errors, before TensorFlow or a run folder."""
    from pathlib import Path

    if isinstance(path, str) and path and not Path(path).expanduser().exists():
        where = Path(path).expanduser().absolute()
        parent = next((p for p in where.parents if p.exists()), None)
        hint = f"; {parent} exists" if parent is not None and parent != Path(where.anchor) else ""
        raise ConfigError(key, path, f"an existing file or folder (nothing is at {where}{hint})")


@functools.cache
def _kind_defaults(group: str, preset: str) -> dict[str, Any]:
    """The values of mlexp's own preset of a kind (conf/model/cnn.yaml for conv), less what it leaves to
    the user (`???`) and its labels."""
    path = builtin_config_dir() / group / f"{preset}.yaml"
    values = OmegaConf.to_container(OmegaConf.load(path)) if path.is_file() else {}
    return {k: v for k, v in values.items() if v != "???" and k not in ("name", "kind", "defaults")}


def _check_component(group: str, section: Any, components: dict[str, dict[str, Rule]]) -> None:
    if not isinstance(section, dict) or "name" not in section:
        raise ConfigError(f"{group}.name", None, f"a {group} name: {', '.join(components)}")
    name = section["name"]
    if group in catalog.PLAIN_PRESETS:  # a preset of your own is YAML only: any name, the same rules
        string().check(f"{group}.name", name)
        rules = catalog.PLAIN_PRESETS[group]
    else:
        choice(components, f"a known {group}:").check(f"{group}.name", name)
        rules = components[name]
    args = {k: v for k, v in section.items() if k != "name"}
    check_section(group, args, rules, f"{group} '{name}'")


def _check_own_output(group: str, section: dict[str, Any]) -> None:
    if group == "model" and section.get("head") is False and not section.get("loss"):
        raise ConfigError("model.loss", None, "a Keras loss name with model.head=false (e.g. categorical_crossentropy)")


def _check_user_component(group: str, section: dict[str, Any]) -> None:
    """`_target_` names the user's code: mlexp's own keys by its rules, the others against the code's signature."""
    rules = catalog.USER_COMPONENTS[group]
    for key, default in catalog.USER_DEFAULTS[group].items():
        section.setdefault(key, default)
    section.setdefault("name", str(section[user_code.TARGET]).rpartition(".")[2])
    fn = user_code.resolve(section[user_code.TARGET], f"{group}._target_")
    if not callable(fn):
        raise ConfigError(f"{group}._target_", section[user_code.TARGET], "a function or class")
    for key, rule in rules.items():
        if key in section:
            rule.check(f"{group}.{key}", section[key])
    _check_own_output(group, section)
    args = {k: v for k, v in section.items() if k not in rules and k != user_code.TARGET}
    user_code.check_arguments(fn, args, group, given_by_mlexp=catalog.USER_PASSED[group])


def _check_callbacks(section: Any) -> None:
    if section is None:
        return
    user = {name for name, entry in section.items() if user_code.has_target(entry)}
    _check_keys("callbacks.", {k: v for k, v in section.items() if k not in user}, catalog.CALLBACKS, "callbacks")
    for name, entry in section.items():
        if name in user:
            catalog.CALLBACK_ENABLED.check(f"callbacks.{name}.enabled", entry.setdefault("enabled", True))
            cls = user_code.resolve(entry[user_code.TARGET], f"callbacks.{name}._target_")
            args = {k: v for k, v in entry.items() if k not in ("enabled", user_code.TARGET)}
            user_code.check_arguments(cls, args, f"callbacks.{name}")
            continue
        check_section(f"callbacks.{name}", entry, catalog.CALLBACKS[name], f"callback '{name}'")


DISTRIBUTION_BACKEND = {"mirrored": "tensorflow", "data_parallel": "jax"}  # tf.distribute; keras.distribution


def _check_combinations(plain: dict[str, Any]) -> None:
    """Rules that tie two keys together."""
    trainer = plain["trainer"]
    if trainer["validation"] == "head" and trainer.get("validation_size") is None:
        raise ConfigError("trainer.validation_size", None, "an integer >= 1 with trainer.validation=head (e.g. 10000)")
    if trainer["validation"] == "none":
        for name, entry in (plain.get("callbacks") or {}).items():
            if entry.get("enabled") and str(entry.get("monitor", "")).startswith("val_"):
                raise ConfigError(
                    f"callbacks.{name}.monitor", entry["monitor"],
                    "a training metric (loss, accuracy) with trainer.validation=none, or the callback disabled",
                )  # fmt: skip
    if trainer["devices"] is not None and trainer["distribution"] == "none":
        raise ConfigError(
            "trainer.devices", trainer["devices"],
            "null, or a device list with trainer.distribution=mirrored (TensorFlow) or data_parallel (JAX)",
        )  # fmt: skip
    backend = trainer.get("backend", "tensorflow")
    if trainer["distribution"] in DISTRIBUTION_BACKEND and DISTRIBUTION_BACKEND[trainer["distribution"]] != backend:
        works = [name for name, on in DISTRIBUTION_BACKEND.items() if on == backend]
        raise ConfigError(
            "trainer.distribution", trainer["distribution"],
            f"none{''.join(f' or {name}' for name in works)} with trainer.backend={backend} "
            f"({trainer['distribution']} runs on {DISTRIBUTION_BACKEND[trainer['distribution']]})",
        )  # fmt: skip
    if trainer["jit_compile"] is True and trainer["run_eagerly"]:
        raise ConfigError(
            "trainer.jit_compile", True, "false with trainer.run_eagerly=true (eager steps are not compiled)"
        )
    schedule = plain["optimizer"].get("schedule")
    if schedule is not None:
        if "name" not in schedule:
            raise ConfigError("optimizer.schedule.name", None, "one_cycle, cosine or linear")
        if (plain.get("callbacks") or {}).get("lr_scheduler", {}).get("enabled"):
            raise ConfigError(
                "optimizer.schedule", schedule["name"],
                "null with callbacks.lr_scheduler.enabled=true (one schedule sets the rate: per batch or per epoch)",
            )  # fmt: skip
