"""The benchmark scripts in tiny mode, so that they cannot rot (the figures themselves: make bench)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"
sys.path.insert(0, str(BENCH.parent))
from bench import FIGURES  # noqa: E402

CELL = r"[\d.]+ s \(1 run\) \[\d+ MiB\]"
BACKEND_ROWS = [
    rf"\| Fashion MLP \(dense 128 sigmoid\) \| {backend} \| {CELL} \| {CELL} \| \d+\.\d\dx \| \d+\.\d\dx \|"
    for backend in ("tensorflow", "jax")  # jax is in the dev extras
]
# Figures in groups, so that CI's workers share them and no one process runs all of them (minutes each).
TINY_GROUPS = {
    "cli,overhead,augmentation,time_to_accuracy,memory,image_folder,import": [
        r"\| `mlexp --help` \| 0\.\d\d s \(1 run\) \| met \|",
        r"Ratio of medians mlexp / plain Keras: \*\*\d+\.\d{3}\*\*",
        r"\| linear \(input-bound\) \| mlexp, augmentation=images \| \d+ \(1 run\) \| \d+ \(1 run\) \|",
        r"\| no model \(input alone\) \| ImageDataGenerator.flow, same operations \| \d+ \(1 run\) \| \|",
        r"mlexp augmentation vs ImageDataGenerator \*\*\d+\.\d\dx\*\*",
        r"\| `mlexp train` \(default run: digits, mlp, 20 epochs\) \| \d+ MiB \(1 run\) \|",
        r"Growth from 60 to 300 files: \*\*-?\d+ MiB\*\*",
        r"Keras / mlexp images/s: \*\*\d+\.\d\dx\*\*",
        r"with the lab CNN: \*\*\d+\.\d\dx\*\* slower .*; CPU time per image \d+\.\d\dx\.",
    ],
    "backends": [
        *BACKEND_ROWS,
        r"- Fashion MLP targets: <= 0.55x plain TensorFlow: \d+\.\d\dx \((met|NOT met)\)",
    ],
    "race": [r"Race / full grid epochs: \*\*\d\.\d\d\*\* \(target <= 0.50: (met|NOT met)\); same leader"],
    "sweep_speed": [r"\| tensorflow \| `mlexp train -m seed=range\(0,2\) .*\| \*\*\d+\.\d{3}\*\* \(target <= 1.10"],
}


@pytest.mark.slow
@pytest.mark.parametrize("figures", list(TINY_GROUPS), ids=lambda f: f.split(",")[0])
def test_bench_tiny_mode_writes_its_figures(tmp_path, figures):
    from formats import write_fashion_folder

    fashion = write_fashion_folder(tmp_path / "fashion-mnist")
    out = tmp_path / "RESULTS.md"
    command = [sys.executable, str(BENCH), "--tiny", "--only", figures, "--fashion-dir", str(fashion)]
    proc = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = out.read_text()
    assert [line[3:] for line in text.splitlines() if line.startswith("## ")] == [
        FIGURES[key][0] for key in FIGURES if key in figures.split(",")
    ]
    assert "FAILED" not in text and "- versions: Python 3." in text
    for pattern in TINY_GROUPS[figures]:
        assert re.search(pattern, text), pattern


def test_the_tiny_groups_cover_every_figure():
    assert sorted(key for group in TINY_GROUPS for key in group.split(",")) == sorted(FIGURES)


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
