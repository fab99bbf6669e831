"""mlexp explain A B: what differs between two runs or configs, and whether it matters."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import TINY, fresh_process
from test_sweeps import curve, write_run

BASE = {"model": {"name": "mlp", "activation": "relu", "hidden_units": [8]}, "optimizer": {"name": "adam"}, "seed": 0}


def hand_run(folder: Path, config: dict, val: float, data: dict | None = None, versions: dict | None = None) -> Path:
    metrics = {"status": "completed", "best_val_accuracy": val, "samples": {"val": 300, "test": 300}}
    write_run(folder, config, curve(4, val + 0.01), metrics)
    manifest = {"backend": "tensorflow", "versions": versions or {"keras": "3.15.1"}, "data": data}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_two_runs_that_differ_in_one_key_name_it_first(mlexp, tmp_path):
    a = hand_run(tmp_path / "a", BASE, 0.95)
    b = hand_run(tmp_path / "b", {**BASE, "model": {**BASE["model"], "activation": "sigmoid"}}, 0.60)
    result = mlexp("explain", str(a), str(b), "--json", "--figure", str(tmp_path / "e.png"))
    assert result.code == 0, result.err
    found = json.loads(result.out)
    assert found["config"][0] == {"key": "model.activation", "a": "relu", "b": "sigmoid"}
    assert found["paragraph"].startswith("A and B differ in 1 config key: model.activation (relu -> sigmoid).")
    assert "A is better: difference 0.35" in found["paragraph"]
    assert [v["verdict"] for v in found["outcome"]] == ["best", "worse"]
    assert found["curves_part"] == {"epoch": 1, "ahead": "A", "metric": "val_accuracy"}
    assert (tmp_path / "e.png").read_bytes()[:4] == b"\x89PNG"


def test_an_aa_pair_is_within_noise(mlexp, tmp_path):
    a = hand_run(tmp_path / "a", BASE, 0.900)
    b = hand_run(tmp_path / "b", {**BASE, "seed": 1}, 0.903)
    result = mlexp("explain", str(a), str(b), "--figure", str(tmp_path / "e.png"))
    assert result.code == 0, result.err
    assert "A and B have the same config apart from the seed." in result.out
    assert "; within noise: difference 0.003" in result.out
    assert "Validation curves never part by more than the noise." in result.out


def test_runs_of_different_data_name_the_changed_files(mlexp, tmp_path):
    listed = lambda h: {"/d/train.csv": {"bytes": 10, "hash": h}, "/d/test.csv": {"bytes": 5, "hash": "t"}}  # noqa: E731
    a = hand_run(tmp_path / "a", BASE, 0.9, {"files": 2, "bytes": 15, "digest": "x", "listed": listed("1")})
    b = hand_run(tmp_path / "b", BASE, 0.9, {"files": 2, "bytes": 15, "digest": "y", "listed": listed("2")},
                 versions={"keras": "3.16.0"})  # fmt: skip
    result = mlexp("explain", str(a), str(b), "--json", "--figure", str(tmp_path / "e.png"))
    found = json.loads(result.out)
    assert found["data"] == "2 files, 15 bytes -> 2 files, 15 bytes (changed: train.csv)"
    assert "Data: changed, 2 files, 15 bytes -> 2 files, 15 bytes (changed: train.csv)." in found["paragraph"]
    assert found["environment"] == ["keras 3.15.1 -> 3.16.0"]


def test_configs_of_a_sweep_with_seeds_compare_paired(mlexp, tmp_path):
    result = mlexp("train", "-m", *TINY, "sweep.seeds=2", "model.activation=relu,sigmoid", "hydra.sweep.dir=s")
    assert result.code == 0, result.err
    explained = mlexp("explain", "s:model.activation=relu", "s:model.activation=sigmoid", "--json")
    assert explained.code == 0, explained.err
    found = json.loads(explained.out)
    assert found["a"]["seeds"] == [0, 1] and found["b"]["seeds"] == [0, 1]
    assert found["config"][0]["key"] == "model.activation"
    assert "Seeds: A 0, 1, B 0, 1 (paired)." in found["paragraph"]
    assert {v["n"] for v in found["outcome"]} == {2}
    assert Path(found["figure"]).is_file()
    whole = mlexp("explain", "s", "s:model.activation=relu")
    assert whole.code == 1 and "s holds 2 configs; choose one as s:CONFIG" in whole.err
    unknown = mlexp("explain", "s:model.activation=tanh", "s:model.activation=relu")
    assert unknown.code == 1 and "no config 'model.activation=tanh'" in unknown.err


def test_explain_imports_no_tensorflow(tmp_path):
    a = hand_run(tmp_path / "a", BASE, 0.9)
    b = hand_run(tmp_path / "b", {**BASE, "seed": 2}, 0.8)
    code, loaded, proc = fresh_process(["explain", str(a), str(b)], tmp_path)
    assert (code, loaded) == (0, []), proc.stderr
    code, _, missing = fresh_process(["explain", str(a), str(tmp_path / "nope")], tmp_path)
    assert code == 1 and missing.stderr == (
        f"mlexp explain: {tmp_path}/nope is not a run or sweep directory (nor SWEEP:CONFIG)\n"
    )
