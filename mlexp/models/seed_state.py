"""The states of a model's seed generators (Dropout's masks, GaussianNoise, random augmentation layers).

Keras saves weights and optimizer state, not these: a run resumed or continued from a saved model would
draw other masks than the run that went on. Each saved model gets its generators' states beside it
(`model.keras` -> `model.seeds.json`); loading it puts them back, so a resumed or continued run trains
exactly as the uninterrupted one did."""

from __future__ import annotations

import json
from pathlib import Path


def sidecar(model_file: Path) -> Path:
    return Path(model_file).with_suffix(".seeds.json")


def _generators(model) -> dict[str, object]:
    """Every seed generator of the model's layers (nested models too), by a path that survives a reload."""
    import keras

    found: dict[str, object] = {}
    stack = [(layer.name, layer) for layer in getattr(model, "layers", [])]
    while stack:
        name, layer = stack.pop()
        for attribute, value in sorted(vars(layer).items()):
            if isinstance(value, keras.random.SeedGenerator):
                found[f"{name}.{attribute}"] = value
        stack += [(f"{name}/{inner.name}", inner) for inner in getattr(layer, "layers", [])]
    return found


def save(model, model_file: Path) -> None:
    """Write the states beside `model_file` (atomically, through the run folder's .tmp/)."""
    from mlexp import runs

    states = {name: [int(v) for v in generator.state.numpy()] for name, generator in _generators(model).items()}
    runs.write_text(sidecar(model_file), json.dumps(states, sort_keys=True) + "\n")


def restore(model, model_file: Path) -> None:
    """Put back the states saved beside `model_file` (none saved: the model keeps its fresh ones)."""
    path = sidecar(model_file)
    if not path.is_file():
        return
    states = json.loads(path.read_text(encoding="utf-8"))
    for name, generator in _generators(model).items():
        if name in states:
            generator.state.assign(states[name])
