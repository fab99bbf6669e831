"""Bad files, folders and values for every verb: one clean line, a non-zero exit, nothing of a run lost."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY, fresh_process

from mlexp.cli import main


def one_line(result, code: int, text: str) -> str:
    """The verb's one message line: the right exit code, the text in it, no traceback anywhere."""
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err + result.out
    lines = [line for line in result.err.splitlines() if line.startswith("mlexp ")]
    assert len(lines) == 1, result.err
    assert text in lines[0], lines[0]
    return lines[0]


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under folder (hidden ones included) with its content hash."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished tiny run, trained once; tests copy it before changing anything."""
    root = tmp_path_factory.mktemp("finished")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(["train", *TINY, "hydra.run.dir=run"]) == 0
    finally:
        os.chdir(cwd)
    return root / "run"


@pytest.fixture
def run_copy(finished, tmp_path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "copy"))


# --- run folders are claimed before anything is written ------------------------------------------


def test_training_into_a_killed_run_is_refused_and_changes_nothing(mlexp, run_copy):
    (run_copy / "metrics.json").unlink()  # what a SIGKILL leaves: no metrics, the manifest says running
    manifest = json.loads((run_copy / "manifest.json").read_text())
    (run_copy / "manifest.json").write_text(json.dumps({**manifest, "status": "running"}))
    before = fingerprint(run_copy)
    line = one_line(mlexp("train", *TINY, f"hydra.run.dir={run_copy}"), 2, "already holds an unfinished run")
    assert f"Continue it with: mlexp resume {run_copy}" in line
    assert fingerprint(run_copy) == before


def test_training_into_a_finished_run_keeps_its_hydra_record(mlexp, run_copy):
    before = fingerprint(run_copy)
    assert ".hydra/overrides.yaml" in before
    line = one_line(mlexp("train", *TINY, "seed=3", f"hydra.run.dir={run_copy}"), 2, "already holds a finished run")
    assert f"mlexp rerun {run_copy}" in line
    assert fingerprint(run_copy) == before


def test_a_sweep_into_an_existing_sweep_is_refused_before_multirun_yaml_is_rewritten(mlexp, tmp_path):
    sweep = tmp_path / "sweep"
    (sweep / "0").mkdir(parents=True)
    (sweep / "multirun.yaml").write_text("hydra: {overrides: {task: [seed=1]}}\n")
    before = fingerprint(sweep)
    result = mlexp("train", "-m", *TINY, "seed=1,2", f"hydra.sweep.dir={sweep}")
    line = one_line(result, 2, "which already holds a sweep; nothing was changed")
    assert f"mlexp resume {sweep}" in line
    assert fingerprint(sweep) == before


@pytest.mark.parametrize(
    ("make", "target", "code", "text"),
    [
        (lambda p: p.mkdir() or (p / "notes.txt").write_text("mine"), "busy", 2, "got 'busy', which is not empty"),
        (lambda p: p.write_text("x"), "afile", 2, "got 'afile', which is a file; expected a new or empty folder"),
        (lambda p: p.write_text("x"), "afile/run", 1, "cannot create 'afile/run' (Not a directory)"),
    ],
)
def test_unusable_run_folders(mlexp, tmp_path, make, target, code, text):
    make(tmp_path / target.split("/")[0])
    one_line(mlexp("train", *TINY, f"hydra.run.dir={target}"), code, f"mlexp train: hydra.run.dir: {text}")


def test_a_full_disk_is_refused_at_start(mlexp, tmp_path, monkeypatch):
    from mlexp import runs

    monkeypatch.setattr(runs.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**9, 10**9, 2**20))
    one_line(mlexp("train", *TINY, "hydra.run.dir=new"), 1, "the disk holding 'new' is full (1 MiB free")
    assert not (tmp_path / "new").exists()


def test_an_empty_existing_folder_may_be_used(mlexp, tmp_path):
    (tmp_path / "empty").mkdir()
    assert mlexp("train", *TINY, "hydra.run.dir=empty").code == 0
    assert (tmp_path / "empty/metrics.json").is_file()


# --- temp files live in the run's .tmp/ -----------------------------------------------------------


def test_atomic_writes_in_a_run_use_its_tmp_folder_and_leave_nothing(tmp_path):
    from mlexp import runs

    run = runs.RunDir(tmp_path / "run")
    run.begin()
    seen = []
    with runs.atomic_path(run.file("plots/a.png")) as tmp:
        seen.append(tmp.parent)
        tmp.write_bytes(b"png")
    assert seen == [run.file(".tmp")]
    assert not run.file(".tmp").exists()  # removed once empty
    with pytest.raises(RuntimeError), runs.atomic_path(run.file("b.txt")) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert sorted(p.name for p in run.path.rglob("*")) == ["a.png", "plots"]


def test_a_killed_write_is_cleared_at_resume(mlexp, run_copy):
    (run_copy / "metrics.json").unlink()
    (run_copy / ".tmp").mkdir()
    (run_copy / ".tmp/.model.k3j2.keras").write_bytes(b"PK\x03\x04half")  # what a SIGKILL during a save leaves
    result = mlexp("resume", str(run_copy))
    assert result.code == 0, result.err
    assert not (run_copy / ".tmp").exists()
    assert json.loads((run_copy / "metrics.json").read_text())["status"] == "completed"


# --- damaged backups ------------------------------------------------------------------------------


@pytest.fixture
def failed_run(mlexp, tmp_path, monkeypatch) -> Path:
    """A run that failed after its third epoch: backups of epochs 2 and 3 remain."""
    from mlexp.reporting import plots

    def broken_plot(*args, **kwargs):
        raise RuntimeError("plotting exploded")

    with monkeypatch.context() as patch:
        patch.setattr(plots, "learning_curves", broken_plot)
        assert mlexp("train", *TINY, "trainer.epochs=3", "hydra.run.dir=cut").code == 1
    run = tmp_path / "cut"
    assert sorted(p.name for p in (run / "backup").iterdir()) == [
        "model-0002.keras", "model-0002.seeds.json", "model-0003.keras", "model-0003.seeds.json", "state.json"
    ]  # fmt: skip
    return run


def test_a_truncated_backup_is_named_and_the_previous_one_offered(mlexp, failed_run):
    newest = failed_run / "backup/model-0003.keras"
    newest.write_bytes(newest.read_bytes()[:500])
    before = fingerprint(failed_run)
    line = one_line(mlexp("resume", str(failed_run)), 1, f"{newest} is unreadable (not a complete .keras archive")
    assert line.endswith(
        f"nothing was changed. Continue from epoch 2, the previous backup, with: mlexp resume {failed_run} "
        f"--from-epoch 2; or start the run over with: mlexp resume {failed_run} --restart"
    )
    assert fingerprint(failed_run) == before
    result = mlexp("resume", str(failed_run), "--from-epoch", "2")
    assert result.code == 0, result.err
    history = pd.read_csv(failed_run / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]
    assert json.loads((failed_run / "metrics.json").read_text())["status"] == "completed"


def test_every_backup_damaged_offers_a_restart_only(mlexp, failed_run):
    for path in (failed_run / "backup").glob("*.keras"):
        path.write_bytes(b"not a zip")
    line = one_line(mlexp("resume", str(failed_run)), 1, "is unreadable")
    assert line.endswith(f"nothing was changed. Start the run over with: mlexp resume {failed_run} --restart")
    assert mlexp("resume", str(failed_run), "--restart").code == 0
    assert pd.read_csv(failed_run / "history.csv")["epoch"].tolist() == [1, 2, 3]


def test_resume_from_an_epoch_without_backup(mlexp, failed_run):
    one_line(
        mlexp("resume", str(failed_run), "--from-epoch", "1"), 1,
        f"--from-epoch: got 1; the backups of {failed_run} are of epochs: 3, 2",
    )  # fmt: skip


# --- damaged files, every verb --------------------------------------------------------------------


def test_resume_with_a_truncated_metrics_file(mlexp, run_copy):
    (run_copy / "metrics.json").write_text('{"status": "comp')
    one_line(mlexp("resume", str(run_copy)), 1, f"{run_copy}/metrics.json is damaged: not valid JSON")


def test_resume_of_a_sweep_with_a_broken_multirun_yaml(mlexp, tmp_path):
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep/multirun.yaml").write_text("hydra: [unclosed\n")
    one_line(mlexp("resume", "sweep"), 1, "sweep/multirun.yaml is not valid YAML at line 2")


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "is not a text file"),
        (b"- a\n- b\n", "holds list; expected a saved run config"),
    ],
)
def test_rerun_of_a_config_that_is_not_a_yaml_mapping(mlexp, tmp_path, content, text):
    (tmp_path / "config.yaml").write_bytes(content)
    one_line(mlexp("rerun", "config.yaml"), 1, f"config.yaml {text}")


def test_predict_refuses_bad_input_files(mlexp, finished, tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "fake.png").write_text("not an image")
    np.save(tmp_path / "empty.npy", np.zeros((0, 4, 4)))
    cases = {
        "objects.npy": "holds Python objects (a pickle), which mlexp does not load",
        "fake.png": "fake.png is not a readable image (cannot identify image file",
        "empty.npy": "empty.npy holds no samples (shape (0, 4, 4)); expected at least one",
    }
    for name, text in cases.items():
        one_line(mlexp("predict", str(finished), name), 1, text)
    (tmp_path / "folder").mkdir()
    np.save(tmp_path / "x.npy", np.zeros((2, 4, 4)))
    one_line(mlexp("predict", str(finished), "x.npy", "--out", "folder"), 1, "predict --out: got folder, a folder")


def test_predict_with_a_damaged_model(mlexp, run_copy, tmp_path):
    (run_copy / "model.keras").write_bytes(b"PK\x03\x04 cut short")
    np.save(tmp_path / "x.npy", np.zeros((2, 4, 4)))
    one_line(mlexp("predict", str(run_copy), "x.npy"), 1, f"{run_copy}/model.keras is unreadable")


def test_export_refuses_folders_it_cannot_use(mlexp, finished, tmp_path):
    (tmp_path / "afile").write_text("x")
    one_line(mlexp("export", str(finished), "--out", "afile/out"), 1, "but afile is a file; expected a folder path")
    one_line(mlexp("export", str(finished), "--out", str(finished)), 1, "the run folder itself; expected another")


def test_outputs_never_overwrite_another_runs_results(mlexp, finished, run_copy, tmp_path):
    before = fingerprint(run_copy)
    np.save(tmp_path / "x.npy", np.zeros((2, 4, 4)))
    one_line(
        mlexp("predict", str(finished), "x.npy", "--out", str(run_copy / "metrics.json")), 1,
        f"predict --out: got {run_copy}/metrics.json, a file of a run's results",
    )  # fmt: skip
    one_line(mlexp("export", str(finished), "--out", str(run_copy)), 1, "which holds a run's results")
    one_line(mlexp("compare", str(finished), "--out", str(run_copy)), 1, "which holds a run's results")
    assert fingerprint(run_copy) == before


def test_compare_lists_damaged_runs_as_unreadable(mlexp, finished, tmp_path):
    damaged = Path(shutil.copytree(finished, tmp_path / "damaged"))
    (damaged / "history.csv").write_bytes(os.urandom(64) + b"\xff\xfe")
    (damaged / "resolved_config.yaml").write_bytes(b"\x00\xff binary")
    empty = Path(shutil.copytree(finished, tmp_path / "empty"))
    (empty / "history.csv").write_text("")
    result = mlexp("compare", str(finished), str(damaged), str(empty), "--out", "report")
    line = one_line(result, 1, f"mlexp compare: {damaged}: resolved_config.yaml is unreadable")
    assert line.endswith("; listed as unreadable")
    summary = pd.read_csv(tmp_path / "report/summary.csv")
    assert summary["status"].tolist().count("unreadable") == 1
    assert (tmp_path / "report/comparison.md").is_file()


# --- the error boundary ---------------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_with_the_traceback_in_a_file(mlexp, monkeypatch):
    from mlexp import cli

    def broken(argv):
        raise ZeroDivisionError("a bug\nwith a second line")

    monkeypatch.setitem(cli.VERBS, "compare", cli.Verb("broken", broken))
    line = one_line(mlexp("compare", "x"), 1, "mlexp compare: unexpected error ZeroDivisionError: a bug (traceback")
    saved = Path(line.split("traceback saved in ")[1].split(";")[0])
    assert "Traceback (most recent call last)" in saved.read_text() and "second line" in saved.read_text()
    saved.unlink()


def test_a_full_disk_while_writing_is_one_line(mlexp, monkeypatch):
    from mlexp import cli

    def full(argv):
        raise OSError(errno.ENOSPC, "No space left on device", "outputs/runs/x/model.keras")

    monkeypatch.setitem(cli.VERBS, "compare", cli.Verb("full", full))
    line = one_line(
        mlexp("compare", "x"), 1,
        "mlexp compare: No space left on device: outputs/runs/x/model.keras; free some space, or write to another disk",
    )  # fmt: skip
    Path(line.split("(details: ")[1].rstrip(")")).unlink()


# --- values accepted that cannot work, and wrong words ---------------------------------------------


def test_devices_that_do_not_exist_are_refused_before_training(mlexp, tmp_path):
    result = mlexp("train", *TINY, "trainer.distribution=mirrored", "trainer.devices=[/gpu:7]", "hydra.run.dir=r")
    one_line(result, 2, "Config error at trainer.devices[0]: got '/gpu:7'; expected a device of this machine: ")
    assert not (tmp_path / "r").exists()


def test_best_metrics_skip_diverged_epochs():
    from mlexp.reporting.collect import from_history

    history = pd.DataFrame(
        {"epoch": [1, 2, 3], "loss": [2.0, float("nan"), float("nan")], "val_accuracy": [0.2, 0.9, 0.1]}
    )
    best = from_history(history)
    assert best["best_val_accuracy"] == 0.2 and best["best_val_accuracy_epoch"] == 1
    assert "best_val_accuracy" not in from_history(history.iloc[1:])


def test_hints_match_case_first():
    from mlexp.errors import closest

    assert closest("Relu", ["elu", "relu", "selu"]) == "relu"
    assert closest("GLOROT_UNIFORM", ["glorot_uniform", "glorot_normal"]) == "glorot_uniform"
    assert closest("rleu", ["elu", "relu"]) == "relu"


# --- data that is empty, cut short or damaged: exit 2 naming it, no run folder left --------------


def _cut(path: Path) -> None:
    """Keep the first half of a file, as an interrupted copy or download would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty_npz(root: Path, split: str) -> list[str]:
    arrays = {"x_train": np.ones((20, 4)), "y_train": np.arange(20) % 2, "x_test": np.ones((6, 4)),
              "y_test": np.arange(6) % 2}  # fmt: skip
    arrays[f"x_{split}"], arrays[f"y_{split}"] = np.zeros((0, 4)), np.zeros((0,), "int64")
    np.savez(root / "d.npz", **arrays)
    return ["dataset=npz", f"dataset.path={root / 'd.npz'}"]


def _fashion_cut(root: Path) -> list[str]:
    from formats import write_fashion_folder

    folder = write_fashion_folder(root / "fashion")
    _cut(folder / "t10k-images-idx3-ubyte.gz")
    return ["dataset=fashion_mnist", f"dataset.path={folder}"]


def _npz_cut(root: Path) -> list[str]:
    from formats import write_mnist_npz

    path = write_mnist_npz(root / "mnist.npz")
    _cut(path)
    return ["dataset=mnist", f"dataset.path={path}"]


def _table(root: Path, name: str, write) -> list[str]:
    table = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40) % 3, "label": np.arange(40) % 2})
    write(table, root / name)
    return ["dataset=csv", f"dataset.path={root / name}", "dataset.target=label"]


def _parquet_cut(root: Path) -> list[str]:
    args = _table(root, "t.parquet", lambda t, p: t.to_parquet(p))
    _cut(root / "t.parquet")
    return args


def _image_folder(root: Path, damage) -> list[str]:
    from formats import write_image_folder

    folder = write_image_folder(root / "images")
    damage(folder)
    return ["dataset=image_folder", f"dataset.path={folder}", "dataset.image_size=[8,8]"]


def _empty_class(folder: Path) -> None:
    first = sorted(p for p in folder.iterdir() if p.is_dir())[0]
    for file in first.iterdir():
        file.unlink()


def _cut_image(folder: Path) -> None:
    _cut(sorted(folder.rglob("*.png"))[0])


def _text_folder(root: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (root / "texts" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "texts" / name).write_text(text)
    for name in ("pos", "neg"):
        (root / "texts" / name).mkdir(parents=True, exist_ok=True)
    return ["dataset=text_folder", f"dataset.path={root / 'texts'}"]


DAMAGED_DATA = {
    "npz x_train empty": (lambda r: _empty_npz(r, "train"), "d.npz: x_train is empty (0 samples); expected at least "
                          "one train sample"),
    "npz x_test empty": (lambda r: _empty_npz(r, "test"), "d.npz: x_test is empty (0 samples)"),
    "csv with only a header": (lambda r: _table(r, "h.csv", lambda t, p: t[:0].to_csv(p, index=False)),
                               "h.csv is empty"),
    "image class folder empty": (lambda r: _image_folder(r, _empty_class), "holds no image files; expected at least "
                                 "one per class"),
    "text folder empty": (lambda r: _text_folder(r, {"pos/a.txt": "good"}), "texts/neg holds no text files; "
                          "expected at least one per class"),
    "fashion gz cut short": (_fashion_cut, "t10k-images-idx3-ubyte.gz is truncated or damaged (EOFError: "),
    "mnist npz cut short": (_npz_cut, "mnist.npz is truncated or damaged"),
    "parquet cut short": (_parquet_cut, "t.parquet is truncated or damaged"),
    "png cut short": (lambda r: _image_folder(r, _cut_image), ".png is truncated or not a PNG image; expected a "
                      "complete image file"),
}  # fmt: skip


@pytest.mark.parametrize("case", DAMAGED_DATA, ids=list(DAMAGED_DATA))
def test_empty_or_damaged_data_is_named_and_leaves_no_run(mlexp, tmp_path, case):
    make, text = DAMAGED_DATA[case]
    args = make(tmp_path)
    line = one_line(mlexp("train", *args, "trainer.epochs=1", "trainer.verbose=0"), 2, text)
    assert "{{function_node" not in line and "Traceback" not in line
    assert not (tmp_path / "outputs").exists()  # refused before training: nothing written, as for config errors


@pytest.mark.parametrize(
    ("dataset", "extra"),
    [("npz", []), ("csv", ["dataset.target=y"]), ("image_folder", []), ("text_folder", [])],
)
def test_a_data_path_that_is_not_there_is_a_config_error_before_tensorflow(tmp_path, dataset, extra):
    argv = ["train", f"dataset={dataset}", "dataset.path=missing/data", *extra]
    code, loaded, proc = fresh_process(argv, tmp_path)
    assert (code, loaded) == (2, []), proc.stderr
    assert proc.stderr == (
        f"mlexp train: Config error at dataset.path: got 'missing/data'; expected an existing file or folder "
        f"(nothing is at {tmp_path}/missing/data; {tmp_path} exists).\n"
    )
    assert not (tmp_path / "outputs").exists()


def test_a_sweep_job_with_damaged_data_records_why_in_its_folder(mlexp, tmp_path):
    args = _empty_npz(tmp_path, "train")
    result = mlexp("train", "-m", *args, "seed=0,1", "hydra.sweep.dir=sweep")
    assert result.code == 1
    metrics = json.loads((tmp_path / "sweep/0/metrics.json").read_text())
    assert metrics["status"] == "failed" and "x_train is empty (0 samples)" in metrics["error"]
