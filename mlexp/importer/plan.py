"""From what the reader found to the experiments to write: names, sweeps of comparisons, search spaces."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlexp.importer import mapping
from mlexp.importer.reader import Reader
from mlexp.importer.values import Data, Model
from mlexp.nested import flatten


@dataclass
class Sweep:
    name: str
    experiments: list[str]
    varied: list[str]  # the config keys that differ


@dataclass
class Plan:
    name: str
    experiments: list[mapping.Experiment] = field(default_factory=list)
    sweeps: list[Sweep] = field(default_factory=list)
    seed: int | None = None


def identifier(text: str) -> str:
    text = re.sub(r"\W+", "_", text).strip("_").lower() or "notebook"
    return f"nb_{text}" if text[0].isdigit() else text


def plan(name: str, reader: Reader) -> Plan:
    made = Plan(name, seed=reader.seed)
    used: dict[str, int] = {}
    fitted: set[int] = set()
    for training in reader.trainings:
        label = training.model.var or "model"
        for key, value in training.loop.items():
            if isinstance(value, str | int | float | bool):  # a label of scalars: for name, opt in ...: name
                label += f"_{key}_{value}"
        made.experiments.append(mapping.experiment(_unique(f"{name}_{identifier(label)}", used), training))
        fitted |= {id(m) for m in reader.models if (m.var, m.where) == (training.model.var, training.model.where)}
    fitted |= reader.in_search
    for model in reader.models:
        augmentation = model.compiled is None and model.layers and all(x.cls.startswith("Random") for x in model.layers)
        if id(model) not in fitted and (model.layers or model.kind == "code") and not augmentation:
            like = _nearest(reader, model)
            made.experiments.append(mapping.untrained(_unique(f"{name}_{identifier(model.var or 'model')}", used),
                                                      model, like))  # fmt: skip
    for search in reader.searches:
        if search.model is not None:
            found = mapping.untrained(_unique(f"{name}_{identifier('search')}", used), search.model, _nearest(reader,
                                      search.model))  # fmt: skip
            found.trained = True
            found.approximations.remove("the notebook defines this model but never trains it")
            made.experiments.append(found)
    if len(made.experiments) == 1:
        made.experiments[0].name = name
    made.sweeps = comparisons(name, [e for e in made.experiments if e.trained and not e.space])
    return made


def _unique(label: str, used: dict[str, int]) -> str:
    used[label] = used.get(label, 0) + 1
    return label if used[label] == 1 else f"{label}_{used[label]}"


def _nearest(reader: Reader, model: Model):
    """The training whose data an untrained model would have used: the last one before it, else the next."""
    known = [t for t in reader.trainings if isinstance(t.x, Data)] or reader.trainings
    before = [t for t in known if t.seq < model.seq]
    return before[-1] if before else (known[0] if known else None)


def flat(config: dict) -> dict[str, Any]:
    """An experiment's config as dotted keys, layer lists entry by entry, labels left out."""
    found = flatten(config, lists=True)
    return {k: v for k, v in found.items() if not k.startswith("_loop") and k.rpartition(".")[2] != "name"}


def difference(a: dict, b: dict) -> set[str]:
    fa, fb = flat(a), flat(b)
    return {k for k in fa.keys() | fb.keys() if fa.get(k, "<absent>") != fb.get(k, "<absent>")}


def comparisons(name: str, experiments: list[mapping.Experiment]) -> list[Sweep]:
    """Consecutive experiments that change the same keys of a first one: the notebook's comparison cells."""
    sweeps, group, varied = [], [], set()
    for experiment in experiments:
        if group:
            changed = difference(group[0].config, experiment.config)
            if changed and ((len(group) == 1 and len(changed) <= 6) or (varied and changed <= varied)):
                varied = varied or changed
                group.append(experiment)
                continue
        if len(group) > 1:
            sweeps.append(_sweep(name, len(sweeps) + 1, group, varied))
        group, varied = [experiment], set()
    if len(group) > 1:
        sweeps.append(_sweep(name, len(sweeps) + 1, group, varied))
    return sweeps


def _sweep(name: str, number: int, group: list[mapping.Experiment], varied: set[str]) -> Sweep:
    return Sweep(f"{name}_compare{number}", [e.name for e in group], sorted(varied))
