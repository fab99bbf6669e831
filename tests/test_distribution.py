"""trainer.distribution=data_parallel: Keras' DataParallel on JAX, over two host CPU devices in one process
or one device in each of two processes (jax.distributed on localhost)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY, read_metrics

from mlexp.data.pipeline import Shards, array_batches, evaluation_dataset, training_dataset

MLEXP = shutil.which("mlexp", path=str(Path(sys.executable).parent)) or "mlexp"
JAX_TINY = [*TINY, "trainer.backend=jax", "trainer.batch_size=32"]
X = np.arange(22, dtype="float32").reshape(11, 2)
Y = np.arange(11)


def _rows(batches) -> list:
    return [[np.asarray(t).tolist() for t in batch[1:]] for batch in batches]


@pytest.mark.parametrize("process", [0, 1])
def test_each_process_feeds_its_rows_of_every_batch_trimmed_or_padded_for_the_devices(process):
    shards = Shards(devices=2, processes=2, process=process)
    train = array_batches(X, Y, 4, shards=shards)
    evaluation = array_batches(X, Y, 4, shards=shards, training=False)
    # the last batch, rows 8-10: training drops row 10; evaluation pads with row 8, weighted 0
    expected_train = [[[0, 1]], [[4, 5]], [[8]]] if process == 0 else [[[2, 3]], [[6, 7]], [[9]]]
    expected_eval = (
        [[[0, 1], [1, 1]], [[4, 5], [1, 1]], [[8, 9], [1, 1]]]
        if process == 0
        else [[[2, 3], [1, 1]], [[6, 7], [1, 1]], [[10, 8], [1, 0]]]
    )
    assert _rows(train[i] for i in range(len(train))) == expected_train
    assert _rows(evaluation[i] for i in range(len(evaluation))) == expected_eval
    # tf.data (augmentation, image folders) cuts the same rows
    assert _rows(training_dataset(X, Y, 4, shards=shards)) == expected_train
    assert _rows(evaluation_dataset(X, Y, 4, shards=shards)) == expected_eval


def test_a_last_training_batch_smaller_than_the_devices_is_dropped():
    shards = Shards(devices=2)
    assert len(array_batches(X, Y, 5, shards=shards)) == 2  # 5 + 5 + 1: the lone row cannot be split
    assert _rows(training_dataset(X, Y, 5, shards=shards)) == [[[0, 1, 2, 3]], [[5, 6, 7, 8]]]
    assert len(array_batches(X, Y, 5)) == 3


def test_each_distribution_names_the_backend_it_runs_on(mlexp):
    result = mlexp("train", *TINY, "trainer.distribution=data_parallel")
    assert result.code == 2
    assert result.err == (
        "mlexp train: Config error at trainer.distribution: got 'data_parallel'; expected none or mirrored with "
        "trainer.backend=tensorflow (data_parallel runs on jax).\n"
    )
    result = mlexp("train", *TINY, "trainer.backend=torch", "trainer.distribution=mirrored")
    assert result.code == 2
    assert "got 'mirrored'; expected none with trainer.backend=torch (mirrored runs on tensorflow)." in result.err


def _run(cwd: Path, *args: str, devices: int = 2, command: str = "train", **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}", **env}
    return subprocess.run([MLEXP, command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_data_parallel_trains_on_two_host_devices_like_one_device(tmp_path):
    pytest.importorskip("jax")
    two = _run(tmp_path, *JAX_TINY, "trainer.distribution=data_parallel", "hydra.run.dir=two")
    assert two.returncode == 0, two.stderr[-3000:]
    assert "DataParallel over 2 device(s) in 1 process(es): cpu:0, cpu:1" in two.stdout
    metrics = read_metrics(tmp_path / "two")
    assert metrics["distribution"] == {"strategy": "data_parallel", "replicas": 2}
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 2
    assert (tmp_path / "two" / "report.md").is_file()  # predictions gathered for the report
    shutil.copytree(tmp_path / "two", tmp_path / "resumed")
    resumed = _run(tmp_path, "resumed", "--from-epoch", "1", command="resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert read_metrics(tmp_path / "resumed")["final_loss"] == pytest.approx(metrics["final_loss"], rel=1e-6)
    rerun = _run(tmp_path, "two", command="rerun")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "The rerun is identical to the original" in rerun.stdout
    one = _run(tmp_path, *JAX_TINY, "hydra.run.dir=one", devices=1)
    assert one.returncode == 0, one.stderr[-3000:]
    # the same global batches (the odd training remainder loses a row): the same training up to rounding
    single = read_metrics(tmp_path / "one")
    assert metrics["final_loss"] == pytest.approx(single["final_loss"], rel=1e-2)
    assert metrics["test_accuracy"] == pytest.approx(single["test_accuracy"], abs=0.02)

    odd = _run(tmp_path, *JAX_TINY, "trainer.distribution=data_parallel", "trainer.batch_size=33", "hydra.run.dir=odd")
    assert odd.returncode == 2
    assert odd.stderr.endswith(
        "mlexp train: Config error at trainer.batch_size: got 33; expected a multiple of the 2 devices that "
        "trainer.distribution=data_parallel splits each batch over.\n"
    )
    assert not (tmp_path / "odd").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("localhost", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_processes_joined_by_jax_distributed_train_like_one_process_with_two_devices(tmp_path):
    pytest.importorskip("jax")
    args = [*JAX_TINY, "trainer.distribution=data_parallel"]
    cluster = {"KERAS_DISTRIBUTION_JOB_ADDRESSES": f"localhost:{_free_port()}", "KERAS_DISTRIBUTION_NUM_PROCESSES": "2"}
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=1", **cluster}
    workers = [
        subprocess.Popen(
            [MLEXP, "train", *args, f"hydra.run.dir=process{i}"],
            cwd=tmp_path,
            env={**env, "KERAS_DISTRIBUTION_PROCESS_ID": str(i)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(2)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs[0][1][-2000:] + outputs[1][1][-2000:]
    assert "DataParallel over 2 device(s) in 2 process(es)" in outputs[0][0]
    one_process = _run(tmp_path, *args, "hydra.run.dir=together")
    assert one_process.returncode == 0, one_process.stderr[-3000:]
    together = read_metrics(tmp_path / "together")
    for i in range(2):
        metrics = read_metrics(tmp_path / f"process{i}")
        assert metrics["distribution"] == {"strategy": "data_parallel", "replicas": 2, "processes": 2}
        for key in ("final_loss", "final_val_loss", "test_loss", "test_accuracy"):
            assert metrics[key] == pytest.approx(together[key], rel=1e-5), key

    half = _run(tmp_path, *args, "hydra.run.dir=half", KERAS_DISTRIBUTION_NUM_PROCESSES="2")
    assert half.returncode == 2
    assert half.stderr.endswith(
        "mlexp train: Config error at KERAS_DISTRIBUTION_JOB_ADDRESSES: got null; expected host:port of process 0 "
        "(or of every process, comma-separated) for a run over 2 processes.\n"
    )
    assert not (tmp_path / "half").exists()
    addresses = {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "localhost:1,localhost:2,localhost:3"}
    three = _run(tmp_path, *args, "hydra.run.dir=three", **{**cluster, **addresses}, KERAS_DISTRIBUTION_PROCESS_ID="0")
    assert three.returncode == 2
    assert three.stderr.startswith(
        "mlexp train: Config error at KERAS_DISTRIBUTION_JOB_ADDRESSES: got 'localhost:1,localhost:2,localhost:3'; "
        "expected process 0's host:port, reached by all 2 processes (jax.distributed said ValueError: "
    )
    assert three.stderr.count("\n") == 1 and not (tmp_path / "three").exists()
    cluster["KERAS_DISTRIBUTION_PROCESS_ID"] = "2"
    outside = _run(tmp_path, *args, "hydra.run.dir=outside", **cluster)
    assert outside.returncode == 2
    assert outside.stderr.endswith(
        "mlexp train: Config error at KERAS_DISTRIBUTION_PROCESS_ID: got '2'; expected this process's index, 0 to 1.\n"
    )


@pytest.mark.slow
def test_a_search_runs_its_trials_on_the_configured_backend_and_names_a_refused_trials_reason(tmp_path):
    pytest.importorskip("jax")
    search = ["search_space=digits_small", "tuner.max_trials=1", "trainer.epochs=1", "trainer.verbose=0",
              "trainer.backend=jax", "trainer.distribution=data_parallel"]  # fmt: skip
    tuned = _run(tmp_path, *search, "hydra.run.dir=tuned", command="tune")
    assert tuned.returncode == 0, tuned.stderr[-3000:]
    trials = (tmp_path / "tuned/trials.csv").read_text().splitlines()
    assert trials[1].split(",")[1] == "COMPLETED"
    assert '"backend": "jax"' in (tmp_path / "tuned/trials/trial_0/manifest.json").read_text()
    refused = _run(tmp_path, *search, "trainer.batch_size=33", "hydra.run.dir=refused", command="tune")
    assert refused.returncode != 0
    assert "mlexp tune: no trial completed" in refused.stderr
    assert (
        "FAILED" in (table := (tmp_path / "refused/trials.csv").read_text())
        and "Config error at trainer.batch_size: got 33; expected a multiple of the 2 devices" in table
    )
