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
    epochs: tuple[int, ...] = ()  # budget stages (race.epochs): the last is the seed race's
    keep: float = 0.5  # successive halving: the share of configs that goes on after a stage

    @property
    def looks(self) -> int:
        """The rounds and stages after which a config may leave: each is a look at the data, so each gets its
        share."""
        return self.max_seeds - self.min_seeds + 1 + max(len(self.epochs) - 1, 0)

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
    left: dict | None = None  # {"after_seed": s, "reason": why} or {"after_epochs": e, "reason": why}
    latest: dict[int, str] = field(default_factory=dict)  # seed -> its latest run folder (absolute): continued
    epochs_trained: int = 0  # every job's own epochs (a continued job: those after the run it went on from)


@dataclass
class Race:
    entrants: list[Entrant]
    settings: RaceSettings
    objective: str = ""  # best_val_accuracy, or best_val_mae: known from the first finished run
    rounds: list[dict] = field(default_factory=list)  # per seed: each live config's mean and interval
    stages: list[dict] = field(default_factory=list)  # per budget stage before the last: the same, at its epochs
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

    def continuing(self, entrant: Entrant, seed: int) -> list[str]:
        """The override that makes a job go on from the entrant's run of `seed` at the stage before."""
        earlier = entrant.latest.get(seed)
        return [f"trainer.continue_from='{earlier}'"] if earlier else []

    def record(self, entrant: Entrant, seed: int, run_dir: Path, sweep_dir: Path) -> None:
        """A finished job: its score joins the entrant's; a failed or diverged job puts the entrant out."""
        entrant.jobs.append(str(_relative(run_dir, sweep_dir)))
        try:
            metrics = runs.read_json(run_dir / runs.METRICS)
        except Exception as exc:  # noqa: BLE001 - a job killed before it wrote metrics.json: a loss
            metrics = {"status": "failed", "error": f"no {runs.METRICS} ({exc})"}
        before = entrant.latest.get(seed)
        earlier = runs.read_json(Path(before) / runs.METRICS).get("epochs_run", 0) if before else 0
        entrant.epochs_trained += max(int(metrics.get("epochs_run") or 0) - int(earlier or 0), 0)
        entrant.latest[seed] = str(Path(run_dir).resolve())
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

    def judge_stage(self, epochs: int) -> None:
        """After a budget stage: the configs the paired test finds worse leave, then successive halving keeps
        the best race.keep of them by mean (a rank, not a test: the report says which left how)."""
        live = self.live
        self.stages.append({"epochs": epochs, "configs": {e.name: _interval(e) for e in live}})
        higher = not lower_is_better(self.objective or "best_val_accuracy")
        if len(live) > 1:
            verdicts = stats.decide([stats.Config(e.name, dict(e.scores)) for e in live], higher,
                                    self.settings.round_confidence, self.settings.min_difference)  # fmt: skip
            for verdict in verdicts:
                if verdict.verdict == "worse":
                    entrant = next(e for e in live if e.name == verdict.name)
                    entrant.left = {"after_epochs": epochs, "reason": f"after {epochs} epochs: {verdict.why}"}
        kept = max(1, math.ceil(self.settings.keep * len(live)))
        ranked = sorted(self.live, key=lambda e: _mean(e), reverse=higher)
        for entrant in ranked[kept:]:
            why = f"mean {_mean(entrant):.4f}, not among the best {kept} of {len(live)} (successive halving: ranked)"
            entrant.left = {"after_epochs": epochs, "reason": f"after {epochs} epochs: {why}"}
        for entrant in live:
            entrant.scores = {}  # the next stage's longer runs are scored afresh
        if not self.live:
            self.stopped = f"after {epochs} epochs: none left"

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
        trained_through = not self.settings.epochs or seed + 1 >= self.settings.min_seeds  # a winner's full runs
        if not self.stopped and len(self.live) <= 1 and trained_through:
            self.stopped = f"after seed {seed}: one config left" if self.live else f"after seed {seed}: none left"
        if not self.stopped and seed + 1 >= self.settings.max_seeds:
            self.stopped = f"after seed {seed}: race.max_seeds={self.settings.max_seeds} reached"

    @property
    def full_grid_epochs(self) -> int | None:
        """Every config, race.max_seeds seeds, the last stage's epochs (unknown here without stages)."""
        epochs = self.settings.epochs
        return len(self.entrants) * self.settings.max_seeds * epochs[-1] if epochs else None

    def as_dict(self) -> dict:
        jobs = sum(len(e.jobs) for e in self.entrants)
        return {
            "settings": asdict(self.settings),
            "method": (
                f"each round, every config against the leader by the paired t-test over seeds; Holm within the "
                f"round, Bonferroni over the {self.settings.looks} rounds that may drop a config (each tested "
                f"at {1 - self.settings.round_confidence:.3g})"
                + (
                    f"; budget stages of {list(self.settings.epochs)} epochs, each stage's survivors going on from "
                    f"its runs, after the same test at most {self.settings.keep:g} of the configs kept by mean "
                    "(successive halving)"
                    if self.settings.epochs
                    else ""
                )  # fmt: skip
            ),
            "objective": self.objective,
            "stopped": self.stopped,
            "jobs": jobs,
            "full_grid_jobs": len(self.entrants) * self.settings.max_seeds,
            "epochs_trained": sum(e.epochs_trained for e in self.entrants),
            "full_grid_epochs": (
                len(self.entrants) * self.settings.max_seeds * self.settings.epochs[-1]
                if self.settings.epochs
                else None
            ),
            "stages": self.stages,
            "configs": [asdict(e) for e in self.entrants],
            "rounds": self.rounds,
        }

    def save(self, sweep_dir: Path) -> Path:
        path = Path(sweep_dir) / RACE_LOG
        runs.write_json(path, self.as_dict())
        return path


def _mean(entrant: Entrant) -> float:
    values = list(entrant.scores.values())
    return sum(values) / len(values) if values else float("nan")


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
