"""mlexp tune: keras-tuner over YAML search spaces; trials are run directories; resume; failures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import CONF_DIR, read_metrics
from omegaconf import OmegaConf

from mlexp.errors import ConfigError
from mlexp.tuning import space as search_space

FAST = ["trainer.epochs=2", "trainer.verbose=0"]


def test_random_search_writes_every_file_and_they_agree_then_resumes_without_redoing_trials(mlexp, tmp_path):
    result = mlexp("tune", "tuner.max_trials=3", *FAST, "hydra.run.dir=outputs/s")
    assert result.code == 0, result.err
    session = tmp_path / "outputs/s"
    for name in ("trials.csv", "best_hyperparameters.yaml", "best_config.yaml", "comparison.md", "summary.csv",
                 "tune_report.md"):  # fmt: skip
        assert (session / name).is_file(), name
    trials = pd.read_csv(session / "trials.csv", dtype={"trial": str})
    assert list(trials["status"]) == ["COMPLETED"] * 3
    assert list(trials.columns[:6]) == [
        "trial", "status", "val_accuracy", "model.hidden_units", "model.dropout", "optimizer.learning_rate",
    ]  # fmt: skip
    best_row = trials.loc[trials["val_accuracy"].idxmax()]
    best = yaml.safe_load((session / "best_hyperparameters.yaml").read_text())
    assert best["trial"] == best_row["trial"] and best["score"] == pytest.approx(best_row["val_accuracy"])
    assert best["values"]["model.dropout"] == pytest.approx(best_row["model.dropout"])
    assert best["values"]["model.hidden_units"] == yaml.safe_load(best_row["model.hidden_units"])

    best_dir = session / "trials" / f"trial_{best['trial']}"
    assert read_metrics(best_dir)["best_val_accuracy"] == pytest.approx(best["score"])
    config = yaml.safe_load((session / "best_config.yaml").read_text())
    assert config == yaml.safe_load((best_dir / "resolved_config.yaml").read_text())
    assert config["model"]["hidden_units"] == best["values"]["model.hidden_units"]
    assert config["optimizer"]["learning_rate"] == pytest.approx(best["values"]["optimizer.learning_rate"])
    summary = pd.read_csv(session / "summary.csv")
    assert len(summary) == 3 and summary["best_val_accuracy"].max() == pytest.approx(best["score"])
    assert (
        f"Best trial {best['trial']}: val_accuracy = {best['score']:.4f} (validation)."
        in (session / "tune_report.md").read_text()
    )

    # best_config.yaml is a complete config: a rerun of it reproduces the best trial
    rerun = mlexp("rerun", str(session / "best_config.yaml"))
    assert rerun.code == 0, rerun.err
    rerun_dir = next((tmp_path / "outputs/reruns").iterdir())
    assert read_metrics(rerun_dir)["best_val_accuracy"] == pytest.approx(best["score"])

    # the same command on the same folder continues: one new trial, the first three untouched
    stamps = {p: p.stat().st_mtime_ns for p in session.glob("trials/trial_*/metrics.json")}
    more = mlexp("tune", "tuner.max_trials=4", *FAST, "hydra.run.dir=outputs/s")
    assert more.code == 0, more.err
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    trials = pd.read_csv(session / "trials.csv", dtype={"trial": str})
    assert len(trials) == 4 and len(list(session.glob("trials/trial_*/metrics.json"))) == 4


def test_unknown_search_key_fails_before_any_training(mlexp, tmp_path):
    extra = _space(tmp_path, "typo", {"model.dropuot": {"choice": [0.2, 0.5]}})
    result = mlexp("tune", "-cd", str(extra), "search_space=typo", "hydra.run.dir=outputs/t")
    assert result.code == 2
    assert result.err.startswith(
        "mlexp tune: Config error at search_space.parameters: got 'model.dropuot'; expected keys of the run "
        "config (model: model.name, model.kind, model.hidden_units,"
    )
    assert result.err.rstrip().endswith("Did you mean 'model.dropout'?")
    assert not (tmp_path / "outputs/t/trials").exists()


def test_invalid_combination_is_a_failed_trial_and_the_search_goes_on(mlexp, tmp_path):
    extra = _space(tmp_path, "bad", {"model.dropout": {"choice": [0.2, 1.5]}})
    result = mlexp("tune", "-cd", str(extra), "search_space=bad", "tuner.max_trials=4", *FAST, "hydra.run.dir=s")
    assert result.code == 0, result.err
    trials = pd.read_csv(tmp_path / "s/trials.csv").set_index("model.dropout")
    assert trials.loc[1.5, "status"] == "FAILED"
    assert (
        trials.loc[1.5, "error"] == "ConfigError: Config error at model.dropout: got 1.5; expected a number in [0, 1)."
    )
    assert trials.loc[0.2, "status"] == "COMPLETED"
    failed_dir = tmp_path / "s" / trials.loc[1.5, "run_dir"]
    assert read_metrics(failed_dir)["status"] == "failed"


@pytest.mark.slow
def test_retrain_best_trains_on_train_plus_validation_and_reports_which_number_is_which(mlexp, tmp_path):
    result = mlexp(
        "tune", "tuner.max_trials=2", *FAST, "tuner.retrain_best=true", "callbacks=early_stopping", "hydra.run.dir=s"
    )
    assert result.code == 0, result.err
    session = tmp_path / "s"
    best = yaml.safe_load((session / "best_hyperparameters.yaml").read_text())
    best_metrics = read_metrics(session / "trials" / f"trial_{best['trial']}")
    retrain = read_metrics(session / "retrain")
    assert retrain["samples"]["train"] == best_metrics["samples"]["train"] + best_metrics["samples"]["val"]
    assert retrain["samples"]["val"] == 0 and "best_val_accuracy" not in retrain
    assert retrain["epochs_run"] == best_metrics["best_val_accuracy_epoch"]
    report = (session / "tune_report.md").read_text()
    assert (
        f"The best config trained again on {retrain['samples']['train']} samples (training + validation) for "
        f"{retrain['epochs_run']} epochs (the best trial's best epoch), no validation data: "
        f"test accuracy {retrain['test_accuracy']:.4f} (test split)"
    ) in report
    config = yaml.safe_load((session / "retrain/resolved_config.yaml").read_text())
    assert config["trainer"]["validation"] == "none" and config["callbacks"]["early_stopping"]["enabled"] is False


@pytest.mark.slow
def test_hyperband_gives_each_trial_its_epoch_budget(mlexp, tmp_path):
    result = mlexp("tune", "tuner=hyperband", "tuner.max_epochs=3", "trainer.verbose=0", "hydra.run.dir=s")
    assert result.code == 0, result.err
    trials = pd.read_csv(tmp_path / "s/trials.csv", dtype={"trial": str})
    assert set(trials["epochs"]) == {1, 3}
    for _, row in trials.iterrows():
        assert read_metrics(tmp_path / "s" / row["run_dir"])["epochs_run"] == row["epochs"]


def test_multirun_is_refused(mlexp):
    result = mlexp("tune", "-m", "seed=1,2")
    assert result.code == 1
    assert "mlexp tune: -m/--multirun: got a sweep; expected one search per mlexp tune" in result.err


def _space(tmp_path: Path, name: str, parameters: dict) -> Path:
    folder = tmp_path / "extra_conf" / "search_space"
    folder.mkdir(parents=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump({"name": name, "objective": "val_accuracy",
                                                         "parameters": parameters}))  # fmt: skip
    return folder.parent


# Parsing and translation: no TensorFlow, no training.

SHIPPED = sorted(p.stem for p in (CONF_DIR / "search_space").glob("*.yaml"))


@pytest.mark.parametrize(("name", "overrides"), [
    ("digits_small", []),
    ("mnist_lab", ["model=cnn_bn", "model.padding=same"]),
    ("cifar_notebook", ["experiment=cifar10_tuner"]),
])  # fmt: skip
def test_shipped_spaces_fit_their_run_configs_and_declare_to_keras_tuner(name, overrides):
    import keras_tuner as kt

    from mlexp.hydra_app import compose_validated

    space = search_space.parse(OmegaConf.load(CONF_DIR / "search_space" / f"{name}.yaml"),
                               compose_validated(overrides))  # fmt: skip
    hp = kt.HyperParameters()
    space.declare(hp)
    assert space.keys[-1] == "optimizer.learning_rate"
    assert hp.get("optimizer.learning_rate") == pytest.approx(1e-4)  # keras-tuner's default: the minimum


def test_a_list_with_a_searched_length_has_conditional_items_and_enumerates_for_optuna():
    import keras_tuner as kt

    node = OmegaConf.create({"name": "x", "objective": "val_accuracy", "parameters": {
        "model.hidden_units": {"list": {"length": {"int": {"min": 1, "max": 2}}, "item": {"choice": [8, 16]}}},
    }})  # fmt: skip
    space = search_space.parse(node)
    assert space.params[0].options() == ["[8]", "[16]", "[8,8]", "[8,16]", "[16,8]", "[16,16]"]
    hp = kt.HyperParameters()
    space.declare(hp)
    assert hp.is_active("model.hidden_units.0") and not hp.is_active("model.hidden_units.1")  # length 1 first
    values = {"model.hidden_units.length": 2, "model.hidden_units.0": 16, "model.hidden_units.1": 8}
    assert space.config_values(values) == {"model.hidden_units": [16, 8]}


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"model.dropout": {"uniform": [0, 1]}}, "Config error at search_space.parameters.model.dropout: got "
         "{'uniform': [0, 1]}; expected one of {choice: [...]}"),
        ({"model.dropout": {"float": {"min": 0.5, "max": 0.1}}}, "Config error at search_space.parameters."
         "model.dropout.float: got {'min': 0.5, 'max': 0.1}; expected float bounds with min <= max."),
        ({"optimizer.learning_rate": {"float": {"min": 0, "max": 0.1, "log": True}}}, "expected log: true with "
         "min > 0 and no step."),
        ({"model.hidden_units": {"choice": [16, 32]}}, "Config error at search_space.parameters.model.hidden_units: "
         "got {'choice': [16, 32]}; expected a list spec ({list: ...}): model.hidden_units is"),
    ],
)  # fmt: skip
def test_bad_search_space_entries_name_key_value_and_what_is_accepted(parameters, message):
    base = OmegaConf.create(yaml.safe_load(json.dumps({"model": {"dropout": 0.0, "hidden_units": [64]},
                                                       "optimizer": {"learning_rate": 0.001}})))  # fmt: skip
    node = OmegaConf.create({"name": "x", "objective": "val_accuracy", "parameters": parameters})
    with pytest.raises(ConfigError) as info:
        search_space.parse(node, base)
    assert message in str(info.value)


def test_optuna_sweeper_searches_the_same_space_and_returns_the_validation_metric(mlexp, tmp_path):
    result = mlexp(
        "train", "-m", "hparams_search=optuna", "search_space=digits_small", "hydra.sweeper.n_trials=3", *FAST,
        "hydra.sweep.dir=o",
    )  # fmt: skip
    assert result.code == 0, result.err
    sweep = tmp_path / "o"
    jobs = sorted(p for p in sweep.iterdir() if p.name.isdigit())
    assert len(jobs) == 3
    space = search_space.parse(OmegaConf.load(CONF_DIR / "search_space/digits_small.yaml"))
    lists = space.params[0].options()
    scores = {}
    for job in jobs:
        config = yaml.safe_load((job / "resolved_config.yaml").read_text())
        assert search_space._literal(config["model"]["hidden_units"]) in lists
        assert 1e-4 <= config["optimizer"]["learning_rate"] <= 1e-2
        scores[job.name] = (read_metrics(job)["best_val_accuracy"], config)
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    best_job, (best_score, best_config) = max(scores.items(), key=lambda item: item[1][0])
    assert results["best_value"] == pytest.approx(best_score)
    assert yaml.safe_load(results["best_params"]["model.hidden_units"]) == best_config["model"]["hidden_units"]
    assert results["best_params"]["optimizer.learning_rate"] == pytest.approx(best_config["optimizer"]["learning_rate"])
    assert len(pd.read_csv(sweep / "summary.csv")) == 3


def test_optuna_checks_the_space_before_any_job(mlexp, tmp_path):
    extra = _space(tmp_path, "typo", {"model.dropuot": {"choice": [0.2, 0.5]}})
    result = mlexp("train", "-m", "-cd", str(extra), "hparams_search=optuna", "search_space=typo", "hydra.sweep.dir=o")
    assert result.code == 2
    assert "mlexp train: Config error at search_space.parameters: got 'model.dropuot'" in result.err
    assert not (tmp_path / "o" / "0").exists()


def test_a_search_space_without_a_search_is_refused(mlexp):
    result = mlexp("train", "search_space=digits_small")
    assert result.code == 2
    assert result.err.strip() == (
        "mlexp train: Config error at search_space: got 'digits_small'; expected no search space for a single "
        "run: add -m hparams_search=optuna, or run mlexp tune search_space=NAME."
    )
