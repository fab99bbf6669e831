"""Racing: every config of a sweep gets its next seed, round by round; from race.min_seeds on, a config
leaves once the paired test says it is worse than the current best. No TensorFlow, no Hydra.

The race's record is `race.json` in the sweep folder; `mlexp compare` draws it (reporting/race_report).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mlexp import runs
from mlexp.reporting import stats
from mlexp.reporting.race_report import RACE_LOG
from mlexp.tasks import lower_is_better, score

SCORED = ("completed",)


@dataclass(frozen=True)
class RaceSettings:
    min_seeds: int = 3
    max_seeds: int = 10
    confidence: float = stats.CONFIDENCE
    min_difference: float = 0.0

    @property
    def looks(self) -> int:
        """The rounds after which a config may leave: each is a look at the data, so each gets its share."""
        return self.max_seeds - self.min_seeds + 1

    @property
    def round_confidence(self) -> float:
        """Bonferroni over the looks: the chance of ever dropping a config falsely stays at 1 - confidence."""
        return 1 - (1 - self.confidence) / self.looks


@dataclass
class Entrant:
    name: str  # its overrides, as the report names a config: "model.activation=relu, optimizer=sgd"
    overrides: list[str]
    scores: dict[int, float] = field(default_factory=dict)  # seed -> objective
    jobs: list[str] = field(default_factory=list)  # run folders, relative to the sweep folder
    left: dict | None = None  # {"after_seed": s, "reason": why}


@dataclass
class Race:
    entrants: list[Entrant]
    settings: RaceSettings
    objective: str = ""  # best_val_accuracy, or best_val_mae: known from the first finished run
    rounds: list[dict] = field(default_factory=list)  # per seed: each live config's mean and interval
    stopped: str = ""

    @classmethod
    def of(cls, grid: list[list[str]], settings: RaceSettings) -> Race:
        """One entrant per config of the grid, named by the overrides that differ between them."""
        values = [dict(o.split("=", 1) for o in overrides) for overrides in grid]
        differing = {k for k in (values[0] if values else {}) if len({v.get(k) for v in values}) > 1}
        names = [", ".join(o for o in g if o.split("=", 1)[0] in differing) or "the config" for g in grid]
        return cls([Entrant(name, list(g)) for name, g in zip(names, grid, strict=True)], settings)

    @property
    def live(self) -> list[Entrant]:
        return [e for e in self.entrants if e.left is None]

    def record(self, entrant: Entrant, seed: int, run_dir: Path, sweep_dir: Path) -> None:
        """A finished job: its score joins the entrant's; a failed or diverged job puts the entrant out."""
        entrant.jobs.append(str(_relative(run_dir, sweep_dir)))
        try:
            metrics = runs.read_json(run_dir / runs.METRICS)
        except Exception as exc:  # noqa: BLE001 - a job killed before it wrote metrics.json: a loss
            metrics = {"status": "failed", "error": f"no {runs.METRICS} ({exc})"}
        status = metrics.get("status", "failed")
        if status not in SCORED:
            reason = " ".join(str(metrics.get("error") or status).split())[:300]
            entrant.left = {"after_seed": seed, "reason": f"job {run_dir.name} {status}: {reason}"}
            return
        self.objective = self.objective or f"best_val_{score(metrics)}"
        value = metrics.get(self.objective)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            entrant.left = {"after_seed": seed, "reason": f"job {run_dir.name} has no {self.objective}"}
            return
        entrant.scores[seed] = float(value)

    def judge(self, seed: int) -> None:
        """After the round of `seed`: note every live config's interval; from min_seeds on, drop the worse."""
        live = self.live
        self.rounds.append({"seed": seed, "configs": {e.name: _interval(e) for e in live}})
        if len(live) > 1 and seed + 1 >= self.settings.min_seeds:
            verdicts = stats.decide(
                [stats.Config(e.name, dict(e.scores)) for e in live],
                not lower_is_better(self.objective or "best_val_accuracy"),
                self.settings.round_confidence,
                self.settings.min_difference,
            )
            for verdict in verdicts:
                if verdict.verdict == "worse":
                    entrant = next(e for e in live if e.name == verdict.name)
                    entrant.left = {"after_seed": seed, "reason": verdict.why}
            rest = [v for v in verdicts if v.verdict != "worse" and v.difference is not None]
            if self.settings.min_difference > 0 and rest and all(v.verdict == "tied" for v in rest):
                self.stopped = f"after seed {seed}: every config left is tied within ±{self.settings.min_difference:g}"
        if not self.stopped and len(self.live) <= 1:
            self.stopped = f"after seed {seed}: one config left" if self.live else f"after seed {seed}: none left"
        if not self.stopped and seed + 1 >= self.settings.max_seeds:
            self.stopped = f"after seed {seed}: race.max_seeds={self.settings.max_seeds} reached"

    def as_dict(self) -> dict:
        jobs = sum(len(e.jobs) for e in self.entrants)
        return {
            "settings": asdict(self.settings),
            "method": (
                f"each round, every config against the leader by the paired t-test over seeds; Holm within the "
                f"round, Bonferroni over the {self.settings.looks} rounds that may drop a config (each tested "
                f"at {1 - self.settings.round_confidence:.3g})"
            ),
            "objective": self.objective,
            "stopped": self.stopped,
            "jobs": jobs,
            "full_grid_jobs": len(self.entrants) * self.settings.max_seeds,
            "configs": [asdict(e) for e in self.entrants],
            "rounds": self.rounds,
        }

    def save(self, sweep_dir: Path) -> Path:
        path = Path(sweep_dir) / RACE_LOG
        runs.write_json(path, self.as_dict())
        return path


def _interval(entrant: Entrant) -> list[float] | None:
    values = list(entrant.scores.values())
    if not values:
        return None
    if len(values) == 1:
        return [values[0], values[0], values[0]]
    e = stats.over_seeds(values)
    return [e.mean, e.low, e.high]


def _relative(path: Path, root: Path) -> Path:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return Path(path)
