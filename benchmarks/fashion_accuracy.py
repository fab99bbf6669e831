"""`make bench-accuracy`: the Fashion-MNIST presets' test accuracy on the real data (a benchmark, not a test).

Needs Fashion-MNIST offline: `apt-get install dataset-fashion-mnist` (or the Keras cache). Each preset
trains once, in a subprocess, and its row of the section "Accuracy on Fashion-MNIST" of RESULTS.md is
replaced by the command, date, wall time, epochs and test accuracy (rows of presets not run now are kept;
`make bench` keeps the section). Exit 1 when a target is missed or a run fails.

Usage: python benchmarks/fashion_accuracy.py [--out FILE] [--set OVERRIDE ...] [EXPERIMENT ...]
(--set passes an override to every run; the test suite uses it for tiny data and one epoch.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGETS = {"fashion_fast": 0.90, "fashion_mlp_final": 0.90, "fashion_mlp_sigmoid": 0.87, "fashion_cnn": 0.92}
TITLE = "Accuracy on Fashion-MNIST"
HEADER = "| command | date | epochs | wall s | test accuracy | target | met |"
ROW = re.compile(r"^\| `mlexp train experiment=(\w+)")


def run(experiment: str, out: Path, overrides: list[str]) -> dict:
    run_dir = out / experiment
    shown = " ".join(["mlexp train", f"experiment={experiment}", *overrides])
    command = [str(Path(sys.executable).parent / "mlexp"), "train", f"experiment={experiment}", *overrides,
               f"hydra.run.dir={run_dir}", "trainer.verbose=0"]  # fmt: skip
    print(f"[accuracy] {shown} ...", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        return {"experiment": experiment, "command": shown, "wall": wall, "error": proc.stderr[-500:]}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {"experiment": experiment, "command": shown, "wall": wall, **metrics}


def table_rows(runs: list[dict], date: str) -> tuple[dict[str, str], int]:
    """{experiment: its table row}, and how many runs failed or missed their target."""
    rows, failed = {}, 0
    for row in runs:
        target = TARGETS[row["experiment"]]
        start = f"| `{row['command']}` | {date}"
        if "error" in row:
            error = f"error: {row['error']!r}"
            rows[row["experiment"]] = f"{start} | - | {row['wall']:.0f} | {error} | {target:.2f} | no |"
            failed += 1
            continue
        met = row["test_accuracy"] >= target
        failed += not met
        rows[row["experiment"]] = (
            f"{start} | {row['epochs_run']} | {row['wall']:.0f} | {row['test_accuracy']:.4f} "
            f"| {target:.2f} | {'yes' if met else 'NO'} |"
        )
    return rows, failed


def merged_table(old_section: str, new_rows: dict[str, str]) -> list[str]:
    """The section's table: the rows just measured, and the earlier rows of presets not run now."""
    rows = {m.group(1): line for line in old_section.splitlines() if (m := ROW.match(line))}
    rows.update(new_rows)
    return [HEADER, "| --- " * HEADER.count(" | ") + "| --- |", *(rows[name] for name in TARGETS if name in rows)]


def split_section(path: Path, title: str) -> tuple[str, str]:
    """(the file's text without the section `## title`, the section or ''); sections end at the next `## `."""
    text = path.read_text() if path.exists() else ""
    start = text.find(f"\n## {title}\n")
    if start < 0:
        return text, ""
    end = text.find("\n## ", start + 1)
    end = len(text) if end < 0 else end
    return text[:start] + text[end:], text[start + 1 : end].rstrip("\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="*", default=list(TARGETS), metavar="EXPERIMENT")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--set", action="append", default=[], metavar="OVERRIDE", dest="overrides")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.experiments) - set(TARGETS))
    if unknown:
        parser.error(f"unknown experiment(s) {unknown}; expected some of {', '.join(TARGETS)}")
    out = Path("outputs/benchmarks") / time.strftime("%Y-%m-%d_%H-%M-%S")
    when = datetime.datetime.now().isoformat(timespec="minutes")
    new_rows, failed = table_rows([run(name, out, args.overrides) for name in args.experiments], when)
    print("\n".join(new_rows.values()), flush=True)
    rest, old = split_section(args.out, TITLE)
    header = (
        "Written by `make bench-accuracy` (`python benchmarks/fashion_accuracy.py EXPERIMENT...` reruns only those"
        " rows): one run each, with the presets' seed (0). Wall times depend on what else shared the cores that day;"
        " compare them within one date only. Runs with other seeds and variants, and the load: benchmarks/NOTES.md."
    )
    section = [f"## {TITLE}", "", header, "", *merged_table(old, new_rows)]
    args.out.write_text((rest.rstrip("\n") + "\n\n" if rest.strip() else "") + "\n".join(section) + "\n")
    print(f"[accuracy] wrote the section '{TITLE}' of {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
