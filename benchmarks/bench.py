"""`make bench`: mlexp's speed and memory figures, each the median of several runs, into RESULTS.md.

Figures: CLI latency, overhead against a plain Keras script, augmentation against ImageDataGenerator,
time to 0.90 test accuracy on Fashion-MNIST, and peak memory. Commands run in subprocesses from a
scratch folder. Targets are reported, not enforced: a failed command makes the exit status non-zero.

Usage: python benchmarks/bench.py [--repeats N] [--out FILE] [--only NAME,...] [--tiny --fashion-dir DIR]
--tiny runs every figure once on tiny data (the test suite does, so the scripts cannot rot).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fashion_accuracy import TITLE as ACCURACY
from fashion_accuracy import split_section

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
FASHION_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
FASHION_PLACES = (Path("/usr/share/datasets/fashion-mnist"), Path.home() / ".keras/datasets/fashion-mnist")


class CommandFailed(Exception):
    pass


@dataclass
class Proc:
    wall: float
    peak_rss_mib: float
    out: str


def run(command: list[str], cwd: Path, expect: int = 0, env: dict | None = None) -> Proc:
    """Run a command; its wall time and its own peak resident set size (wait4 rusage)."""
    # Every command starts with an empty JAX compilation cache: what a sweep's jobs share, never a past run's.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryDirectory(prefix="jax-cache-") as cache:
        start = time.perf_counter()
        environment = {**os.environ, "MLEXP_COMPILATION_CACHE": cache, **(env or {})}
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True, env=environment)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if proc.returncode != expect:
        raise CommandFailed(f"{' '.join(command)} exited {proc.returncode}:\n{text[-2000:]}")
    return Proc(wall, usage.ru_maxrss / 1024, text)


@dataclass
class Figure:
    """Repeated measurements of one quantity: reported as median (min-max)."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def show(self, unit: str = "s", digits: int = 2) -> str:
        unit = f" {unit}" if unit else ""
        if len(self.values) == 1:
            return f"{self.values[0]:.{digits}f}{unit} (1 run)"
        low, high = min(self.values), max(self.values)
        return f"{self.median:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f}, n={len(self.values)})"


def mlexp(*args: str) -> list[str]:
    return [str(BIN / "mlexp"), *args]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def cli_latency(ctx) -> list[str]:
    """Answers that need no training: a Hydra composition, never NumPy, pandas, scikit-learn or Keras."""
    commands = {
        "`mlexp --help`": (mlexp("--help"), 0),
        "`mlexp train --help`": (mlexp("train", "--help"), 0),
        "`mlexp train --cfg job`": (mlexp("train", "--cfg", "job"), 0),
        "`mlexp train optimizer.learning_rate=-1` (config error, exit 2)": (
            mlexp("train", "optimizer.learning_rate=-1"),
            2,
        ),
        "`mlexp train model.dropout=1.5` (config error, exit 2)": (mlexp("train", "model.dropout=1.5"), 2),
        "`mlexp train dataset=csv dataset.path=missing.csv dataset.target=y` (exit 2)": (
            mlexp("train", "dataset=csv", "dataset.path=missing.csv", "dataset.target=y"),
            2,
        ),
    }
    floor = "`python -c 'import hydra.compose'` (the floor: Python and Hydra alone)"
    commands[floor] = ([sys.executable, "-c", "import hydra.compose"], 0)
    walls: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(ctx.repeats):  # round robin: a slow minute of a shared machine hits every command alike
        for label, (command, code) in commands.items():
            walls[label].append(run(command, ctx.work, code).wall)
    figures = {label: Figure(values) for label, values in walls.items()}
    lines = ["| command | wall | target < 0.6 s |", "| --- | --- | --- |"]
    lines += [f"| {label} | {fig.show()} | {verdict(fig.median < 0.6)} |" for label, fig in figures.items()]
    error = figures["`mlexp train model.dropout=1.5` (config error, exit 2)"].median
    cfg, base = figures["`mlexp train --cfg job`"].median, figures[floor].median
    lines += ["", "Ratios of medians in this run (the machine's speed varies from day to day): config error / "
              f"`--cfg job` **{error / cfg:.2f}**, config error / the floor **{error / base:.2f}**."]  # fmt: skip
    return lines


def overhead(ctx) -> list[str]:
    """mlexp train against the plain Keras script, alternated so that load drifts hit both alike."""
    epochs = 1 if ctx.tiny else 10
    if ctx.fashion:
        data = f"Fashion-MNIST ({ctx.fashion})"
        ours = mlexp("train", "experiment=fashion_mlp_sigmoid", f"dataset.path={ctx.fashion}")
        plain = [sys.executable, str(HERE / "plain_keras.py"), "fashion", str(ctx.fashion)]
    else:
        data = "digits (Fashion-MNIST is not installed)"
        ours = mlexp("train", "dataset=digits", "model.hidden_units=[128]", "model.activation=sigmoid")
        plain = [sys.executable, str(HERE / "plain_keras.py"), "digits"]
    # The plain script's settings, whatever the preset says: 20% validation, a constant learning rate.
    ours += [f"trainer.epochs={epochs}", "trainer.batch_size=64", "seed=0", "trainer.validation_split=0.2",
             "callbacks.lr_scheduler.enabled=false", "trainer.backend=tensorflow"]  # fmt: skip
    plain += [f"--epochs={epochs}", "--batch-size=64", "--seed=0"]
    mine, theirs = Figure(), Figure()
    for i in range(ctx.repeats):
        mine.values.append(run([*ours, f"hydra.run.dir=outputs/overhead/{i}"], ctx.work).wall)
        theirs.values.append(run(plain, ctx.work).wall)
    ratio = mine.median / theirs.median
    return [
        f"Data: {data}. Dense 128 sigmoid, {epochs} epochs, batch 64, seed 0, 20% validation. Whole processes",
        "(imports, data, training, evaluation; mlexp also writes its run directory, report, figures and HParams).",
        "",
        "| command | wall |",
        "| --- | --- |",
        f"| `mlexp train {' '.join(ours[2:])}` | {mine.show()} |",
        f"| `python benchmarks/plain_keras.py {' '.join(plain[2:])}` | {theirs.show()} |",
        "",
        f"Ratio of medians mlexp / plain Keras: **{ratio:.3f}** (target <= 1.05: {verdict(ratio <= 1.05)}; aim < 1.0).",
    ]


def installed_backends() -> list[str]:
    import importlib.util

    return ["tensorflow", *(name for name in ("jax", "torch") if importlib.util.find_spec(name))]


def write_imdb_like(path: Path, reviews: int) -> Path:
    """IMDB's shape in Keras' imdb.npz format (imdb.npz cannot be downloaded here): `reviews` train and test
    reviews of 50-430 word indices (about IMDB's mean length), Zipf-like frequencies, random labels. Speed
    only: the accuracy means nothing."""
    import numpy as np

    rng = np.random.default_rng(0)

    def sequences(n):
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = np.minimum(rng.zipf(1.3, size=rng.integers(50, 430)), 88000).astype(np.int32)
        return out

    labels = rng.integers(0, 2, size=(2, reviews))
    np.savez(path, x_train=sequences(reviews), y_train=labels[0], x_test=sequences(reviews), y_test=labels[1])
    return path


def backends(ctx) -> list[str]:
    """mlexp on each backend against plain Keras on TensorFlow and on the same backend, whole processes,
    alternated so that load drifts hit every command alike."""
    if not ctx.fashion:
        return ["Skipped: Fashion-MNIST is not installed (`apt-get install dataset-fashion-mnist`)."]
    mlp_epochs, cnn_epochs = (1, 1) if ctx.tiny else (10, 1)
    common = ["seed=0", "callbacks.lr_scheduler.enabled=false"]
    fashion = [f"dataset.path={ctx.fashion}", "trainer.batch_size=64", "trainer.validation_split=0.2"]
    workloads = {
        "Fashion MLP (dense 128 sigmoid)": (
            ["experiment=fashion_mlp_sigmoid", *fashion, f"trainer.epochs={mlp_epochs}"],
            ["--model=mlp", f"--epochs={mlp_epochs}"],
        ),
        "lab CNN (conv32-pool-conv64-pool-dense64)": (
            ["dataset=fashion_mnist", "model=cnn", *fashion, f"trainer.epochs={cnn_epochs}"],
            ["--model=cnn", f"--epochs={cnn_epochs}"],
        ),
    }  # fmt: skip
    imdb_epochs = 1 if ctx.tiny else 20
    imdb = write_imdb_like(ctx.work / "imdb.npz", 10500 if ctx.tiny else 25000)
    workloads["IMDB dense (16-16, IMDB-shaped data)"] = (
        ["experiment=imdb_dense", f"dataset.path={imdb}", f"trainer.epochs={imdb_epochs}"],
        [f"--epochs={imdb_epochs}", "--batch-size=512"],
    )
    names = installed_backends()
    lines = [
        f"Fashion-MNIST ({ctx.fashion}), batch 64, 20% validation, seed 0; the MLP {mlp_epochs} epochs, the CNN "
        f"{cnn_epochs}. IMDB: the notebook's network, {imdb_epochs} epochs of batch 512, on IMDB-shaped random data",
        "(imdb.npz cannot be downloaded here). Whole processes; `plain` is benchmarks/plain_keras.py under",
        "KERAS_BACKEND, `mlexp` is `mlexp train ... trainer.backend=B`. Peak RSS in brackets.",
        "",
        "| workload | backend | plain Keras | mlexp | mlexp / plain same backend | mlexp / plain TensorFlow |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    notes = []
    for label, (ours, theirs) in workloads.items():
        walls = {(who, b): Figure() for who in ("plain", "mlexp") for b in names}
        rss = {key: Figure() for key in walls}
        for i in range(ctx.repeats):
            for b in names:
                data = ["imdb", str(imdb)] if label.startswith("IMDB") else ["fashion", str(ctx.fashion)]
                plain = [sys.executable, str(HERE / "plain_keras.py"), *data, *theirs]
                mine = mlexp("train", *ours, *common, f"trainer.backend={b}",
                             "trainer.verbose=2", f"hydra.run.dir=outputs/backends/{label[:4]}_{b}_{i}")  # fmt: skip
                for who, command, env in (("plain", plain, {"KERAS_BACKEND": b}), ("mlexp", mine, None)):
                    proc = run(command, ctx.work, env=env)
                    walls[(who, b)].values.append(proc.wall)
                    rss[(who, b)].values.append(proc.peak_rss_mib)
        base = walls[("plain", "tensorflow")].median
        for b in names:
            mine, theirs_b = walls[("mlexp", b)], walls[("plain", b)]
            lines.append(
                f"| {label} | {b} | {theirs_b.show()} [{rss[('plain', b)].median:.0f} MiB] | {mine.show()} "
                f"[{rss[('mlexp', b)].median:.0f} MiB] | {mine.median / theirs_b.median:.2f}x "
                f"| {mine.median / base:.2f}x |"
            )
        fastest = min(names, key=lambda b: walls[("mlexp", b)].median)
        notes.append(f"- {label}: fastest mlexp backend **{fastest}**, {walls[('mlexp', fastest)].median / base:.2f}x "
                     "plain Keras on TensorFlow.")  # fmt: skip
        if label.startswith("Fashion MLP"):
            best = walls[("mlexp", fastest)].median / base
            same = walls[("mlexp", fastest)].median / walls[("plain", fastest)].median
            memory = rss[("mlexp", "tensorflow")].median - rss[("plain", "tensorflow")].median
            notes += [
                f"- Fashion MLP targets: <= 0.55x plain TensorFlow: {best:.2f}x ({verdict(best <= 0.55)}); <= 1.00x "
                f"plain Keras on the same backend: {same:.2f}x ({verdict(same <= 1.0)}).",
                f"- Peak RSS, mlexp - plain script on TensorFlow: {memory:+.0f} MiB (target within 100 MiB: "
                f"{verdict(memory <= 100)}).",
            ]
    return [*lines, "", *notes]


def augmentation(ctx) -> list[str]:
    size = "tiny" if ctx.tiny else "full"
    out = run([sys.executable, str(HERE / "augmentation.py"), str(ctx.repeats), size], ctx.work)
    return out.out.split("RESULTS\n", 1)[1].strip().splitlines()


def time_to_accuracy(ctx) -> list[str]:
    if not ctx.fashion:
        return ["Skipped: Fashion-MNIST is not installed (`apt-get install dataset-fashion-mnist`)."]
    args = ["experiment=fashion_fast", f"dataset.path={ctx.fashion}", "trainer.verbose=0"]
    if ctx.tiny:
        args += ["trainer.epochs=1"]
    walls, accuracies = Figure(), Figure()
    for i in range(ctx.repeats):
        proc = run(mlexp("train", *args, f"hydra.run.dir=outputs/tta/{i}"), ctx.work)
        metrics = json.loads((ctx.work / f"outputs/tta/{i}/metrics.json").read_text())
        walls.values.append(proc.wall)
        accuracies.values.append(metrics["test_accuracy"])
    reached = min(accuracies.values) >= 0.90
    return [
        "| command | wall (whole process) | test accuracy | epochs |",
        "| --- | --- | --- | --- |",
        f"| `mlexp train experiment=fashion_fast` | {walls.show()} | {accuracies.show('', 4)} "
        f"| {metrics['epochs_run']} (last run) |",
        "",
        f"Target: test accuracy >= 0.90 ({verdict(reached)}) within 45 s, whole process on 2 cores "
        f"({verdict(walls.median <= 45)}).",
    ]


def memory(ctx) -> list[str]:
    jobs = 2 if ctx.tiny else 20
    default = Figure(
        [run(mlexp("train", f"hydra.run.dir=outputs/mem/{i}"), ctx.work).peak_rss_mib for i in range(ctx.repeats)]
    )
    sweep_args = [
        "-m",
        f"seed=range(0,{jobs})",
        "trainer.epochs=2",
        "trainer.verbose=0",
        "hydra.sweep.dir=outputs/sweep",
    ]
    sweep = run(mlexp("train", *sweep_args), ctx.work)
    return [
        "| command | peak RSS |",
        "| --- | --- |",
        f"| `mlexp train` (default run: digits, mlp, 20 epochs) | {default.show('MiB', 0)} |",
        f"| `mlexp train {' '.join(sweep_args[:4])}` ({jobs} sequential jobs, one process) "
        f"| {sweep.peak_rss_mib:.0f} MiB (1 run) |",
        "",
        "The sweep's per-job growth is TensorFlow's own (benchmarks/NOTES.md); the joblib launcher bounds it.",
    ]


def image_folder(ctx) -> list[str]:
    """Streaming from disk: peak memory for 2,000 against 20,000 files, images/s against Keras' own loader."""
    small_n, large_n = (60, 300) if ctx.tiny else (2000, 20000)
    script = [sys.executable, str(HERE / "image_folder.py")]
    folders = {n: ctx.work / f"images_{n}" for n in (small_n, large_n)}
    for n, folder in folders.items():
        if not folder.is_dir():
            run([*script, "write", str(folder), str(n)], ctx.work)
    train = ["dataset=image_folder", "dataset.image_size=[32,32]", "model=cnn", "trainer.epochs=1", "trainer.verbose=0"]
    rss = {n: Figure() for n in folders}
    for i in range(ctx.repeats):
        for n, folder in folders.items():
            out = f"hydra.run.dir=outputs/folder_{n}_{i}"
            rss[n].values.append(run(mlexp("train", *train, f"dataset.path={folder}", out), ctx.work).peak_rss_mib)
    speed = {"mlexp": Figure(), "keras": Figure()}
    for _ in range(ctx.repeats):  # alternated, so that load drifts hit both alike
        for mode in speed:
            result = run([*script, mode, str(folders[large_n])], ctx.work).out
            fields = dict(item.split("=") for item in result.split("RESULT ", 1)[1].split())
            speed[mode].values.append(float(fields["images"]) / float(fields["seconds"]))
    growth = rss[large_n].median - rss[small_n].median
    ratio = speed["keras"].median / speed["mlexp"].median
    return [
        "PNG folders of 32x32 RGB images in 10 class folders (benchmarks/image_folder.py).",
        f"`mlexp train {' '.join(train)}` as whole processes; peak resident memory:",
        "",
        "| files | peak RSS |",
        "| --- | --- |",
        *(f"| {n:,} | {rss[n].show('MiB', 0)} |" for n in folders),
        "",
        f"Growth from {small_n:,} to {large_n:,} files: **{growth:.0f} MiB** "
        f"(target < 300 MiB: {verdict(growth < 300)}).",
        "",
        f"One training epoch of the lab CNN on the {large_n:,}-file folder, without validation, in one process each:",
        "",
        "| input pipeline | images/s |",
        "| --- | --- |",
        f"| mlexp `image_folder` (seeded order, decoded per sample by tf.data) | {speed['mlexp'].show('', 0)} |",
        f"| `keras.utils.image_dataset_from_directory` | {speed['keras'].show('', 0)} |",
        "",
        f"Keras / mlexp images/s: **{ratio:.2f}x** (target <= 1.3x: {verdict(ratio <= 1.3)}).",
    ]


def race_vs_grid(ctx) -> list[str]:
    """The exercise sheet's activation x initializer grid (seed 004) on digits: the full grid with
    race.max_seeds seeds per config against a race (hydra/sweeper=race) up to the same seeds, and against a
    budget race (race.epochs: every config 1 epoch first, the better half on from those runs)."""
    seeds = 3 if ctx.tiny else 10
    epochs = 2 if ctx.tiny else 5
    activations, initializers = ("relu,sigmoid", "zeros,he_normal") if ctx.tiny else (
        "relu,tanh,sigmoid", "zeros,glorot_uniform,he_normal")  # fmt: skip
    grid = [f"model.activation={activations}", f"model.kernel_initializer={initializers}",
            "model.hidden_units=[64,64]", "trainer.verbose=0"]  # fmt: skip
    race = ["hydra/sweeper=race", *grid, f"race.max_seeds={seeds}"]
    stages = f"[1,2,{epochs}]" if epochs > 2 else f"[1,{epochs}]"  # 1 epoch for all, 2 for half, all for a quarter
    sweeps = {
        "full grid": ["-m", *grid, f"trainer.epochs={epochs}", f"sweep.seeds={seeds}", "hydra.sweep.dir=grid"],
        "race": ["-m", *race, f"trainer.epochs={epochs}", "hydra.sweep.dir=race"],
        "budget race": ["-m", *race, f"race.epochs={stages}", "hydra.sweep.dir=budget"],
    }
    rows, leaders, spent = [], {}, {}
    for name, args in sweeps.items():
        proc = run(mlexp("train", *args), ctx.work)
        folder = ctx.work / args[-1].split("=")[1]
        spent[name] = _epochs_trained(folder)
        leader = json.loads((folder / "verdict.json").read_text())["configs"][0]
        leaders[name] = _race_leader(folder) or leader["name"]
        jobs = len(list(folder.glob("*/metrics.json")))
        rows.append(f"| {name} | {jobs} | {spent[name]} | {proc.wall:.0f} s | {leaders[name]} "
                    f"({leader['verdict']}, {leader['mean']:.4f}) |")  # fmt: skip
    stopped = {name: json.loads((ctx.work / sub / "race.json").read_text())["stopped"]
               for name, sub in (("race", "race"), ("budget race", "budget"))}  # fmt: skip
    # No seed race can drop a config the full grid itself cannot tell from the winner: those run every seed.
    grid_verdicts = json.loads((ctx.work / "grid/verdict.json").read_text())["configs"]
    open_ = sum(c["verdict"] != "worse" for c in grid_verdicts)
    floor = (open_ * seeds + (len(grid_verdicts) - open_) * 3) / (len(grid_verdicts) * seeds)
    lines = [
        f"{len(grid_verdicts)} configs, {epochs} epochs, up to {seeds} seeds each; race.min_seeds=3, the default "
        f"confidence 0.95. The race stopped {stopped['race']}; the budget race (race.epochs={stages}, "
        f"race.keep=0.5) stopped {stopped['budget race']}.",
        "",
        "| sweep | jobs | epochs trained | wall | leader (verdict, best_val_accuracy) |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    for name in ("race", "budget race"):
        share, same = spent[name] / spent["full grid"], leaders[name] == leaders["full grid"]
        lines.append(f"{name.capitalize()} / full grid epochs: **{share:.2f}** (target <= 0.50: "
                     f"{verdict(share <= 0.5)}); same leader as the full grid: {verdict(same)}.")  # fmt: skip
    lines += ["", f"The full grid leaves {open_} config(s) not worse than its leader; a seed race runs those every "
              f"seed and the others at least 3: the least a seed race could spend here is {floor:.2f} of the grid. "
              "The budget race spends less by training every config 1 epoch first, then the better half 2 epochs "
              "(successive halving, ranked by mean: a rank, not a test, so a config the full grid cannot tell "
              "from its leader may leave early), then the rest all epochs in a seed race."]  # fmt: skip
    return lines


def _race_leader(folder: Path) -> str | None:
    """A race's leader by race.json: of the configs still in the race, the best mean of the last round."""
    race_file = folder / "race.json"
    if not race_file.is_file():
        return None
    race = json.loads(race_file.read_text())
    live = {c["name"] for c in race["configs"] if not c.get("left")}
    last = {k: v for k, v in race["rounds"][-1]["configs"].items() if k in live and v}
    return max(last, key=lambda k: last[k][0]) if last else None


def _epochs_trained(folder: Path) -> int:
    """Epochs trained by a sweep's jobs: race.json's count for a race (a continued job's earlier epochs are
    its earlier run's), else the jobs' epochs_run."""
    race_file = folder / "race.json"
    if race_file.is_file():
        return int(json.loads(race_file.read_text())["epochs_trained"])
    return sum(json.loads(p.read_text()).get("epochs_run", 0) for p in folder.glob("*/metrics.json"))


# benchmarks/job_costs.py 10 on commit bd564c0 (2026-12-04, before issue 34), seconds per job under cProfile.
COSTS_BEFORE = {
    "whole job (`training.train`)": 5.473,
    "`model.fit` (the epochs)": 1.641,
    "`model.evaluate` and `model.predict` (test, validation)": 0.294,
    "Hydra: composing each job's config (to validate the batch, and to launch)": 0.812,
    "`keras.backend.clear_session` (a clean Keras state per job)": 0.293,
    "config validation": 0.037,
    "data: load and split": 0.032,
    "model build": 0.065,
    "pre-flight checks": 0.005,
    "per-epoch backups (resume points)": 0.102,
    "`model.save` (model.keras)": 0.141,
    "figures drawn in the job's process (matplotlib `savefig`)": 1.589,
    "run report (report.md, tables, diagnosis; before: with its figures)": 1.884,
    "TensorBoard HParams": 0.017,
    "manifest (versions, git state)": 0.017,
}


def sweep_speed(ctx) -> list[str]:
    """A sweep of short jobs against the plain loop doing the same fits in one process (alternated pairs, on
    TensorFlow and JAX), and the same sweep over both cores with the joblib launcher."""
    jobs, epochs = (2, 1) if ctx.tiny else (20, 2)
    sweep = ["-m", f"seed=range(0,{jobs})", f"trainer.epochs={epochs}", "trainer.verbose=0"]
    plain = [sys.executable, str(HERE / "plain_sweep.py"), "--jobs", str(jobs), "--epochs", str(epochs)]
    lines = [
        f"{jobs} jobs of {epochs} epochs (digits, the default MLP 128-64, batch 32, 20% validation, test evaluation,",
        "a saved model each), whole processes, alternated pairs. mlexp also writes every job's run directory,",
        "report, figures (drawn by a background process while the next job trains) and HParams, and the sweep's",
        "report; the plain loop writes the models only.",
        "",
        "| backend | command | wall | mlexp / plain |",
        "| --- | --- | --- | --- |",
    ]
    one_process, joblib = None, Figure()
    for backend in ("tensorflow", *(b for b in installed_backends() if b == "jax")):
        mine, theirs = Figure(), Figure()
        ours = mlexp("train", *sweep, f"trainer.backend={backend}")
        for i in range(ctx.repeats):
            mine.values.append(run([*ours, f"hydra.sweep.dir=outputs/sweeps_{backend}/{i}"], ctx.work).wall)
            theirs.values.append(run(plain, ctx.work, env={"KERAS_BACKEND": backend}).wall)
            if backend == "tensorflow":  # in the same rounds as the one-process sweep: a ratio of neighbours
                parallel = [*ours, "hydra/launcher=joblib", f"hydra.sweep.dir=outputs/sweeps_joblib/{i}"]
                joblib.values.append(run(parallel, ctx.work).wall)
        ratio = mine.median / theirs.median
        one_process = one_process or mine
        lines += [
            f"| {backend} | `mlexp train {' '.join(ours[2:])}` | {mine.show()} | **{ratio:.3f}** "
            f"(target <= 1.10: {verdict(ratio <= 1.10)}) |",
            f"| {backend} | `KERAS_BACKEND={backend} python benchmarks/plain_sweep.py {' '.join(plain[2:])}` "
            f"| {theirs.show()} | |",
        ]
    lines += [
        "",
        f"All cores ({os.cpu_count()}): `mlexp train {' '.join(sweep)} hydra/launcher=joblib` took {joblib.show()}, "
        f"**{joblib.median / one_process.median:.2f}x** the one-process sweep on TensorFlow, measured in the same "
        f"rounds (target < 1: {verdict(joblib.median < one_process.median)}).",
    ]
    return lines + ["", *process_end(ctx), "", *job_costs(ctx)]


END_SCRIPT = """
import sys, time
import keras
from mlexp.tf_runtime import exit_without_teardown
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
model.compile("adam", "mse")
model.fit(keras.ops.zeros((8, 4)), keras.ops.zeros((8, 2)), verbose=0)
print(f"work done at {time.time()!r}", flush=True)
if sys.argv[1] == "mlexp":
    exit_without_teardown(0)
"""


def process_end(ctx) -> list[str]:
    """Seconds from a TensorFlow process's last line of work to its end: Python's usual exit, and mlexp's
    (which skips the interpreter's final teardown), once per sweep or run."""
    ends = {"usual": Figure(), "mlexp": Figure()}
    for _ in range(ctx.repeats):
        for way, figure in ends.items():
            started = time.time()
            proc = run([sys.executable, "-c", END_SCRIPT, way], ctx.work, env={"KERAS_BACKEND": "tensorflow"})
            done = float(re.search(r"work done at ([0-9.]+)", proc.out).group(1))
            figure.values.append(started + proc.wall - done)
    return [
        "Fixed cost of every process (a sweep, a run): its end after the last line of work, TensorFlow loaded.",
        "",
        "| process end | seconds |",
        "| --- | --- |",
        f"| Python's usual exit (the plain loop's; mlexp's before) | {ends['usual'].show(digits=3)} |",
        f"| mlexp's exit (exit handlers run, the final teardown skipped) | {ends['mlexp'].show(digits=3)} |",
    ]


def job_costs(ctx) -> list[str]:
    """Seconds per job of each fixed cost (benchmarks/job_costs.py), against the same script before issue 34."""
    jobs = 2 if ctx.tiny else 10
    out = run([sys.executable, str(HERE / "job_costs.py"), str(jobs)], ctx.work).out
    after = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\| (.+) \| ([0-9.]+) \|$", out, re.MULTILINE)}
    rows = [
        f"| {name} | {COSTS_BEFORE.get(name, float('nan')):.3f} | {seconds:.3f} |" for name, seconds in after.items()
    ]
    return [
        f"Fixed costs of a 2-epoch job ({jobs}-job sweep in one process under cProfile, which slows Python-heavy",
        "code: read the rows against each other). Before: the same script on commit bd564c0.",
        "",
        "| cost | seconds per job, before | after |",
        "| --- | --- | --- |",
        *rows,
        "",
        "The figures now cost the job's process nothing: a background process draws them (0.54 s per job of CPU,",
        "1.27 s before the figures were made cheaper), while the next job trains.",
    ]


SEEDS = HERE.parent / "tests" / "fixtures" / "seeds"
# Measured by hand on 2026-12-04 (the examples are others' code, under their licence, not redistributed here).
KERAS_IO = [
    "Ten keras.io examples written by others (mnist_convnet, bidirectional_lstm_imdb, regression_boston_housing,",
    "imbalanced_classification, addition_rnn, timeseries_classification_from_scratch, timeseries_anomaly_detection,",
    "3D_image_classification, image_classification_from_scratch, text_classification_from_scratch), measured by hand",
    "on 2026-12-04: all 10 import (exit 0); **2 of 10 need no manual edit**; 8 need their data path (the data come",
    "from URLs, Kaggle files or arrays built in the notebook) and one of those also a `num_classes` computed from",
    "its data; after the edits the report asks for, **10 of 10 models have the original's parameter count** (each",
    "original built with Keras from its own code).",
]


def notebook_import(ctx) -> list[str]:
    """`mlexp import` of the five course notebooks: whole-process wall time and what became of their code."""
    lines = ["| notebook | wall | experiments | comparisons | statements imported | manual edits |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for path in sorted(SEEDS.glob("*.txt")):
        wall, text = Figure(), ""
        for _ in range(ctx.repeats):
            folder = Path(tempfile.mkdtemp(dir=ctx.work))
            proc = run(mlexp("import", str(path), "--name", f"seed{path.name[:3]}"), folder)
            wall.values.append(proc.wall)
            text = proc.out
        found = re.search(r"Imported (\d+) experiment\(s\), (\d+) comparison\(s\); (\d+) of (\d+)", text)
        experiments, sweeps, imported, total = found.groups() if found else ("?", "?", "?", "?")
        edits = sum(1 for line in text.splitlines() if line.startswith("  edit "))
        lines.append(
            f"| {path.name[:3]} | {wall.show()} | {experiments} | {sweeps} | {imported} of {total} | {edits} |"
        )
    lines += ["", "Every model of these notebooks has the notebook's parameter count (tests/test_import.py builds each",
              "from the notebook's own lines). Statements not imported are plots, prints, predictions and the like,",
              "each named in the import report.", "", *KERAS_IO]  # fmt: skip
    return lines


FIGURES = {
    "cli": ("CLI latency", cli_latency),
    "overhead": ("Overhead against plain Keras", overhead),
    "backends": ("Backends", backends),
    "augmentation": ("Augmentation throughput", augmentation),
    "time_to_accuracy": ("Time to 0.90 on Fashion-MNIST", time_to_accuracy),
    "memory": ("Memory", memory),
    "image_folder": ("Image folders from disk", image_folder),
    "race": ("Racing against the full grid", race_vs_grid),
    "sweep_speed": ("Sweeps against a plain Keras loop", sweep_speed),
    "import": ("mlexp import", notebook_import),
}


@dataclass
class Context:
    work: Path
    repeats: int
    tiny: bool
    fashion: Path | None


def machine() -> list[str]:
    import tensorflow as tf

    from mlexp.tf_runtime import import_keras

    keras = import_keras()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    return [
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {os.cpu_count()} CPUs ({cpu}), {mem / 2**20:.0f} GiB, {platform.platform()}",
        f"- versions: Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}",
    ]


def find_fashion() -> Path | None:
    return next((p for p in FASHION_PLACES if all((p / f).is_file() for f in FASHION_FILES)), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated, of {', '.join(FIGURES)}")
    parser.add_argument("--tiny", action="store_true", help="one run of each figure on tiny data")
    parser.add_argument("--fashion-dir", type=Path, help="Fashion-MNIST .gz folder (default: the installed copy)")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(FIGURES)
    if unknown:
        parser.error(f"--only: unknown figure(s) {sorted(unknown)}; expected some of {', '.join(FIGURES)}")
    fashion = args.fashion_dir or find_fashion()
    ctx = Context(Path(tempfile.mkdtemp(prefix="mlexp-bench-")), 1 if args.tiny else args.repeats, args.tiny, fashion)
    mode = "tiny mode (one run each, tiny data): not a measurement" if args.tiny else f"median of {ctx.repeats} runs"
    lines = ["# Benchmark results", "", f"Written by `make bench` (`python benchmarks/bench.py`), {mode}.", ""]
    lines += [*machine(), "", "Hand-written history (every accuracy run, memory analysis): benchmarks/NOTES.md.", ""]
    lines += ["`--only` re-measures some figures; the others keep their last section (each section is dated).", ""]
    failed, sections = 0, {}
    chosen = args.only.split(",")
    for key in chosen:
        title, figure = FIGURES[key]
        print(f"[bench] {title} ...", flush=True)
        start = time.perf_counter()
        try:
            body = figure(ctx)
        except CommandFailed as exc:
            failed += 1
            body = ["FAILED:", "", "```", str(exc), "```"]
        stamp = datetime.date.today().isoformat()
        sections[key] = "\n".join([f"## {title}", "", *body, "", f"_({time.perf_counter() - start:.0f} s, {stamp})_"])
        print("\n".join(body), flush=True)
    for key, (title, _) in FIGURES.items():  # figures not measured this time keep their last section
        if key not in chosen and (kept := split_section(args.out, title)[1]):
            sections[key] = kept
    _, accuracy = split_section(args.out, ACCURACY)
    body = [sections[key] for key in FIGURES if key in sections]
    lines += [*(f"{section}\n" for section in body)]
    args.out.write_text("\n".join(lines) + (f"\n{accuracy}\n" if accuracy else ""))  # make bench-accuracy's own
    print(f"[bench] wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
