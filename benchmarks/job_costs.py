"""Where a short sweep job's time goes: an N-job sweep in one process under cProfile (a benchmark, not a test).

Prints a Markdown table of seconds per job for each fixed cost, found by function name so that the same
script measures older checkouts (PYTHONPATH=OLD_CHECKOUT python benchmarks/job_costs.py). cProfile slows
Python-heavy code, so read the rows against each other, not as wall times.
Usage: python benchmarks/job_costs.py [JOBS]
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time

# (row, [(function name, path fragment)]): cumulative seconds of the first function found per pair, summed.
ROWS = [
    ("whole job (`training.train`)", [("train", "mlexp/training.py")]),
    ("`model.fit` (the epochs)", [("fit", "keras/src/backend/tensorflow/trainer.py")]),
    (
        "`model.evaluate` and `model.predict` (test, validation)",
        [
            ("evaluate", "keras/src/backend/tensorflow/trainer.py"),
            ("predict", "keras/src/backend/tensorflow/trainer.py"),
        ],
    ),
    (
        "Hydra: composing each job's config (to validate the batch, and to launch)",
        [("load_sweep_config", "hydra/_internal/config_loader_impl.py")],
    ),
    (
        "`keras.backend.clear_session` (a clean Keras state per job)",
        [("clear_session", "keras/src/backend/common/global_state.py")],
    ),
    ("config validation", [("validate", "mlexp/config/validate.py")]),
    ("data: load and split", [("load", "mlexp/data/__init__.py")]),
    ("model build", [("build", "mlexp/models/__init__.py")]),
    ("pre-flight checks", [("check", "mlexp/doctor/preflight.py")]),
    ("per-epoch backups (resume points)", [("save", "backups.py")]),
    ("`model.save` (model.keras)", [("save", "keras/src/models/model.py")]),
    ("figures drawn in the job's process (matplotlib `savefig`)", [("savefig", "matplotlib/figure.py")]),
    ("run report (report.md, tables, diagnosis; before: with its figures)", [("write_run_report", "mlexp/doctor/")]),
    ("TensorBoard HParams", [("write_hparams", "mlexp/tracking.py")]),
    ("manifest (versions, git state)", [("start", "manifest.py"), ("update_manifest", "mlexp/runs")]),
]


def cumulative(stats: pstats.Stats, name: str, fragment: str) -> float:
    return sum(
        values[3] for (path, _, function), values in stats.stats.items() if function == name and fragment in path
    )


def main(jobs: int) -> int:
    from mlexp.cli import main as mlexp

    os.chdir(tempfile.mkdtemp(prefix="mlexp-costs-"))
    args = ["train", "-m", f"seed=range(0,{jobs})", "trainer.epochs=2", "trainer.verbose=0"]
    profile = cProfile.Profile()
    start = time.perf_counter()
    code = profile.runcall(mlexp, args)
    wall = time.perf_counter() - start
    stats = pstats.Stats(profile)
    print(f"`mlexp {' '.join(args)}` under cProfile: exit {code}, {wall:.1f} s for {jobs} jobs\n")
    print("| cost | seconds per job |\n| --- | --- |")
    for row, places in ROWS:
        print(f"| {row} | {sum(cumulative(stats, *place) for place in places) / jobs:.3f} |")
    return code


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 6))
