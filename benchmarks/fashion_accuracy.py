"""Accuracy of the Fashion-MNIST presets on the real data (a benchmark, not a test).

Needs Fashion-MNIST offline: `apt-get install dataset-fashion-mnist` (or the Keras cache).
Usage: python benchmarks/fashion_accuracy.py [EXPERIMENT ...]; prints a Markdown table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

TARGETS = {"fashion_fast": 0.90, "fashion_mlp_final": 0.90, "fashion_mlp_sigmoid": 0.87, "fashion_cnn": 0.92}


def run(experiment: str, out: Path) -> dict:
    run_dir = out / experiment
    command = ["mlexp", "train", f"experiment={experiment}", f"hydra.run.dir={run_dir}", "trainer.verbose=0"]
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "mlexp"), *command[1:]], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"experiment": experiment, "command": " ".join(command), "wall": wall, "error": proc.stderr[-500:]}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"experiment": experiment, "command": " ".join(command[:3]), "wall": wall, **metrics}


def main(argv: list[str]) -> int:
    out = Path("outputs/benchmarks") / time.strftime("%Y-%m-%d_%H-%M-%S")
    rows = [run(name, out) for name in (argv or list(TARGETS))]
    print("| command | epochs | wall s | test accuracy | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    failed = 0
    for row in rows:
        target = TARGETS.get(row["experiment"])
        if "error" in row:
            print(f"| `{row['command']}` | - | {row['wall']:.0f} | error: {row['error']!r} | {target} | no |")
            failed += 1
            continue
        met = target is None or row["test_accuracy"] >= target
        failed += not met
        print(
            f"| `{row['command']}` | {row['epochs_run']} | {row['wall']:.0f} | {row['test_accuracy']:.4f} "
            f"| {target} | {'yes' if met else 'NO'} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
