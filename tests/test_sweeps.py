"""Sweep reports, mlexp compare, seed groups and failure isolation."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import TINY, fresh_process, read_metrics, run_dirs

from mlexp.reporting.compare import METRIC_COLUMNS


def sweep_dir(tmp_path: Path) -> Path:
    [folder] = (tmp_path / "outputs" / "sweeps").iterdir()
    return folder


def test_multirun_writes_a_summary_with_exactly_the_varied_columns(mlexp, tmp_path):
    result = mlexp("train", "-m", *TINY, "model.activation=sigmoid,relu")
    assert result.code == 0, result.err
    folder = sweep_dir(tmp_path)
    summary = pd.read_csv(folder / "summary.csv")
    intervals = ["best_val_accuracy_low", "best_val_accuracy_high", "test_accuracy_low", "test_accuracy_high"]
    assert list(summary.columns) == [
        "name", "config", "model.activation", *METRIC_COLUMNS, *intervals, "verdict", "reason", "run"
    ]  # fmt: skip
    assert summary["model.activation"].tolist() == ["sigmoid", "relu"]
    for _, row in summary.iterrows():
        metrics = read_metrics(Path(row["run"]))
        assert row["test_accuracy"] == pytest.approx(metrics["test_accuracy"])
        assert row["best_val_loss_epoch"] == metrics["best_val_loss_epoch"]
        assert row["status"] == "completed"
        # The speed column times the epochs alone: the first job's process start-up stays out of it.
        assert 0 < metrics["fit_seconds"] < metrics["wall_seconds"]
        assert row["fit_seconds"] == pytest.approx(metrics["fit_seconds"])
        # One seed per config: Wilson's interval from the validation split's samples.
        assert row["best_val_accuracy_low"] < row["best_val_accuracy"] < row["best_val_accuracy_high"]
    report = (folder / "comparison.md").read_text()
    assert "| best_val_accuracy | test_accuracy | test_loss | epochs_run | fit_seconds | status | run |" in report
    verdicts = json.loads((folder / "verdict.json").read_text())
    leader = verdicts["configs"][0]
    best = summary.loc[summary["best_val_accuracy"].idxmax(), "model.activation"]
    assert leader["name"] == f"model.activation={best}" and leader["verdict"] in ("best", "tied")
    marker = "**best**" if leader["verdict"] == "best" else "tied"
    assert f"| {marker} | model.activation={best} | {best} | {summary['best_val_accuracy'].max():.4g} [" in report
    assert "![curves_model.activation](plots/curves_model.activation.png)" in report
    for figure in ("curves_model.activation.png", "test_accuracy.png"):
        assert (folder / "plots" / figure).read_bytes()[:4] == b"\x89PNG"


def test_failing_job_is_isolated_reported_and_makes_the_exit_code_non_zero(mlexp, tmp_path):
    result = mlexp("train", "-m", *TINY, "model.dropout=0.2,1.5,0.0")
    assert result.code == 1
    folder = sweep_dir(tmp_path)
    assert [read_metrics(folder / n)["status"] for n in "012"] == ["completed", "failed", "completed"]
    assert read_metrics(folder / "1")["error"] == (
        "ConfigError: Config error at model.dropout: got 1.5; expected a number in [0, 1)."
    )
    assert "Config error at model.dropout" in (folder / "1" / "error.txt").read_text()
    summary = pd.read_csv(folder / "summary.csv")
    assert summary["status"].tolist() == ["completed", "failed", "completed"]
    assert (
        "## Failed runs\n\n- `1` (model.dropout=1.5): ConfigError: Config error at model.dropout: got 1.5"
        in (folder / "comparison.md").read_text()
    )
    relative = folder.relative_to(tmp_path)
    assert result.err.endswith(f"mlexp train: 1 of 3 sweep jobs failed; report: {relative}/report.html\n")
    assert "mlexp train: job 1 failed: ConfigError: Config error at model.dropout: got 1.5;" in result.err


def test_diverged_job_is_reported_as_diverged_not_failed(mlexp, tmp_path):
    result = mlexp(
        "train", "-m", *TINY, "optimizer=sgd", "model.activation=linear", "optimizer.learning_rate=0.01,1e30"
    )
    assert result.code == 0, result.err
    summary = pd.read_csv(sweep_dir(tmp_path) / "summary.csv")
    assert summary["status"].tolist() == ["completed", "diverged"]


@pytest.mark.slow
def test_runs_started_in_the_same_second_get_their_own_folders(mlexp, tmp_path):
    for _ in range(3):
        assert mlexp("train", *TINY, "trainer.epochs=1").code == 0
    assert len(run_dirs(tmp_path / "outputs" / "runs")) == 3


def write_run(folder: Path, config: dict, history: list[dict] | None, metrics: dict | None, overrides=()) -> Path:
    """A run directory by hand, as mlexp writes it."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / "resolved_config.yaml").write_text(yaml.safe_dump(config))
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(list(overrides)))
    if history is not None:
        pd.DataFrame(history).to_csv(folder / "history.csv", index=False)
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


def curve(n: int, top: float) -> list[dict]:
    return [
        {"epoch": e, "loss": 1 / e, "accuracy": top * e / n, "val_loss": 1.2 / e, "val_accuracy": top * e / n - 0.01}
        for e in range(1, n + 1)
    ]


def hand_made_sweep(root: Path) -> Path:
    base = {"model": {"name": "mlp", "activation": "relu"}, "optimizer": {"name": "adam", "learning_rate": 0.001}}
    done = {"status": "completed", "test_accuracy": 0.91, "best_val_accuracy": 0.9, "epochs_run": 5}
    write_run(root / "0", base, curve(5, 0.91), done, ["model.activation=relu"])
    sigmoid = {**base, "model": {"name": "mlp", "activation": "sigmoid"}}
    write_run(root / "1", sigmoid, curve(3, 0.8), None, ["model.activation=sigmoid"])  # still running
    return root


def test_compare_hand_made_runs_without_tensorflow(tmp_path):
    sweep = hand_made_sweep(tmp_path / "sweep")
    code, loaded, proc = fresh_process(["compare", str(sweep)], tmp_path)
    assert (code, loaded) == (0, []), proc.stderr
    assert f"Report: {sweep}/comparison.md" in proc.stdout
    summary = pd.read_csv(sweep / "summary.csv")
    assert summary["model.activation"].tolist() == ["relu", "sigmoid"]
    assert summary["status"].tolist() == ["completed", "running"]
    assert summary.loc[1, "epochs_run"] == 3 and summary.loc[1, "best_val_accuracy"] == pytest.approx(0.79)
    assert (sweep / "plots" / "curves_model.activation.png").is_file()


def test_compare_single_runs_writes_to_a_new_folder(mlexp, tmp_path):
    sweep = hand_made_sweep(tmp_path / "sweep")
    result = mlexp("compare", str(sweep / "0"), str(sweep / "1"))
    assert result.code == 0, result.err
    [out] = (tmp_path / "outputs" / "comparisons").iterdir()
    assert (out / "comparison.md").is_file() and (out / "summary.csv").is_file()
    assert not (sweep / "summary.csv").exists()


def test_compare_bad_input(mlexp, tmp_path):
    missing = mlexp("compare", str(tmp_path / "nope"))
    assert (missing.code, missing.err) == (1, f"mlexp compare: {tmp_path}/nope is not a directory; "
                                           "expected run or sweep directories\n")  # fmt: skip
    (tmp_path / "empty").mkdir()
    empty = mlexp("compare", str(tmp_path / "empty"))
    assert empty.code == 1 and "holds no run directory" in empty.err
    sweep = hand_made_sweep(tmp_path / "sweep")
    objective = mlexp("compare", str(sweep), "--objective", "val_acc")
    assert objective.code == 1 and objective.err.startswith(
        "mlexp compare: --objective: got 'val_acc'; expected one of"
    )


@pytest.mark.slow
def test_seeds_swept_by_hand_pool_into_configs(mlexp, tmp_path):
    result = mlexp("train", "-m", *TINY, "seed=1,2", "model.activation=sigmoid,relu")
    assert result.code == 0, result.err
    report = (sweep_dir(tmp_path) / "comparison.md").read_text()
    verdicts = json.loads((sweep_dir(tmp_path) / "verdict.json").read_text())
    assert [c["n"] for c in verdicts["configs"]] == [2, 2] and "paired t-test over seeds" in verdicts["method"]
    assert "## How sure is this comparison?" in report and "| model.activation=relu | 2 |" in report
    assert "curves_seed" not in report
