"""Memory over a 20-job sequential sweep in one process (a benchmark, not a test).

Records the resident set size after every job; a leak between jobs shows as steady growth.
Usage: python benchmarks/sweep_memory.py [JOBS]; prints a Markdown table and the growth.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(jobs: int) -> int:
    import os

    from mlexp import training
    from mlexp.cli import main as mlexp

    samples: list[float] = []
    original = training.train

    def measured(*args, **kwargs):
        result = original(*args, **kwargs)
        samples.append(rss_mib())
        return result

    training.train = measured
    os.chdir(tempfile.mkdtemp(prefix="mlexp-bench-"))
    args = ["train", "-m", f"seed=range(0,{jobs})", "trainer.epochs=2", "trainer.verbose=0", "model.hidden_units=[64]"]
    code = mlexp(args)
    print(f"`mlexp {' '.join(args)}` (digits, one process): exit {code}\n")
    print("| after job | RSS MiB |")
    print("| --- | --- |")
    for i in sorted({0, 1, 4, 9, 14, jobs - 1}):
        if i < len(samples):
            print(f"| {i + 1} | {samples[i]:.0f} |")
    if len(samples) < jobs:
        print(f"only {len(samples)} of {jobs} jobs finished")
        return 1
    growth = samples[-1] - samples[1]
    print(
        f"\nGrowth from job 2 to job {jobs}: {growth:+.0f} MiB ({samples[-1] / samples[1]:.3f}x); "
        f"per job {growth / max(jobs - 2, 1):+.1f} MiB."
    )
    return code


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
