"""Hydra's basic sweeper plus `sweep.seeds=N`: every config of the sweep repeated with seeds 0..N-1.

Seed i of config A and seed i of config B share their split, data order and initial weights, so their
scores can be compared seed by seed (a paired design). The seed varies slowest: the first round of jobs
is every config at seed 0, so an interrupted sweep still holds a complete comparison.
"""

# No `from __future__ import annotations`: Hydra's plugin scan imports this module outside sys.modules,
# where dataclasses cannot resolve string annotations.
import copy
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


class SeedLoader:
    """Hydra's config loader, composing once per set of overrides besides `seed=`: the jobs that differ only
    in their seed get a copy with their seed, overrides and override_dirname set as Hydra sets them.
    (The launcher composes every job anew: 0.15 s a job, a tenth of a 2-epoch MLP job.)"""

    def __init__(self, loader):
        self._loader, self._composed = loader, {}

    def __getattr__(self, name: str):
        if name in ("_loader", "_composed"):  # not set yet: while unpickling (joblib sends the loader to workers)
            raise AttributeError(name)
        return getattr(self._loader, name)

    def load_sweep_config(self, master_config, sweep_overrides: list[str]):
        from hydra.core.override_parser.overrides_parser import OverridesParser

        rest = tuple(o for o in sweep_overrides if not _is_seed(o))
        seeds = [o for o in sweep_overrides if _is_seed(o)]
        if len(seeds) != 1 or rest not in self._composed:
            config = self._loader.load_sweep_config(master_config, sweep_overrides)
            if len(seeds) == 1:
                self._composed[rest] = copy.deepcopy(config)  # as composed: the launcher marks its job's read-only
            return config
        config = copy.deepcopy(self._composed[rest])
        [seed] = OverridesParser.create().parse_overrides(seeds)
        config.seed = seed.value()
        task = [seeds[0] if _is_seed(o) else o for o in config.hydra.overrides.task]
        config.hydra.overrides.task = task
        config.hydra.job.override_dirname = _override_dirname(config, task)
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config


def _is_seed(override: str) -> bool:
    """A plain `seed=VALUE` (an added or deleted seed, `+seed=` or `~seed`, is composed as Hydra does)."""
    return override.startswith("seed=")


def _override_dirname(config, task: list[str]) -> str:
    """hydra.job.override_dirname, as Hydra's config loader writes it."""
    from hydra._internal.config_loader_impl import get_overrides_dirname
    from hydra.core.override_parser.overrides_parser import OverridesParser

    settings = config.hydra.job.config.override_dirname
    overrides = OverridesParser.create().parse_overrides(task)
    return get_overrides_dirname(overrides, settings.exclude_keys, settings.item_sep, settings.kv_sep)


class SeedSweeper(BasicSweeper):
    def setup(self, *, hydra_context, task_function, config) -> None:
        from dataclasses import replace

        hydra_context = replace(hydra_context, config_loader=SeedLoader(hydra_context.config_loader))
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)

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

    def validate_batch_is_legal(self, batch) -> None:
        """Hydra composes every job of a batch here, before launching it, and again to launch it: compose
        one job per distinct set of overrides besides `seed=` (a seed never decides whether a config
        composes; mlexp checks its value in each job). A 20-seed sweep composes once here, not 20 times."""
        distinct = {tuple(o for o in overrides if not _is_seed(o)) for overrides in batch}
        super().validate_batch_is_legal([list(overrides) for overrides in sorted(distinct)])
