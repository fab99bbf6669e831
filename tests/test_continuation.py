"""trainer.continue_from: a run goes on from a finished run of the same config (the race's budget stages)."""

from __future__ import annotations

import json

import pytest
from conftest import TINY


def metrics(path):
    return json.loads((path / "metrics.json").read_text())


def test_a_continued_run_equals_a_run_of_all_its_epochs(mlexp, tmp_path):
    common = [*TINY, "trainer.deterministic=true", "model.dropout=0.2"]
    assert mlexp("train", *common, "trainer.epochs=2", "hydra.run.dir=short").code == 0
    result = mlexp("train", *common, "trainer.epochs=4", "trainer.continue_from=short", "hydra.run.dir=on")
    assert result.code == 0, result.err
    assert mlexp("train", *common, "trainer.epochs=4", "hydra.run.dir=whole").code == 0
    on, whole = metrics(tmp_path / "on"), metrics(tmp_path / "whole")
    assert on["test_loss"] == whole["test_loss"] and on["test_accuracy"] == whole["test_accuracy"]
    assert (tmp_path / "on/history.csv").read_text() == (tmp_path / "whole/history.csv").read_text()
    manifest = json.loads((tmp_path / "on/manifest.json").read_text())
    assert manifest["continued_from"] == "short"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("model.hidden_units=[16]", "expected a run of this config but for trainer.epochs; its model.hidden_units is"),
        ("trainer.epochs=2", "Config error at trainer.epochs: got 2; expected more than the 2 epochs of short"),
        (
            "trainer.continue_from=nowhere",
            "Config error at trainer.continue_from: got 'nowhere'; expected a completed "
            "run folder with model.keras (it is missing)",
        ),  # fmt: skip
    ],
)
def test_a_run_that_cannot_be_continued_is_refused_before_training(change, message, mlexp, tmp_path):
    assert mlexp("train", *TINY, "trainer.epochs=2", "hydra.run.dir=short").code == 0
    result = mlexp("train", *TINY, "trainer.epochs=3", "trainer.continue_from=short", change, "hydra.run.dir=on")
    assert result.code == 2
    assert message in result.err
    assert not (tmp_path / "on" / "metrics.json").exists()
