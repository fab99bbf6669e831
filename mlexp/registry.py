"""One registry per group where mlexp chooses code: a kind is a builder plus the rules of its keys.

A module registers its kinds with a decorator (`@MODELS.register("conv", rules)`); YAML chooses one
with `kind:`, while `name:` is the preset's label. Adding a built-in family touches its module and its
YAML only: the registry finds every module of its package that registers, without importing the others
(the TensorFlow ones), so a config is still checked without TensorFlow.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Kind:
    name: str
    builder: Callable[..., Any]
    rules: dict  # key -> config.rules.Rule for every key besides `name` and `kind`
    required: tuple[str, ...] = ()
    check: Callable[[dict], None] | None = None  # rules that tie two keys together; raises ConfigError
    aliases: tuple[str, ...] = ()  # older `name:` values that meant this kind (saved runs have no `kind`)
    preset: str = ""  # mlexp's YAML preset holding the kind's defaults (conf/<group>/<preset>.yaml); "" = kind


@dataclass
class Registry:
    group: str  # the config group: model, dataset
    package: str  # where its modules live
    _kinds: dict[str, Kind] = field(default_factory=dict)
    _found: bool = False

    def register(self, kind: str, rules: dict, required=(), check=None, aliases=(), preset=""):
        """Decorator: the function builds `kind`; `rules` check its keys before anything heavy is imported."""

        def add(builder):
            self._kinds[kind] = Kind(kind, builder, dict(rules), tuple(required), check, tuple(aliases), preset or kind)
            return builder

        return add

    def kinds(self) -> dict[str, Kind]:
        if not self._found:
            self._found = True
            self._discover()
        return self._kinds

    def __getitem__(self, kind: str) -> Kind:
        return self.kinds()[kind]

    def kind_of(self, section: dict) -> str | None:
        """The section's kind: `kind:`, or for configs written before it, the kind its `name:` meant."""
        if section.get("kind") is not None:
            return section["kind"]
        name = section.get("name")
        for kind in self.kinds().values():
            if name == kind.name or name in kind.aliases:
                return kind.name
        return None

    def _discover(self) -> None:
        marker = f"{self.group.upper()}S.register("
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            source = Path(package.__path__[0], f"{module.name}.py")
            if source.is_file() and marker in source.read_text(encoding="utf-8"):
                importlib.import_module(f"{self.package}.{module.name}")
        self._kinds = dict(sorted(self._kinds.items()))  # messages list kinds alphabetically


MODELS = Registry("model", "mlexp.models")
DATASETS = Registry("dataset", "mlexp.data")
REGISTRIES = {"dataset": DATASETS, "model": MODELS}  # checked in this order, as the config lists them
