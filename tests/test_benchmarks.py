"""The benchmark scripts in tiny mode, so that they cannot rot (the figures themselves: make bench)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


@pytest.mark.slow
def test_bench_tiny_mode_writes_every_figure(tmp_path):
    from formats import write_fashion_folder

    fashion = write_fashion_folder(tmp_path / "fashion-mnist")
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--tiny", "--fashion-dir", str(fashion), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    for title in ("CLI latency", "Overhead against plain Keras", "Backends", "Augmentation throughput",
                  "Time to 0.90 on Fashion-MNIST", "Memory", "Image folders from disk",
                  "Racing against the full grid"):  # fmt: skip
        assert f"## {title}" in text
    assert "FAILED" not in text
    assert re.search(r"\| `mlexp --help` \| 0\.\d\d s \(1 run\) \| met \|", text)
    assert re.search(r"Ratio of medians mlexp / plain Keras: \*\*\d+\.\d{3}\*\*", text)
    assert re.search(
        r"\| linear \(input-bound\) \| mlexp, augmentation=images \| \d+ \(1 run\) \| \d+ \(1 run\) \|", text
    )
    idg_alone = r"\| no model \(input alone\) \| ImageDataGenerator.flow, same operations \| \d+ \(1 run\) \| \|"
    assert re.search(idg_alone, text)
    assert re.search(r"mlexp augmentation vs ImageDataGenerator \*\*\d+\.\d\dx\*\*", text)
    assert re.search(r"with the lab CNN: \*\*\d+\.\d\dx\*\* slower .*; CPU time per image \d+\.\d\dx\.", text)
    assert re.search(r"\| `mlexp train` \(default run: digits, mlp, 20 epochs\) \| \d+ MiB \(1 run\) \|", text)
    assert "- versions: Python 3." in text
    cell = r"[\d.]+ s \(1 run\) \[\d+ MiB\]"
    for backend in ("tensorflow", "jax"):  # jax is in the dev extras
        row = rf"\| Fashion MLP \(dense 128 sigmoid\) \| {backend} \| {cell} \| {cell} \| \d+\.\d\dx \| \d+\.\d\dx \|"
        assert re.search(row, text), backend
    assert re.search(r"- Fashion MLP targets: <= 0.55x plain TensorFlow: \d+\.\d\dx \((met|NOT met)\)", text)
    assert re.search(r"Growth from 60 to 300 files: \*\*-?\d+ MiB\*\*", text)
    assert re.search(r"Keras / mlexp images/s: \*\*\d+\.\d\dx\*\*", text)
    assert re.search(r"Race / full grid epochs: \*\*\d\.\d\d\*\* \(target <= 0.50: (met|NOT met)\); same leader", text)


def test_bench_rejects_an_unknown_figure(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--only", "cli,speed", "--out", str(tmp_path / "R.md")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "--only: unknown figure(s) ['speed']; expected some of cli, overhead, backends, augmentation" in proc.stderr
    assert not (tmp_path / "R.md").exists()


def test_accuracy_benchmark_writes_its_section_and_make_bench_keeps_it(tmp_path):
    from formats import write_fashion_folder

    fashion = write_fashion_folder(tmp_path / "fashion-mnist")
    out = tmp_path / "RESULTS.md"
    cnn_row = "| `mlexp train experiment=fashion_cnn` | 2026-11-22T23:40 | 20 | 697 | 0.9346 | 0.92 | yes |"
    out.write_text("# Benchmark results\n\n## Memory\n\nkept\n")
    accuracy = [sys.executable, str(BENCH.parent / "fashion_accuracy.py"), "--out", str(out),
                "--set", f"dataset.path={fashion}", "--set", "trainer.epochs=1", "fashion_mlp_sigmoid"]  # fmt: skip
    for first in (True, False):  # the second run replaces the section and its row, it adds neither
        proc = subprocess.run(accuracy, capture_output=True, text=True, cwd=tmp_path, timeout=300)
        assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]  # tiny data misses the 0.87 target
        if first:  # a row of an earlier run of another preset
            out.write_text(out.read_text().replace("| --- | --- |\n", f"| --- | --- |\n{cnn_row}\n", 1))
    text = out.read_text()
    assert text.startswith("# Benchmark results\n\n## Memory\n\nkept\n\n## Accuracy on Fashion-MNIST\n")
    assert text.count("## Accuracy on Fashion-MNIST") == 1 and text.count("experiment=fashion_mlp_sigmoid") == 1
    sigmoid_row = re.escape(f"| `mlexp train experiment=fashion_mlp_sigmoid dataset.path={fashion} trainer.epochs=1` |")
    sigmoid_row += r" \d{4}-\d\d-\d\dT\d\d:\d\d \| 1 \| \d+ \| 0\.\d{4} \| 0\.87 \| NO \|"
    assert re.search(rf"\| --- \| --- \|\n{sigmoid_row}\n{re.escape(cnn_row)}\n$", text)  # kept, in the presets' order
    assert (tmp_path / "outputs/benchmarks").is_dir()

    proc = subprocess.run([sys.executable, str(BENCH), "--tiny", "--only", "cli", "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert "## CLI latency" in text and "## Memory\n\nkept\n" in text  # --only keeps the figures it did not measure ...
    assert re.search(
        rf"\n## Accuracy on Fashion-MNIST\n\nWritten by `make bench-accuracy`.*{re.escape(cnn_row)}\n$", text, re.S
    )


def test_accuracy_benchmark_rejects_an_unknown_experiment(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH.parent / "fashion_accuracy.py"), "--out", str(tmp_path / "R.md"),
                           "fashion_mlp"], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2
    assert "unknown experiment(s) ['fashion_mlp']; expected some of fashion_fast, fashion_mlp_final" in proc.stderr
    assert not (tmp_path / "R.md").exists()
