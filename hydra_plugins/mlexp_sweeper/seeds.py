"""Hydra's basic sweeper plus `sweep.seeds=N`: every config of the sweep repeated with seeds 0..N-1.

Seed i of config A and seed i of config B share their split, data order and initial weights, so their
scores can be compared seed by seed (a paired design). The seed varies slowest: the first round of jobs
is every config at seed 0, so an interrupted sweep still holds a complete comparison.
"""

# No `from __future__ import annotations`: Hydra's plugin scan imports this module outside sys.modules,
# where dataclasses cannot resolve string annotations.
from dataclasses import dataclass
from typing import Any

# Hydra exports no public base for a sweeper that keeps the basic sweep syntax; hydra-core is pinned <1.4.
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from omegaconf import OmegaConf

NAME = "mlexp"


@dataclass
class SeedSweeperConf:
    _target_: str = "hydra_plugins.mlexp_sweeper.seeds.SeedSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None


# Also under Hydra's default name, `basic`: every multirun gets sweep.seeds (with sweep.seeds=1 it is
# Hydra's basic sweeper exactly), and configs that choose another sweeper (hparams_search=optuna) still
# override the default as before. Hydra imports plugins after its own core plugins: this entry wins.
for name in (NAME, "basic"):
    ConfigStore.instance().store(group="hydra/sweeper", name=name, node=SeedSweeperConf, provider="mlexp")


def checked(config, section: str) -> dict:
    """A sweep settings section (sweep, race, compare) as composed, checked by validation's own rules
    before any job runs; mlexp's defaults where the config has none."""
    from mlexp.config import catalog
    from mlexp.config.validate import check_section

    node = OmegaConf.select(config, section, default=None)  # absent in mlexp tune's config
    values = OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else {}
    check_section(section, values, catalog.SWEEP_SETTINGS[section], section)
    return {**catalog.SWEEP_DEFAULTS[section], **values}


class SeedSweeper(BasicSweeper):
    def sweep(self, arguments: list[str]) -> Any:
        seeds = checked(self.config, "sweep")["seeds"]
        if seeds > 1:
            swept = [a.split("=", 1)[0].lstrip("+~") for a in arguments] + list(self.params)
            if "seed" in swept:
                from mlexp.errors import ConfigError

                expected = f"no seed= beside it (sweep.seeds={seeds} runs seeds 0..{seeds - 1})"
                raise ConfigError("sweep.seeds", seeds, expected)
            self.params = {"seed": f"range(0,{seeds})", **self.params}  # first: the seed varies slowest
        return super().sweep(arguments)
