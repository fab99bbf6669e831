from __future__ import annotations

import json

import pytest

from mlexp.runs import atomic_path, discard_if_empty, write_json, write_text


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "sub" / "metrics.json"
    write_json(target, {"a": 1.5, "nan": float("nan")})
    assert json.loads(target.read_text()) == {"a": 1.5, "nan": None}
    assert [p.name for p in target.parent.iterdir()] == ["metrics.json"]


def test_failed_write_keeps_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "history.csv"
    write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["history.csv"]


def test_discard_only_removes_folders_without_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs/kept.txt").parent.mkdir()
    (tmp_path / "outputs/kept.txt").write_text("")
    empty = tmp_path / "outputs/runs/empty"
    (empty / ".hydra").mkdir(parents=True)
    (empty / "train.log").write_text("")
    used = tmp_path / "used"
    (used / ".hydra").mkdir(parents=True)
    (used / "history.csv").write_text("epoch\n")
    assert discard_if_empty(empty) and not empty.exists()
    assert not (tmp_path / "outputs/runs").exists() and (tmp_path / "outputs/kept.txt").exists()
    assert not discard_if_empty(used) and used.exists()
