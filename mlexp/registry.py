"""One registry per group where mlexp chooses code: a kind is a builder plus the rules of its keys.

A module registers its kinds with a decorator (`@MODELS.register("conv", rules)`); YAML chooses one
with `kind:`, while `name:` is the preset's label. The registry imports the built-in modules it lists
(as Keras lists ALL_OBJECTS) and the modules other packages offer through the `mlexp.kinds` entry
points, never the others (the TensorFlow ones), so a config is still checked without TensorFlow. A
listed module that fails to import is an error, not a kind that silently is not there.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ENTRY_POINTS = "mlexp.kinds"  # [project.entry-points."mlexp.kinds"] my_kinds = "my_package.kinds"


class Phases:
    """How a model kind trains: one unnamed phase of trainer.epochs unless its kind says otherwise
    (a pretrained backbone: frozen, then fine-tuned). A kind with phases subclasses this and registers
    an instance (`@MODELS.register(..., phases=...)`); training, `mlexp check` and the pre-flight checks
    ask it, so a new family with phases touches only its module and its YAML."""

    def plan(self, cfg) -> list[tuple[str | None, int]]:
        """(phase, last epoch) pairs, in order."""
        return [(None, cfg.trainer.epochs)]

    def enter(self, phase: str | None, model, cfg) -> None:
        """Make `model` ready for `phase` before its first epoch (also when a resumed run starts there)."""

    def describe(self, cfg, model, spec) -> str | None:
        """Lines for `mlexp check` in place of the parameter count (None: the count)."""
        return None

    def findings(self, cfg, splits) -> list[dict]:
        """Pre-flight findings about this kind's settings, as mlexp.doctor.Finding's fields."""
        return []


@dataclass(frozen=True)
class Kind:
    name: str
    builder: Callable[..., Any]
    rules: dict  # key -> config.rules.Rule for every key besides `name` and `kind`
    required: tuple[str, ...] = ()
    check: Callable[[dict], None] | None = None  # rules that tie two keys together; raises ConfigError
    aliases: tuple[str, ...] = ()  # older `name:` values that meant this kind (saved runs have no `kind`)
    preset: str = ""  # mlexp's YAML preset holding the kind's defaults (conf/<group>/<preset>.yaml); "" = kind
    phases: Phases = field(default_factory=Phases)


@dataclass
class Registry:
    group: str  # the config group: model, dataset
    package: str  # where its modules live
    modules: tuple[str, ...] = ()  # the package's modules that register (tests/test_registry.py checks the list)
    _kinds: dict[str, Kind] = field(default_factory=dict)
    _found: bool = False

    def register(self, kind: str, rules: dict, required=(), check=None, aliases=(), preset="", phases=None):
        """Decorator: the function builds `kind`; `rules` check its keys before anything heavy is imported."""

        def add(builder):
            self._kinds[kind] = Kind(
                kind, builder, dict(rules), tuple(required), check, tuple(aliases), preset or kind, phases or Phases()
            )  # fmt: skip
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

    def phases(self, section) -> Phases:
        """The phases of the section's kind (one phase for a section without one: a `_target_` model)."""
        kind = self.kind_of(section)
        return self.kinds()[kind].phases if kind in self.kinds() else Phases()

    def _discover(self) -> None:
        from importlib.metadata import entry_points

        for module in self.modules:
            importlib.import_module(f"{self.package}.{module}")
        for entry in entry_points(group=ENTRY_POINTS):
            try:
                entry.load()
            except Exception as exc:  # noqa: BLE001 - another package's module: name it, whatever it raised
                from mlexp.errors import MlexpError, first_line

                raise MlexpError(
                    f"entry point {ENTRY_POINTS} {entry.name!r} ({entry.value}) failed to import: "
                    f"{type(exc).__name__}: {first_line(exc)}"
                ) from None
        self._kinds = dict(sorted(self._kinds.items()))  # messages list kinds alphabetically


MODELS = Registry("model", "mlexp.models", ("backbone", "conv", "mlp", "sequential"))
DATASETS = Registry(
    "dataset", "mlexp.data", ("builtin", "digits", "images", "npz", "synthetic", "table", "text", "tfds")
)
REGISTRIES = {"dataset": DATASETS, "model": MODELS}  # checked in this order, as the config lists them
