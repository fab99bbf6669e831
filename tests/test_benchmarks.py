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
    for title in ("CLI latency", "Overhead against plain Keras", "Augmentation throughput",
                  "Time to 0.90 on Fashion-MNIST", "Memory"):  # fmt: skip
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


def test_bench_rejects_an_unknown_figure(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--only", "cli,speed", "--out", str(tmp_path / "R.md")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "--only: unknown figure(s) ['speed']; expected some of cli, overhead, augmentation" in proc.stderr
    assert not (tmp_path / "R.md").exists()
