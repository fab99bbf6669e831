"""Advice by cause: the config values of this run that most likely caused a finding, as overrides to try.

Each rule reads the run's own config (and history); an override is only offered when it changes a value,
so the doctor never suggests what is already set.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

# Thresholds, with their reasons:
HIGH_RATE = {"sgd": 1.0, "adadelta": 1.0}  # effective step above which these diverge; adaptive ones: 0.1
TINY_RATE = 1e-5  # below this, 20 epochs barely move the weights
STRONG_PENALTY = 0.05  # an L1/L2 factor this large outweighs the data loss of a classifier (typical: 1e-4-1e-3)
STRONG_DROPOUT = 0.5  # dropping half the units or more leaves too little signal in small dense networks
COLLAPSED_RATE = 0.01  # a schedule that took the rate below 1% of its start has stopped training


def effective_rate(cfg) -> float:
    """The step size that matters: SGD with momentum m moves like a rate of lr / (1 - m)."""
    momentum = cfg.optimizer.get("momentum") or 0.0
    return cfg.optimizer.learning_rate / (1.0 - momentum) if momentum < 1 else float("inf")


def _current(cfg, key: str):
    node = cfg
    for part in key.split("."):
        node = node.get(part) if hasattr(node, "get") else None
    return node


def _offer(cfg, key: str, value) -> str | None:
    """`key=value`, unless the run already has that value."""
    current = _current(cfg, key)
    same = current == value or (isinstance(value, float) and isinstance(current, (int, float)) and
                                abs(current - value) <= 1e-12)  # fmt: skip
    return None if same else f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"


def _initializer(cfg, rows):
    if cfg.model.get("kernel_initializer") in ("zeros", "ones"):
        return _offer(cfg, "model.kernel_initializer", "glorot_uniform")
    return None


def _rate_high(cfg, rows):
    limit = HIGH_RATE.get(cfg.optimizer.name, 0.1)
    if effective_rate(cfg) > limit:
        momentum = cfg.optimizer.get("momentum") or 0.0
        rate = _offer(cfg, "optimizer.learning_rate", float(limit / 100))
        return f"{rate} optimizer.momentum=0.9" if momentum > 0.9 else rate
    return None


def _rate_tiny(cfg, rows):
    if cfg.optimizer.learning_rate < TINY_RATE:
        return _offer(cfg, "optimizer.learning_rate", 0.001)
    return None


def _penalty(cfg, rows):
    for kind in ("l1", "l2"):
        factor = cfg.regularizer.get(kind)
        if factor and factor >= STRONG_PENALTY:
            return _offer(cfg, f"regularizer.{kind}", 0.0001 if kind == "l1" else 0.001)
    return None


def _dropout(cfg, rows):
    rates = [cfg.model.get("dropout") or 0.0, *(cfg.model.get("block_dropout") or [])]
    if max(rates) >= STRONG_DROPOUT:
        return _offer(cfg, "model.dropout", 0.2) if (cfg.model.get("dropout") or 0) >= STRONG_DROPOUT else (
            "model.block_dropout=[]")  # fmt: skip
    return None


def _augmentation(cfg, rows):
    last = rows[-1] if rows else {}
    if cfg.augmentation.get("layers") and last.get("accuracy", 1) < last.get("val_accuracy", 0) - 0.05:
        return _offer(cfg, "augmentation", "none")  # training images much harder than validation images
    return None


def _schedule(cfg, rows):
    rates = [r["learning_rate"] for r in rows if r.get("learning_rate") is not None]
    if len(rates) > 1 and rates[-1] < COLLAPSED_RATE * rates[0]:
        epoch = next(r["epoch"] for r in rows if r.get("learning_rate", rates[0]) < COLLAPSED_RATE * rates[0])
        return f"a slower schedule (callbacks.lr_scheduler; the rate fell below 1% of its start by epoch {epoch})"
    return None


Rule = Callable[..., "str | None"]
# Causes in the order they are most likely behind each finding.
NOT_LEARNING: list[Rule] = [_initializer, _rate_high, _rate_tiny, _penalty, _dropout, _schedule]
UNDERFITTING: list[Rule] = [_dropout, _augmentation, _penalty, _schedule, _rate_tiny]
PLATEAU: list[Rule] = [_schedule, _penalty, _dropout, _rate_tiny]


def by_cause(cfg, rows, rules: list[Rule], fallback: str) -> str:
    """The overrides for the causes present in this run (at most two), else `fallback`."""
    if cfg is None:
        return fallback
    found = [advice for rule in rules if (advice := rule(cfg, rows))]
    return ", or ".join(dict.fromkeys(found[:2])) if found else fallback


# One override: key=value, or a group switch (regularizer=l2); runs of them are split on spaces.
_OVERRIDE = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*=[^\s,;()]+")
_CLAUSES = re.compile(r",\s*or\s+|,\s+|\s+or\s+|;\s+")
LAST_RESORT = "look at the data (mlexp data) and lower optimizer.learning_rate"


def applies(cfg, override: str) -> bool:
    """Whether `override` composes onto the run's own config and passes validation: an existing key with an
    accepted value, or an option of a config group."""
    from omegaconf import OmegaConf

    from mlexp.config import catalog, validate
    from mlexp.config.folders import builtin_config_dir
    from mlexp.errors import MlexpError

    key, _, value = override.partition("=")
    if "." not in key:
        return key in catalog.TOP_LEVEL and (Path(builtin_config_dir()) / key / f"{value}.yaml").is_file()
    parent, _, leaf = key.rpartition(".")
    section = OmegaConf.select(cfg, parent)
    if section is None or not hasattr(section, "keys") or leaf not in section:
        return False
    plain = OmegaConf.to_container(cfg, resolve=True)
    try:
        validate(OmegaConf.merge(OmegaConf.create(plain), OmegaConf.from_dotlist([override])), data_paths=False)
    except (MlexpError, ValueError):
        return False
    return True


def followable(cfg, suggestion: str) -> str:
    """The suggestion without the clauses whose overrides this run's config cannot take (a backbone has no
    model.kernel_initializer); LAST_RESORT when nothing is left."""
    if cfg is None or not _OVERRIDE.search(suggestion):
        return suggestion
    clauses = _clauses(suggestion)
    kept = [c for c in clauses if all(applies(cfg, o) for o in _OVERRIDE.findall(c))]
    if len(kept) == len(clauses):
        return suggestion
    return ", or ".join(kept) if kept else LAST_RESORT


def _clauses(text: str) -> list[str]:
    """The alternatives of a suggestion, split at top-level commas, "or" and semicolons (not inside brackets)."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(text):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        match = _CLAUSES.match(text, i) if depth == 0 else None
        if match:
            out.append(text[start:i])
            start = i = match.end()
            continue
        i += 1
    return [c for c in [*out, text[start:]] if c]


def with_followable_advice(findings: list, cfg) -> list:
    """Findings whose suggestions every one compose and validate against `cfg`."""
    from dataclasses import replace

    return [replace(f, suggestion=followable(cfg, f.suggestion)) for f in findings]
