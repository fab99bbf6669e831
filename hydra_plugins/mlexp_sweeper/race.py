"""hydra/sweeper=race: the sweep's configs race seed by seed; a config leaves once a paired test says it
is worse than the best, so compute goes where the answer is still open (mlexp.race holds the rules).

    mlexp train -m hydra/sweeper=race model.activation=relu,tanh,sigmoid model.kernel_initializer=zeros,he_normal

Each round is one batch for the configured launcher (basic, joblib, Ray, SLURM); every job is an ordinary
run folder, numbered in the order it was launched, so `mlexp resume SWEEP` replays the same decisions
from the finished jobs and goes on where the race stopped.
"""

# No `from __future__ import annotations`: see seeds.py.
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from .seeds import SeedSweeper, checked

log = logging.getLogger("mlexp")


@dataclass
class RaceSweeperConf:
    _target_: str = "hydra_plugins.mlexp_sweeper.race.RaceSweeper"
    max_batch_size: int | None = None
    params: dict[str, str] | None = None


ConfigStore.instance().store(group="hydra/sweeper", name="race", node=RaceSweeperConf, provider="mlexp")


def settings_of(config):
    """race.min_seeds/max_seeds and compare.confidence/min_difference as composed, checked before any job."""
    from mlexp.errors import ConfigError
    from mlexp.race import RaceSettings

    if checked(config, "sweep")["seeds"] != 1:
        expected = "1 with hydra/sweeper=race (the race adds seeds itself, up to race.max_seeds)"
        raise ConfigError("sweep.seeds", config.sweep.seeds, expected)
    race, compare = checked(config, "race"), checked(config, "compare")
    if race["min_seeds"] > race["max_seeds"]:
        raise ConfigError("race.min_seeds", race["min_seeds"], f"at most race.max_seeds ({race['max_seeds']})")
    epochs = tuple(race["epochs"] or ())
    if any(a >= b for a, b in zip(epochs, epochs[1:], strict=False)):
        raise ConfigError("race.epochs", list(epochs), "increasing epoch counts, e.g. [2, 6, 20]")
    return RaceSettings(race["min_seeds"], race["max_seeds"], compare["confidence"], compare["min_difference"],
                        epochs, race["keep"])  # fmt: skip


class RaceSweeper(SeedSweeper):  # its config loader and batch validation: a config composes once per race
    def sweep(self, arguments: list[str]) -> Any:
        from mlexp.errors import ConfigError
        from mlexp.race import Race

        settings = settings_of(self.config)
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([*self._parse_config(), *arguments])
        if any(o.get_key_element().lstrip("+~") == "seed" for o in overrides):
            raise ConfigError("seed", "swept", "no seed= with hydra/sweeper=race (the race runs seeds 0, 1, ...)")
        if settings.epochs and any(o.get_key_element().lstrip("+~") == "trainer.epochs" for o in overrides):
            raise ConfigError("trainer.epochs", "swept", "no trainer.epochs= with race.epochs (the stages set it)")
        [grid] = self.split_arguments(overrides, None)
        race = Race.of(grid, settings)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        log.info(
            "Race of %d configs: up to %d seeds each; from seed %d on, a config that is worse leaves",
            len(race.entrants), settings.max_seeds, settings.min_seeds - 1,
        )  # fmt: skip
        returns, job = [], 0
        for epochs in settings.epochs[:-1]:  # budget stages: min_seeds seeds of every config, then the cut
            pairs = [(entrant, seed) for entrant in race.live for seed in range(settings.min_seeds)]
            job = self._round(race, pairs, [f"trainer.epochs={epochs}"], job, sweep_dir, returns)
            race.judge_stage(epochs)
            race.save(sweep_dir)
            log.info("Race, %d epochs: %d config(s) go on", epochs, len(race.live))
            if race.stopped:
                break
        final = [f"trainer.epochs={settings.epochs[-1]}"] if settings.epochs else []
        for seed in range(settings.max_seeds):
            if race.stopped:
                break
            live = race.live
            job = self._round(race, [(entrant, seed) for entrant in live], final, job, sweep_dir, returns)
            race.judge(seed)
            race.save(sweep_dir)
            gone = [e.name for e in live if e.left is not None]
            gone = "; left: " + "; ".join(gone) if gone else ""
            log.info("Race, seed %d: %d config(s) on%s", seed, len(race.live), gone)
            if race.stopped:
                break
        log.info("Race stopped %s: %d of the full grid's %d jobs", race.stopped, job, len(grid) * settings.max_seeds)
        return returns

    def _round(self, race, pairs: list, extra: list[str], job: int, sweep_dir: Path, returns: list) -> int:
        """One batch for the launcher: each (config, seed) pair's job, going on from its earlier stage's run."""
        batch = [
            [*entrant.overrides, f"seed={seed}", *extra, *race.continuing(entrant, seed)] for entrant, seed in pairs
        ]
        self.validate_batch_is_legal(batch)
        results = self.launcher.launch(batch, initial_job_idx=job)
        for i, ((entrant, seed), result) in enumerate(zip(pairs, results, strict=True)):
            race.record(entrant, seed, _run_dir(result, sweep_dir / str(job + i)), sweep_dir)
        returns.append(results)
        return job + len(batch)


def _run_dir(result, fallback: Path) -> Path:
    """The job's run folder, as Hydra resolved it (any hydra.sweep.subdir)."""
    try:
        return Path(str(result.hydra_cfg.hydra.runtime.output_dir))
    except Exception:  # noqa: BLE001 - a launcher that returns no Hydra config: the default subdir
        return fallback
