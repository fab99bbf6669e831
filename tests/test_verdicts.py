"""How sure is a comparison: intervals, paired tests, Holm, verdicts, verdict.json and sweep.seeds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, read_metrics

from mlexp.reporting import stats
from mlexp.reporting.collect import RunRecord
from mlexp.reporting.compare import build
from mlexp.reporting.verdicts import run_interval


def test_wilson_interval_matches_the_textbook_value():
    # 90 of 100: Wilson's 95% interval is [0.8256, 0.9448] (Newcombe 1998, table I style computation).
    e = stats.wilson(0.9, 100)
    assert (round(e.low, 4), round(e.high, 4)) == (0.8256, 0.9448)
    assert e.method == "Wilson interval, n=100"


def test_t_interval_over_seeds_and_holm():
    e = stats.over_seeds([0.90, 0.92, 0.94])
    half = 4.302653 * 0.02 / math.sqrt(3)  # t(0.975, 2 df) x s / sqrt(n)
    assert (e.mean, e.low, e.high) == pytest.approx((0.92, 0.92 - half, 0.92 + half))
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])


def test_paired_test_uses_the_seed_to_seed_differences():
    # Seed effects shared by both configs cancel: a constant lead of 0.01 is certain, unpaired it would not be.
    base = np.array([0.80, 0.90, 0.85, 0.95])
    d = stats.paired(base + 0.01, base + np.array([0.0, 0.001, -0.001, 0.0]))
    assert d.mean == pytest.approx(0.01) and d.p < 0.001 and d.low > 0
    assert stats.welch(base + 0.01, base).p > 0.5


def configs_from(table: dict[str, list[float]]) -> list[stats.Config]:
    return [stats.Config(name, dict(enumerate(scores))) for name, scores in table.items()]


def test_verdicts_on_known_numbers():
    found = stats.decide(configs_from({"relu": [0.90, 0.92, 0.94], "sigmoid": [0.80, 0.83, 0.83]}), True)
    assert [(v.name, v.verdict) for v in found] == [("relu", "best"), ("sigmoid", "worse")]
    assert found[1].difference["mean"] == pytest.approx(0.10) and found[1].test == stats.PAIRED
    noise = stats.decide(configs_from({"relu": [0.90, 0.96], "tanh": [0.91, 0.93]}), True)
    assert [v.verdict for v in noise] == ["tied", "tied"]
    assert noise[1].why.startswith("difference 0.01, 95% interval [")
    assert "within noise (Holm-adjusted p = 0.705)" in noise[1].why and "seeds would likely settle it" in noise[1].why
    # Errors go down: the lower MAE leads.
    mae = stats.decide(configs_from({"a": [0.30, 0.31, 0.29], "b": [0.20, 0.22, 0.21]}), False)
    assert [(v.name, v.verdict) for v in mae] == [("b", "best"), ("a", "worse")]


def test_min_difference_turns_irrelevant_differences_into_ties_and_wide_ones_undecided():
    close = {"a": [0.900, 0.910, 0.920, 0.905, 0.915], "b": [0.899, 0.908, 0.921, 0.903, 0.913]}
    found = stats.decide(configs_from(close), True, min_difference=0.01)
    assert found[1].verdict == "tied" and "inside ±0.01, too small to matter" in found[1].why
    wide = {"a": [0.90, 0.95, 0.85], "b": [0.88, 0.90, 0.86]}
    found = stats.decide(configs_from(wide), True, min_difference=0.005)
    assert found[1].verdict == "undecided" and "could be 0 or more than 0.005" in found[1].why
    assert found[0].verdict == "undecided"  # the leader is not settled either


def simulated_aa(configs: int, seeds: int, trials: int, rng) -> float:
    """The share of A/A comparisons (identical configs, real seed and evaluation noise) that name a winner."""
    wins = 0
    for _ in range(trials):
        split = rng.normal(0, 0.01, seeds)  # seed i's split and order: shared by every config (paired)
        table = {f"c{j}": list(0.9 + split + rng.normal(0, 0.01, seeds)) for j in range(configs)}
        wins += any(v.verdict == "best" for v in stats.decide(configs_from(table), True))
    return wins / trials


@pytest.mark.parametrize("configs", [2, 4])
def test_aa_simulated_false_winners_stay_at_the_nominal_rate(configs):
    trials = 2000
    rate = simulated_aa(configs, seeds=5, trials=trials, rng=np.random.default_rng(configs))
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / trials)  # nominal 5%, with the count's binomial spread


def test_aa_single_seed_runs_compared_by_their_evaluation_samples():
    rng, wins, trials = np.random.default_rng(7), 0, 2000
    for _ in range(trials):
        accuracies = rng.binomial(288, 0.9, size=2) / 288  # two runs of one model on 288 validation images
        found = [stats.Config(f"c{i}", {0: a}, stats.wilson(a, 288), 288) for i, a in enumerate(accuracies)]
        wins += any(v.verdict == "best" for v in stats.decide(found, True))
    assert wins / trials <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / trials)


def test_a_real_difference_is_found_in_simulation():
    rng = np.random.default_rng(3)
    split = rng.normal(0, 0.01, 5)
    table = {"good": list(0.92 + split + rng.normal(0, 0.005, 5)), "bad": list(0.88 + split + rng.normal(0, 0.005, 5))}
    assert [v.verdict for v in stats.decide(configs_from(table), True)] == ["best", "worse"]


def seeded(activation: str, seed: int, val: float, test: float) -> RunRecord:
    config = {"model.activation": activation, "seed": seed}
    metrics = {"status": "completed", "best_val_accuracy": val, "test_accuracy": test,
               "samples": {"val": 288, "test": 360}}  # fmt: skip
    return RunRecord(Path(f"{activation}{seed}"), config, {}, metrics)


def test_seeds_of_a_config_pool_and_compare_paired():
    records = [seeded("relu", s, v, v - 0.01) for s, v in ((0, 0.90), (1, 0.92), (2, 0.94))]
    records += [seeded("sigmoid", s, v, v - 0.01) for s, v in ((0, 0.80), (1, 0.83), (2, 0.83))]
    comparison = build(records)
    assert comparison.table["config"].tolist() == ["model.activation=relu"] * 3 + ["model.activation=sigmoid"] * 3
    relu, sigmoid = comparison.verdicts
    assert (relu.name, relu.n, relu.verdict, sigmoid.verdict) == ("model.activation=relu", 3, "best", "worse")
    assert relu.interval_method == "t interval over 3 seeds"
    assert comparison.summary == (
        "model.activation=relu is best by best_val_accuracy: every other config is worse, at the chosen confidence."
    )
    assert "paired t-test over seeds, p-values Holm-corrected over 1 comparison" in comparison.method
    assert comparison.test_estimates["model.activation=relu"].mean == pytest.approx(0.91)
    # Each run keeps its own Wilson interval in the table.
    first = comparison.table.iloc[0]
    assert (first["best_val_accuracy_low"], first["best_val_accuracy_high"]) == pytest.approx(
        (stats.wilson(0.90, 288).low, stats.wilson(0.90, 288).high)
    )


def test_run_intervals_read_metrics_json():
    metrics = {"best_val_accuracy": 0.9, "test_mae": 0.5, "samples": {"val": 100, "test": 50},
               "standard_errors": {"test_mae": 0.02}, "validation_source": "split"}  # fmt: skip
    assert run_interval(metrics, "best_val_accuracy").low == pytest.approx(0.8256, abs=1e-4)
    mae = run_interval(metrics, "test_mae")
    assert (mae.low, mae.high) == pytest.approx((0.5 - 1.959964 * 0.02, 0.5 + 1.959964 * 0.02))
    assert run_interval({**metrics, "samples": {}}, "best_val_accuracy") is None  # runs from before: unknown
    assert run_interval(metrics, "fit_seconds") is None
    on_test = run_interval({**metrics, "validation_source": "test"}, "best_val_accuracy")
    assert on_test.method == "Wilson interval, n=50"  # validated on the test split: its samples


def test_old_runs_without_samples_are_undecided_not_crowned():
    old = [RunRecord(Path(n), {"optimizer.name": n}, {}, {"status": "completed", "best_val_accuracy": a})
           for n, a in (("adam", 0.90), ("sgd", 0.89))]  # fmt: skip
    comparison = build(old)
    assert [v.verdict for v in comparison.verdicts] == ["undecided", "undecided"]
    assert "the noise is unknown" in comparison.verdicts[1].why
    assert comparison.table["best_val_accuracy_low"].isna().all()


def test_sweep_seeds_repeats_every_config_and_verdict_json_agrees(mlexp, tmp_path):
    result = mlexp("train", "-m", *TINY, "sweep.seeds=2", "model.activation=relu,sigmoid", "hydra.sweep.dir=out")
    assert result.code == 0, result.err
    sweep = tmp_path / "out"
    seeds = [yaml_overrides(sweep / str(i)) for i in range(4)]
    assert seeds == [("relu", "0"), ("sigmoid", "0"), ("relu", "1"), ("sigmoid", "1")]  # seed 0 first, all configs
    assert [read_metrics(sweep / str(i))["status"] for i in range(4)] == ["completed"] * 4
    verdicts = json.loads((sweep / "verdict.json").read_text())
    assert (verdicts["confidence"], verdicts["min_difference"]) == (0.95, 0.0)
    assert [c["n"] for c in verdicts["configs"]] == [2, 2]
    assert sorted(c["name"] for c in verdicts["configs"]) == ["model.activation=relu", "model.activation=sigmoid"]
    summary = pd.read_csv(sweep / "summary.csv")
    assert sorted(summary["config"].unique()) == ["model.activation=relu", "model.activation=sigmoid"]
    report = (sweep / "comparison.md").read_text()
    assert "## How sure is this comparison?" in report and verdicts["summary"] in report
    assert verdicts["method"] in report and "t interval over seeds" in verdicts["method"]
    for config in verdicts["configs"]:
        assert f"| {config['name']} | 2 | {config['mean']:.4g} [{config['low']:.4g}, {config['high']:.4g}] |" in report


def yaml_overrides(run: Path) -> tuple[str, str]:
    import yaml

    found = dict(o.split("=", 1) for o in yaml.safe_load((run / ".hydra/overrides.yaml").read_text()))
    return found["model.activation"], found["seed"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep.seeds=3"], "Config error at sweep.seeds: got 3; expected 1 for a single run; add -m to run every "
                            "config with seeds 0..2.\n"),
        (["-m", "sweep.seeds=3", "seed=1,2"], "Config error at sweep.seeds: got 3; expected no seed= beside it "
                                              "(sweep.seeds=3 runs seeds 0..2).\n"),
        (["sweep.seeds=0"], "Config error at sweep.seeds: got 0; expected an integer in [1, 1000].\n"),
        (["-m", "sweep.seeds=2", "hparams_search=optuna", "search_space=digits_small"],
         "Config error at sweep.seeds: got 2; expected 1 with hydra/sweeper=optuna (only mlexp's sweeper adds "
         "seeds).\n"),
        (["compare.confidence=95"], "Config error at compare.confidence: got 95; expected a number in (0.5, 1).\n"),
    ],
)  # fmt: skip
def test_bad_sweep_settings_are_named(mlexp, tmp_path, argv, message):
    flags = [w for w in argv if w.startswith("-")]
    result = mlexp("train", *flags, *TINY, *(w for w in argv if w not in flags))
    assert (result.code, result.err) == (2, f"mlexp train: {message}")
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").rglob("metrics.json"))


def test_compare_flags_override_the_sweeps_settings(mlexp, tmp_path):
    from test_sweeps import write_run

    for i, (name, acc) in enumerate((("adam", 0.90), ("sgd", 0.89))):
        metrics = {"status": "completed", "best_val_accuracy": acc, "samples": {"val": 300, "test": 300}}
        write_run(tmp_path / "s" / str(i), {"optimizer": {"name": name}}, None, metrics, [f"optimizer={name}"])
    (tmp_path / "s/multirun.yaml").write_text("compare:\n  confidence: 0.9\n  min_difference: 0.0\n")
    assert mlexp("compare", str(tmp_path / "s")).code == 0
    assert json.loads((tmp_path / "s/verdict.json").read_text())["confidence"] == 0.9
    result = mlexp("compare", str(tmp_path / "s"), "--min-difference", "0.1")
    assert result.code == 0, result.err
    saved = json.loads((tmp_path / "s/verdict.json").read_text())
    assert (saved["confidence"], saved["min_difference"]) == (0.9, 0.1)
    assert [c["verdict"] for c in saved["configs"]] == ["tied", "tied"]
    assert "inside ±0.1, too small to matter" in saved["configs"][1]["why"]
    bad = mlexp("compare", str(tmp_path / "s"), "--confidence", "2")
    assert (bad.code, bad.err) == (2, "mlexp compare: Config error at --confidence: got 2.0; expected a number in "
                                      "(0.5, 1).\n")  # fmt: skip


@pytest.mark.slow
def test_aa_on_real_runs_names_a_false_winner_at_most_at_the_nominal_rate(mlexp, tmp_path):
    """30 runs of one config (seeds 0..29) split 40 times at random into two 'configs' of 3 seeds (and 40
    times into single runs): each split is an A/A comparison, whose false winners must stay near 5%."""
    result = mlexp("train", "-m", *TINY, "seed=range(0,30)", "hydra.sweep.dir=aa")
    assert result.code == 0, result.err
    records = [r for r in build_records(tmp_path / "aa") if r.status == "completed"]
    assert len(records) == 30
    scores = [r.metrics["best_val_accuracy"] for r in records]
    assert len(set(scores)) > 3  # the seeds do make noise: the test below is not trivially tied
    rng, trials = np.random.default_rng(0), 40
    limit = trials * 0.05 + 3 * math.sqrt(trials * 0.05 * 0.95)  # the count's binomial spread
    seeded_wins = single_wins = 0
    for _ in range(trials):
        picked = rng.choice(len(records), 6, replace=False)
        a = stats.Config("A", {i: scores[j] for i, j in enumerate(picked[:3])})
        b = stats.Config("B", {i: scores[j] for i, j in enumerate(picked[3:])})
        seeded_wins += any(v.verdict == "best" for v in stats.decide([a, b], True))
        one = [records[j].metrics for j in picked[:2]]
        singles = [stats.Config(n, {0: m["best_val_accuracy"]}, run_interval(m, "best_val_accuracy"),
                                m["samples"]["val"]) for n, m in zip("AB", one, strict=True)]  # fmt: skip
        single_wins += any(v.verdict == "best" for v in stats.decide(singles, True))
    assert seeded_wins <= limit and single_wins <= limit, (seeded_wins, single_wins)


def build_records(sweep: Path):
    from mlexp.reporting.collect import find_runs, load_run

    return [load_run(p) for p in find_runs([sweep])]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "winner"),
    [
        (["trainer.epochs=3", "optimizer.learning_rate=1e-4,1e-3"], "optimizer.learning_rate=0.001"),
        (["trainer.epochs=3", "model.hidden_units=[64,64,64,64]", "model.activation=sigmoid,relu"],
         "model.activation=relu"),
    ],
)  # fmt: skip
def test_a_real_difference_is_declared_on_digits(mlexp, tmp_path, overrides, winner):
    result = mlexp("train", "-m", "trainer.verbose=0", "sweep.seeds=3", *overrides, "hydra.sweep.dir=real")
    assert result.code == 0, result.err
    found = json.loads((tmp_path / "real/verdict.json").read_text())
    assert [(c["name"], c["verdict"]) for c in found["configs"]][0] == (winner, "best"), found["summary"]
    assert found["configs"][1]["verdict"] == "worse" and found["configs"][1]["p_adjusted"] < 0.05
    # One seed (the default) is enough for a difference this large: the validation samples' noise alone.
    single = compare_single_seed(tmp_path / "real")
    assert [v.verdict for v in single] == ["best", "worse"]


def compare_single_seed(sweep: Path):
    from mlexp.reporting.compare import build

    return build([r for r in build_records(sweep) if r.config.get("seed") == 0]).verdicts
