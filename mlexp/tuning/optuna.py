"""hparams_search=optuna: hydra-optuna-sweeper driven by a conf/search_space/ file, translated by code.

The sweeper calls `suggest(cfg, trial)` (its custom_search_space hook) for every trial; each value it
suggests becomes one override of that sweep job, so the one YAML space serves keras-tuner (mlexp tune)
and Optuna (mlexp train -m hparams_search=optuna).
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from mlexp.errors import ConfigError
from mlexp.tuning import space as search_space


def suggest(cfg: DictConfig, trial) -> None:
    if not cfg.get("search_space"):
        raise ConfigError(
            "search_space", None, "a search space with hparams_search=optuna, e.g. search_space=digits_small"
        )
    run_cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k not in ("hydra", "search_space")])
    space = search_space.parse(cfg.search_space, run_cfg)
    wanted = "minimize" if space.objective.endswith("loss") else "maximize"
    direction = str(cfg.hydra.sweeper.direction).rsplit(".", 1)[-1]
    if direction != wanted:
        raise ConfigError("hydra.sweeper.direction", direction, f"{wanted} for the objective {space.objective}")
    for param in space.params:
        param.suggest(trial)
