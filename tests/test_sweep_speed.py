"""Sweep jobs draw their figures in a background process while the next job trains (issue 34): the same
figures as drawn in the run's own process, none missing when the sweep ends, none half-drawn when it is
killed, and `mlexp compare` draws what a killed sweep left pending. A sweep's process ends without
TensorFlow's teardown, and a joblib sweep stops its idle workers rather than wait for theirs."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mlexp import runs
from mlexp.reporting import run_figures

TINY = ["trainer.verbose=0", "model.hidden_units=[8]", "trainer.epochs=2"]
FIGURES = ["confusion_matrix.png", "learning_curves.png", "misclassified.png", "predicted_classes.png"]


def _payload():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 40)
    y_pred = np.where(rng.random(40) < 0.7, y_true, (y_true + 1) % 3)
    wrong = np.flatnonzero(y_true != y_pred)[:25]
    rows = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
            {"epoch": 2, "loss": 0.8, "accuracy": 0.6, "val_loss": 0.9, "val_accuracy": 0.5}]  # fmt: skip
    meta = {"rows": rows, "title": "t", "score": "accuracy", "task": "multiclass", "class_names": ["a", "b", "c"]}
    arrays = {"y_true": y_true, "y_pred": y_pred, "wrong": wrong, "wrong_images": rng.random((len(wrong), 8, 8, 1))}
    return meta, arrays


def test_figures_drawn_in_the_background_are_the_figures_drawn_in_place(tmp_path, monkeypatch):
    meta, arrays = _payload()
    here, there = runs.RunDir(tmp_path / "here"), runs.RunDir(tmp_path / "there")
    here.begin(), there.begin()
    run_figures.defer(here, meta, arrays)  # no drawer: drawn at once, in this process
    run_figures.start_background()
    try:
        monkeypatch.setattr(run_figures, "draw", lambda run_dir: pytest.fail("drawn in this process"))
        run_figures.defer(there, meta, arrays)
        assert run_figures._submitted == [there.path]
    finally:
        run_figures.finish_background()
    monkeypatch.undo()
    for name in FIGURES:
        assert (here.file(f"plots/{name}")).read_bytes() == (there.file(f"plots/{name}")).read_bytes(), name
    assert not here.file(run_figures.PENDING).exists() and not there.file(run_figures.PENDING).exists()
    assert sorted(p.name for p in there.file("plots").iterdir()) == FIGURES


def test_a_sweep_ends_with_every_figure_drawn_by_another_process(mlexp, tmp_path, monkeypatch):
    drawn_in = []
    draw = run_figures.draw
    monkeypatch.setattr(run_figures, "draw", lambda run_dir: drawn_in.append(os.getpid()) or draw(run_dir))
    result = mlexp("train", "-m", "seed=0,1", *TINY, "hydra.sweep.dir=sweep")
    assert result.code == 0, result.err
    assert drawn_in == []  # not in this process: in the spawned drawer (which imports the module afresh)
    for job in ("0", "1"):
        plots = tmp_path / "sweep" / job / "plots"
        assert sorted(p.name for p in plots.iterdir()) == FIGURES
        assert "![confusion_matrix](plots/confusion_matrix.png)" in (plots.parent / "report.md").read_text()
    assert run_figures._drawer is None and not run_figures._background  # shut down with the sweep


def test_a_single_run_draws_its_figures_in_its_own_process(mlexp, tmp_path, monkeypatch):
    drawn_in = []
    draw = run_figures.draw
    monkeypatch.setattr(run_figures, "draw", lambda run_dir: drawn_in.append(os.getpid()) or draw(run_dir))
    assert mlexp("train", *TINY, "hydra.run.dir=run").code == 0
    assert drawn_in == [os.getpid()]
    assert sorted(p.name for p in (tmp_path / "run/plots").iterdir()) == FIGURES


def test_compare_draws_what_a_killed_sweep_left_pending(mlexp, tmp_path):
    assert mlexp("train", "-m", "seed=0,1", *TINY, "hydra.sweep.dir=sweep").code == 0
    job = runs.RunDir(tmp_path / "sweep/1")
    kept = {name: job.file(f"plots/{name}").read_bytes() for name in FIGURES}
    shutil.rmtree(job.file("plots"))
    meta, arrays = _payload()
    run_figures.save(job, meta, arrays)  # as a sweep killed before its drawer got to this job leaves it
    result = mlexp("compare", "sweep")
    assert result.code == 0, result.err
    assert sorted(p.name for p in job.file("plots").iterdir()) == FIGURES
    assert job.file("plots/learning_curves.png").read_bytes() != kept["learning_curves.png"]  # from the payload
    assert not any(Path(job.path, ".tmp").glob("*"))  # nothing half-written left


def test_jobs_that_differ_only_in_their_seed_get_the_config_hydra_composes(tmp_path, monkeypatch):
    """The sweeper composes once per set of overrides besides seed=; the copies must be Hydra's own configs."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode
    from omegaconf import OmegaConf

    from hydra_plugins.mlexp_sweeper.seeds import SeedLoader
    from mlexp.hydra_app import composing

    monkeypatch.chdir(tmp_path)
    with composing(["model=cnn"]) as words:
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("train", [*words, "optimizer=sgd"], run_mode=RunMode.MULTIRUN)
        cached = SeedLoader(loader)
        for seed in (0, 3, 11):
            job = ["model=cnn", f"seed={seed}", "optimizer.learning_rate=0.1"]
            fresh = OmegaConf.to_container(loader.load_sweep_config(master, job))
            assert OmegaConf.to_container(cached.load_sweep_config(master, job)) == fresh
            assert fresh["seed"] == seed and f"seed={seed}" in fresh["hydra"]["job"]["override_dirname"]
        assert len(cached._composed) == 1


def test_the_seed_loader_travels_to_joblib_workers():
    """The joblib launcher pickles Hydra's context, config loader included (a recursion on unpickling before)."""
    import pickle

    from hydra_plugins.mlexp_sweeper.seeds import SeedLoader

    loader = SeedLoader(Path("conf"))  # any picklable loader: attributes are looked up on it
    loader._composed[("x=1",)] = {"seed": 0}
    copy = pickle.loads(pickle.dumps(loader))
    assert copy.name == "conf" and copy._composed == {("x=1",): {"seed": 0}}


def test_a_sweep_does_not_warn_that_each_new_model_retraces(mlexp, tmp_path):
    """Each job's new model traces its predict function anew: expected, so TensorFlow's warning about
    retracing in a loop (after 5 traces) would only alarm."""
    result = mlexp("train", "-m", "seed=0,1,2,3", *TINY, "trainer.epochs=1", "hydra.sweep.dir=sweep")
    assert result.code == 0, result.err
    logs = "".join((tmp_path / "sweep" / job / "train.log").read_text() for job in "0123")
    assert "Test accuracy" in logs and "retracing" not in logs + result.out + result.err


@pytest.mark.slow
def test_a_joblib_sweep_stops_its_idle_workers_before_its_report(mlexp, tmp_path, monkeypatch):
    """Idle workers would be waited for at exit while each ends its TensorFlow; the sweep stops them, its
    jobs' files all written, and the report sees every run. The report's modules are imported meanwhile."""
    import sys

    from mlexp import sweep_report

    pytest.importorskip("hydra_plugins.hydra_joblib_launcher")
    workers, imported, end = [], [], sweep_report.SweepReport.on_multirun_end

    def see_then_end(self, config, **kwargs):
        from joblib.externals.loky import reusable_executor

        workers.extend(reusable_executor._executor._processes.values())
        imported.append("mlexp.reporting.compare" in sys.modules)
        end(self, config, **kwargs)

    monkeypatch.setattr(sweep_report.SweepReport, "on_multirun_end", see_then_end)
    monkeypatch.delitem(sys.modules, "mlexp.reporting.compare", raising=False)
    launcher = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"]
    result = mlexp("train", "-m", "seed=0,1", *TINY, *launcher, "hydra.sweep.dir=sweep")
    assert result.code == 0, result.err
    assert len(workers) == 2 and not any(worker.is_alive() for worker in workers)
    assert imported == [True]  # while the workers trained
    assert "Sweep report: sweep/report.html (and comparison.md; 2 completed)" in result.out
    for job in ("0", "1"):
        assert json.loads((tmp_path / "sweep" / job / "metrics.json").read_text())["status"] == "completed"
        assert sorted(p.name for p in (tmp_path / "sweep" / job / "plots").iterdir()) == FIGURES


EXIT_SCRIPT = """
import atexit, sys, threading
from mlexp.tf_runtime import exit_without_teardown

class Teardown:
    def __del__(self):
        print("teardown ran", flush=True)

sentinel = Teardown()  # collected by the interpreter's teardown, not before
if sys.argv[1:] != ["no framework"]:
    sys.modules.setdefault("tensorflow", sys)  # a framework is loaded (a stand-in: the test needs no TensorFlow)
atexit.register(lambda: print("exit handler ran", flush=True))
if sys.argv[1:] == ["thread"]:
    def work():
        threading.Event().wait(0.5)
        print("thread finished", flush=True)
    threading.Thread(target=work).start()  # not a daemon: the exit waits for it
print("last line", end="")
raise SystemExit(exit_without_teardown(3))
"""


def _run_exit_script(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", EXIT_SCRIPT, *args], capture_output=True, text=True, timeout=60)


def test_a_process_with_a_framework_ends_without_teardown_but_runs_its_exit_handlers():
    proc = _run_exit_script()
    assert proc.returncode == 3
    assert proc.stdout == "last lineexit handler ran\n"  # unflushed output kept; no teardown
    assert proc.stderr == ""


def test_the_exit_waits_for_a_running_thread_of_the_users_as_the_usual_exit_does():
    proc = _run_exit_script("thread")
    assert proc.returncode == 3
    assert proc.stdout == "last linethread finished\nexit handler ran\n"


def test_a_process_without_a_framework_gets_the_usual_exit():
    proc = _run_exit_script("no framework")
    assert proc.returncode == 3
    assert proc.stdout == "last lineexit handler ran\nteardown ran\n"
