"""The tuner group (conf/tuner/): checked like every other group, before any training."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import DictConfig, OmegaConf

from mlexp.config.rules import boolean, choice, integer, optional
from mlexp.config.validate import check_section
from mlexp.errors import ConfigError

_COMMON = {
    "name": choice(("random_search", "bayesian", "hyperband")),
    "objective": optional(choice(("val_accuracy", "val_loss"))),
    "seed": integer(0),
    "max_consecutive_failed_trials": integer(1),
    "retrain_best": boolean(),
}
RULES = {
    "random_search": {**_COMMON, "max_trials": integer(1)},
    "bayesian": {**_COMMON, "max_trials": integer(1), "num_initial_points": integer(1)},
    "hyperband": {**_COMMON, "max_epochs": integer(1), "factor": integer(2)},
}


@dataclass(frozen=True)
class TunerSettings:
    name: str
    objective: str
    direction: str
    seed: int
    max_consecutive_failed_trials: int
    retrain_best: bool
    max_trials: int = 0
    num_initial_points: int = 0
    max_epochs: int = 0
    factor: int = 3


def check_tuner(node: DictConfig, space) -> TunerSettings:
    plain = OmegaConf.to_container(node, resolve=True)
    name = plain.get("name")
    if name not in RULES:
        raise ConfigError("tuner", name, "tuner=random_search, tuner=bayesian or tuner=hyperband")
    check_section("tuner", plain, RULES[name], f"tuner '{name}'")
    objective = plain["objective"] or space.objective
    if objective not in ("val_accuracy", "val_loss"):
        raise ConfigError("search_space.objective", objective, "val_accuracy or val_loss (a validation metric)")
    direction = "min" if objective.endswith("loss") else "max"
    fields = {k: v for k, v in plain.items() if k in TunerSettings.__dataclass_fields__ and k != "objective"}
    return TunerSettings(objective=objective, direction=direction, **fields)
