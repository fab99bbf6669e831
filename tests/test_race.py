"""hydra/sweeper=race: seeds round by round, worse configs leave, the race in the report, resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import read_metrics

from mlexp.race import Race, RaceSettings

# A clear loser: 1e-5 barely moves in one epoch, 1e-2 reaches ~0.85 on digits.
LR_RACE = ["hydra/sweeper=race", "trainer.epochs=1", "model.hidden_units=[16]", "trainer.verbose=0",
           "optimizer.learning_rate=1e-5,1e-2", "race.min_seeds=2", "race.max_seeds=3"]  # fmt: skip


def finished(folder: Path, metrics: dict) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def test_a_race_drops_the_worse_config_and_stops(tmp_path):
    race = Race.of([["lr=1e-5"], ["lr=1e-2"]], RaceSettings(min_seeds=2, max_seeds=3))
    job = 0
    for seed, scores in enumerate(((0.10, 0.85), (0.11, 0.86))):
        for entrant, score in zip(race.live, scores, strict=True):
            run = finished(
                tmp_path / str(job), {"status": "completed", "best_val_accuracy": score, "task": "multiclass"}
            )
            race.record(entrant, seed, run, tmp_path)
            job += 1
        race.judge(seed)
    slow, fast = race.entrants
    assert slow.left["after_seed"] == 1 and "worse than the best" in slow.left["reason"]
    assert fast.left is None and race.stopped == "after seed 1: one config left"
    saved = race.as_dict()
    assert (saved["jobs"], saved["full_grid_jobs"]) == (4, 6)
    assert "Bonferroni over the 2 rounds that may drop a config (each tested at 0.025)" in saved["method"]
    assert [r["seed"] for r in saved["rounds"]] == [0, 1]


def test_a_failed_job_is_a_loss_with_its_reason(tmp_path):
    race = Race.of([["a=1"], ["a=2"]], RaceSettings())
    race.record(
        race.entrants[0], 0, finished(tmp_path / "0", {"status": "failed", "error": "ConfigError: bad"}), tmp_path
    )
    race.record(
        race.entrants[1], 0, finished(tmp_path / "1", {"status": "completed", "best_val_accuracy": 0.5}), tmp_path
    )
    race.judge(0)
    assert race.entrants[0].left == {"after_seed": 0, "reason": "job 0 failed: ConfigError: bad"}
    assert race.stopped == "after seed 0: one config left"


def test_aa_races_drop_a_config_falsely_at_most_at_the_nominal_rate(tmp_path):
    """Simulated A/A races (3 identical configs, paired seed noise): any false drop in at most ~5%."""
    rng, trials, drops = np.random.default_rng(11), 400, 0
    for _ in range(trials):
        race = Race.of([["c=1"], ["c=2"], ["c=3"]], RaceSettings(min_seeds=3, max_seeds=10))
        race.objective = "best_val_accuracy"
        for seed in range(10):
            shared = rng.normal(0, 0.01)
            for entrant in race.live:
                entrant.scores[seed] = 0.9 + shared + rng.normal(0, 0.01)
            race.judge(seed)
            if race.stopped:
                break
        drops += any(e.left for e in race.entrants)
    assert drops / trials <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / trials)


def test_a_tiny_race_end_to_end(mlexp, tmp_path):
    result = mlexp("train", "-m", *LR_RACE, "hydra.sweep.dir=race")
    assert result.code == 0, result.err
    sweep = tmp_path / "race"
    race = json.loads((sweep / "race.json").read_text())
    assert race["stopped"] == "after seed 1: one config left" and (race["jobs"], race["full_grid_jobs"]) == (4, 6)
    assert sorted(p.name for p in sweep.iterdir() if p.name.isdigit()) == ["0", "1", "2", "3"]
    assert [read_metrics(sweep / str(i))["status"] for i in range(4)] == ["completed"] * 4
    slow = race["configs"][0]
    assert slow["name"] == "optimizer.learning_rate=1e-05" and slow["left"]["after_seed"] == 1
    report = (sweep / "comparison.md").read_text()
    assert "## The race" in report and "4 of the full grid's 6 jobs ran, 4 epochs (67% of its 6 epochs)" in report
    assert "| optimizer.learning_rate=1e-05 | 2 | 1 | difference " in report
    assert (sweep / "plots/race.png").read_bytes()[:4] == b"\x89PNG" and "![race](plots/race.png)" in report
    assert "<h2>The race</h2>" in (sweep / "report.html").read_text()
    verdicts = json.loads((sweep / "verdict.json").read_text())
    assert [c["verdict"] for c in verdicts["configs"]] == ["best", "worse"]


def test_a_budget_race_trains_short_first_and_the_survivor_on_from_its_runs(mlexp, tmp_path):
    budget = [a for a in LR_RACE if a != "trainer.epochs=1"]
    result = mlexp("train", "-m", *budget, "race.epochs=[1,3]", "hydra.sweep.dir=race")
    assert result.code == 0, result.err
    sweep = tmp_path / "race"
    race = json.loads((sweep / "race.json").read_text())
    # stage 1: 2 configs x 2 seeds at 1 epoch; the better half (one config) goes on from its two runs to 3 epochs
    assert race["jobs"] == 6 and race["stages"][0]["epochs"] == 1
    slow, fast = race["configs"]
    assert slow["left"]["after_epochs"] == 1 and "successive halving" in slow["left"]["reason"]
    assert fast["left"] is None and race["stopped"] == "after seed 1: one config left"
    assert (race["epochs_trained"], race["full_grid_epochs"]) == (4 * 1 + 2 * 2, 2 * 3 * 3)
    for job in ("4", "5"):  # the survivor's final jobs went on from its stage-1 runs
        config = (sweep / job / "resolved_config.yaml").read_text()
        assert "epochs: 3" in config and f"continue_from: {sweep.resolve()}/" in config
        history = (sweep / job / "history.csv").read_text().splitlines()
        assert len(history) == 1 + 3  # its three epochs: one inherited, two trained here
    report = (sweep / "comparison.md").read_text()
    assert "6 of the full grid's 6 jobs ran, 8 epochs (44% of its 18 epochs)" in report
    assert "| optimizer.learning_rate=1e-05 | 2 | 1 epochs | after 1 epochs: mean" in report


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["race.epochs=[3,2]"], "Config error at race.epochs: got [3, 2]; expected increasing epoch counts, e.g. "
                                "[2, 6, 20].\n"),
        (["race.epochs=[1,2]", "trainer.epochs=1,2"], "Config error at trainer.epochs: got 'swept'; expected no "
                                                     "trainer.epochs= with race.epochs (the stages set it).\n"),
        (["race.min_seeds=4"], "Config error at race.min_seeds: got 4; expected at most race.max_seeds (3).\n"),
        (["sweep.seeds=2"], "Config error at sweep.seeds: got 2; expected 1 with hydra/sweeper=race (the race adds "
                            "seeds itself, up to race.max_seeds).\n"),
        (["race.max_seeds=1"], "Config error at race.max_seeds: got 1; expected an integer in [2, 1000].\n"),
    ],
)  # fmt: skip
def test_bad_race_settings_are_named_before_any_job(mlexp, tmp_path, extra, message):
    result = mlexp("train", "-m", *LR_RACE, *extra, "hydra.sweep.dir=race")
    assert (result.code, result.err) == (2, f"mlexp train: {message}")
    assert not list((tmp_path / "race").glob("*/metrics.json"))


def terminate_once_after(done: Path, monkeypatch) -> None:
    """SIGTERM this process at the end of an epoch, once, as soon as the job folder `done` has finished."""
    import os
    import signal

    import keras

    from mlexp import callbacks

    marker = done.parent.parent / "killed"

    class Terminate(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if not marker.exists() and (done / "metrics.json").exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGTERM)

    original = callbacks.from_config
    monkeypatch.setattr(callbacks, "from_config", lambda *a: [*original(*a), Terminate()])


BUDGET = [a for a in LR_RACE if a != "trainer.epochs=1"] + ["race.epochs=[1,3]"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sweep", "after", "jobs"),
    [
        # a seed race stopped in the first job of the second round (2 epochs: a stop before the last epoch)
        ([w.replace("trainer.epochs=1", "trainer.epochs=2") for w in LR_RACE], 1, 4),
        # a budget race stopped in job 4, the survivor's first run at 3 epochs, going on from job 0
        (BUDGET, 3, 6),
    ],
    ids=["seeds", "budget"],
)
def test_sigterm_during_a_race_then_resume_finishes_it_with_the_same_decisions(
    sweep, after, jobs, mlexp, tmp_path, monkeypatch
):
    terminate_once_after(tmp_path / f"race/{after}", monkeypatch)
    assert mlexp("train", "-m", *sweep, "hydra.sweep.dir=race").code == 130
    assert read_metrics(tmp_path / f"race/{after + 1}")["status"] == "interrupted"
    monkeypatch.undo()
    assert mlexp("resume", str(tmp_path / "race")).code == 0
    race = json.loads((tmp_path / "race/race.json").read_text())
    assert race["stopped"] == "after seed 1: one config left" and race["jobs"] == jobs
    assert [read_metrics(tmp_path / f"race/{i}")["status"] for i in range(jobs)] == ["completed"] * jobs
    if sweep is BUDGET:
        assert race["epochs_trained"] == 4 * 1 + 2 * 2
        assert len((tmp_path / "race/4/history.csv").read_text().splitlines()) == 1 + 3


@pytest.mark.slow
def test_a_race_through_the_joblib_launcher(mlexp, tmp_path):
    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    result = mlexp("train", "-m", *LR_RACE, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hydra.sweep.dir=r")
    assert result.code == 0, result.err
    race = json.loads((tmp_path / "r/race.json").read_text())
    assert race["stopped"] == "after seed 1: one config left" and race["jobs"] == 4


@pytest.mark.slow
def test_an_aa_race_of_identical_configs_ends_tied(mlexp, tmp_path):
    """A named variant that changes nothing against `none`: seed by seed the runs are identical, so nothing
    may leave and the two come out tied."""
    from conftest import TINY

    (tmp_path / "conf/variant").mkdir(parents=True)  # the project's own configs (./conf beside mlexp's)
    (tmp_path / "conf/variant/same.yaml").write_text("# @package _global_\n# changes nothing, like none\n")
    result = mlexp("train", "-m", "hydra/sweeper=race", *TINY, "variant=none,same", "race.min_seeds=2",
                   "race.max_seeds=3", "hydra.sweep.dir=aa")  # fmt: skip
    assert result.code == 0, result.err
    race = json.loads((tmp_path / "aa/race.json").read_text())
    assert [c["left"] for c in race["configs"]] == [None, None]
    assert race["stopped"] == "after seed 2: race.max_seeds=3 reached" and race["jobs"] == 6
    verdicts = json.loads((tmp_path / "aa/verdict.json").read_text())
    assert [c["verdict"] for c in verdicts["configs"]] == ["tied", "tied"]
