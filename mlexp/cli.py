"""The `mlexp` command: a verb, then that verb's arguments. Imports no TensorFlow.

To add a verb, write a function taking the remaining argv and returning an exit code, and list it
in VERBS.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlexp import __version__
from mlexp.errors import MlexpError, closest, describe_os_error, first_line, report, save_traceback


@dataclass(frozen=True)
class Verb:
    summary: str
    run: Callable[[list[str]], int]


def _train(argv: list[str]) -> int:
    from mlexp import train_task

    return train_task.run(argv)


def _tune(argv: list[str]) -> int:
    from mlexp.hydra_app import run_hydra
    from mlexp.tuning.task import tune_task

    return run_hydra(tune_task, "tune", argv, prog="mlexp tune")


def _compare(argv: list[str]) -> int:
    import argparse
    from pathlib import Path

    from mlexp.reporting import compare
    from mlexp.runs import holds_results

    parser = argparse.ArgumentParser(
        prog="mlexp compare",
        description="Compare run or sweep directories: summary.csv, comparison.md and plots/ (no TensorFlow).",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="run directories and/or sweep directories")
    parser.add_argument("--out", type=Path, help="report folder (default: the sweep directory, if one is given)")
    parser.add_argument(
        "--objective", help=f"metric to rank by (default: {compare.OBJECTIVE}, best_val_mae for regressions)"
    )
    parser.add_argument("--confidence", type=float, help="of intervals and verdicts (default: the sweep's, or 0.95)")
    parser.add_argument(
        "--min-difference", type=float, help="differences smaller than this do not matter (default: the sweep's, or 0)"
    )
    args = parser.parse_args(argv)
    if args.objective is not None and args.objective not in compare.OBJECTIVES:
        raise MlexpError(f"--objective: got {args.objective!r}; expected one of {', '.join(compare.OBJECTIVES)}")
    out = args.out or compare.default_output(args.paths)
    if args.out and holds_results(args.out) and not (args.out / "multirun.yaml").is_file():
        raise MlexpError(f"--out: got {args.out}, which holds a run's results; expected another folder")
    result = compare.compare(args.paths, out, args.objective, compare.settings_of(args.paths, args))
    print(compare.console_table(result))
    print(f"Report: {out / compare.REPORT}")
    damaged = [r for r in result.records if r.status == "unreadable"]
    for record in damaged:
        print(f"mlexp compare: {record.path}: {record.metrics['error']}; listed as unreadable", file=sys.stderr)
    return 1 if damaged else 0


def _explain(argv: list[str]) -> int:
    from mlexp.explain import main

    return main(argv)


def _import(argv: list[str]) -> int:
    from mlexp.importer.command import main

    return main(argv)


def _logging() -> None:
    """Log lines like Hydra's job logging, for verbs that train outside Hydra."""
    import logging

    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s", datefmt="%H:%M:%S")


def _rerun(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="mlexp rerun",
        description="Run a past experiment again from its resolved_config.yaml into a new run directory, "
        "then check that history and metrics match the original (exit 1 if not).",
    )
    parser.add_argument(
        "run_dir", type=Path, help="a run directory (it may have been copied from elsewhere), or a config file "
        "such as a tuning session's best_config.yaml (then there is nothing to verify against)",
    )  # fmt: skip
    parser.add_argument("overrides", nargs="*", help="key=value changes to the saved config")
    parser.add_argument("--no-verify", action="store_true", help="skip the comparison with the original")
    args = parser.parse_args(argv)
    from mlexp.reruns import rerun

    _logging()
    return rerun(args.run_dir, args.overrides, verify=not args.no_verify)


def _resume(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="mlexp resume",
        description="Continue an interrupted or killed run from its last completed epoch, in the same "
        "directory; for a sweep directory, run the jobs that did not finish and rewrite its report.",
    )
    parser.add_argument("path", help="a run directory or a sweep directory")
    parser.add_argument("--from-epoch", type=int, help="continue from the backup of this epoch (the last two are kept)")
    parser.add_argument("--restart", action="store_true", help="discard the run's backups and history; train anew")
    args = parser.parse_args(argv)
    if args.from_epoch is not None and (args.restart or args.from_epoch < 1):
        raise MlexpError(f"--from-epoch: got {args.from_epoch}; expected an epoch >= 1, without --restart")
    from mlexp.reruns import resume

    _logging()
    return resume(args.path, args.from_epoch, args.restart)


def _check(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(
            "usage: mlexp check [OVERRIDES...]\n\nCompose and validate the config like `mlexp train`, load the "
            "data, build the model and run the pre-flight checks, without training. Exit 2 on an error finding."
        )
        return 0
    from mlexp.doctor.check import check

    _logging()
    return check(argv)


def _data(argv: list[str]) -> int:
    import argparse
    import time

    parser = argparse.ArgumentParser(
        prog="mlexp data",
        description="Look at a dataset without training: split sizes, class counts and imbalance, value "
        "ranges, sample images per class and, with augmentation=..., the same images augmented.",
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as for mlexp train (dataset=..., ...)")
    parser.add_argument("--out", type=Path, help="folder for the figures (default: outputs/data/<dataset>-<time>)")
    parser.add_argument("--per-class", type=int, default=8, help="sample images per class (default: 8)")
    args = parser.parse_args(argv)
    if args.per_class < 1:
        raise MlexpError(f"--per-class: got {args.per_class}; expected an integer >= 1")
    from mlexp.hydra_app import compose_validated

    _logging()
    cfg = compose_validated(args.overrides)
    from mlexp import data, data_view

    out = args.out or Path("outputs/data") / f"{cfg.dataset.name}-{time.strftime('%Y-%m-%d_%H-%M-%S')}"
    written = data_view.write(data.load(cfg.dataset, cfg.trainer), cfg, out, args.per_class)
    print("Written: " + ", ".join(str(p) for p in written))
    return 0


def _lr_find(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="mlexp lr-find",
        description="The learning-rate range test: the rate grows exponentially per batch while the loss is "
        "recorded; writes lr_find.png, lr_find.csv and prints the suggested optimizer.learning_rate.",
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as for mlexp train")
    parser.add_argument("--steps", type=int, default=100, help="batches (default: 100)")
    parser.add_argument("--start", type=float, default=1e-7, help="first rate (default: 1e-7)")
    parser.add_argument("--end", type=float, default=10.0, help="last rate (default: 10)")
    parser.add_argument("--out", type=Path, help="folder (default: outputs/lr_find/<time>)")
    args = parser.parse_args(argv)
    if args.steps < 10:
        raise MlexpError(f"--steps: got {args.steps}; expected an integer >= 10")
    from mlexp.lr_find import find

    _logging()
    result = find(args.overrides, args.out, args.steps, args.start, args.end)
    print(f"Loss lowest at learning rate {result['lowest_loss_rate']:.3g}; falling fastest at "
          f"{result['suggested']:.3g} ({result['steps']} steps, {result['optimizer']}).")  # fmt: skip
    print(f"Try: mlexp train {' '.join(args.overrides)} optimizer.learning_rate={result['suggested']:.2g}".replace(
        "  ", " "))  # fmt: skip
    print(f"Curve: {result['out']}/lr_find.png")
    return 0


def _report(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="mlexp report",
        description="Regenerate a finished run's diagnosis (diagnosis.json), debug figures and report.md.",
    )
    parser.add_argument("run_dir", help="a finished run directory")
    args = parser.parse_args(argv)
    from mlexp.doctor.run_report import regenerate

    _logging()
    findings = regenerate(args.run_dir)
    print(f"Report: {args.run_dir}/report.md ({len(findings)} finding(s))")
    return 0


def _predict(argv: list[str]) -> int:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="mlexp predict",
        description="Predict with a finished run's model (Keras safe mode) on .npy/.npz arrays or image files, "
        "with the run's own preprocessing; prints the top-k classes and writes them to a CSV.",
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument(
        "inputs", nargs="*", type=Path, help=".npy, .npz (array x), PNG/JPG files, or a CSV for a table's run"
    )
    parser.add_argument("--from-test", metavar="START:STOP", help="predict samples of the run's own test split")
    parser.add_argument("--top-k", type=int, default=3)
    parser.add_argument("--out", type=Path, help="CSV path (default: RUN/predictions/predictions-TIME.csv)")
    args = parser.parse_args(argv)
    if args.top_k < 1:
        raise MlexpError(f"--top-k: got {args.top_k}; expected an integer >= 1")
    if bool(args.inputs) == bool(args.from_test):
        raise MlexpError("predict: got " + ("both input files and --from-test" if args.inputs else "no input")
                         + "; expected input files, or --from-test START:STOP")  # fmt: skip
    from mlexp.predict import predict

    table, out = predict(args.run_dir, args.inputs, args.top_k, args.out, args.from_test)
    print(table.to_string(index=False))
    print(f"Predictions: {out}")
    return 0


def _export(argv: list[str]) -> int:
    import argparse
    from pathlib import Path

    from mlexp.predict import FORMATS

    parser = argparse.ArgumentParser(
        prog="mlexp export", description="Write a finished run's model for serving, with its config and metrics."
    )
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--format", default="keras", help=f"one of {', '.join(FORMATS)} (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="folder (default: RUN_DIR/export/FORMAT)")
    args = parser.parse_args(argv)
    from mlexp.predict import export

    target = export(args.run_dir, args.format, args.out or args.run_dir / "export" / args.format)
    print(f"Exported: {target}")
    return 0


def _init(argv: list[str]) -> int:
    import argparse

    from mlexp.init_project import init

    parser = argparse.ArgumentParser(
        prog="mlexp init", description="Write a small working project: your own model, dataset, callback, "
        "experiment and search space, chosen from YAML by _target_ beside mlexp's components.",
    )  # fmt: skip
    parser.add_argument("folder", type=Path, help="a new or empty folder")
    args = parser.parse_args(argv)
    written = init(args.folder)
    print("\n".join(str(p) for p in written))
    print(f"Try it: cd {args.folder} && mlexp train experiment=example  (README.md says more)")
    return 0


VERBS: dict[str, Verb] = {
    "train": Verb("compose, validate, train, evaluate and save a run (Hydra overrides, -m, --cfg)", _train),
    "tune": Verb("search hyper-parameters with keras-tuner over a conf/search_space/ space; trials are runs", _tune),
    "compare": Verb("compare run or sweep directories: summary.csv, comparison.md, plots", _compare),
    "explain": Verb("what differs between two runs (or two configs of sweeps) and whether it matters", _explain),
    "check": Verb("validate a config, build the model and run the pre-flight checks, without training", _check),
    "data": Verb("look at a dataset: splits, class counts, value ranges, sample and augmented images", _data),
    "lr-find": Verb("the learning-rate range test: loss against an exponentially growing rate, a suggestion", _lr_find),
    "report": Verb("regenerate a finished run's diagnosis, debug figures and report.md", _report),
    "predict": Verb("predict with a finished run's model on arrays, images, tables or texts (CSV)", _predict),
    "export": Verb("write a finished run's model as keras, savedmodel or tflite, with its config", _export),
    "rerun": Verb("run a past run again from its saved config and verify the result is identical", _rerun),
    "resume": Verb("continue an interrupted run, or the unfinished jobs of a sweep", _resume),
    "init": Verb("write a small example project with its own model, dataset and callback", _init),
    "import": Verb(
        "turn a Keras notebook or script into experiments, sweeps and a report, without running it", _import
    ),
}

USAGE = """usage: mlexp VERB [ARGS...]

Config-driven Keras experiments.

verbs:
{verbs}

Run `mlexp VERB --help` for a verb's options. Start with `mlexp train` (digits, an MLP, adam: a minute on a laptop)
or `mlexp init my_project` for a project of your own.
"""


def usage() -> str:
    width = max(map(len, VERBS))
    lines = "\n".join(f"  {name:<{width}}  {verb.summary}" for name, verb in VERBS.items())
    return USAGE.format(verbs=lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage(), end="")
        return 0 if argv else 2
    if argv[0] == "--version":
        print(f"mlexp {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in VERBS:
        hint = closest(name, VERBS)
        known = ", ".join(VERBS)
        print(
            f"mlexp: unknown verb {name!r}; expected one of {known}." + (f" Did you mean {hint!r}?" if hint else ""),
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return VERBS[name].run(rest)
    except MlexpError as exc:
        return report(f"mlexp {name}", exc)
    except KeyboardInterrupt:
        print(f"mlexp {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `mlexp ... | head`: the reader left; nothing went wrong here
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141
    except OSError as exc:  # no space, no permission, a path that is a file: the user's to fix
        saved = save_traceback(name, exc)
        print(f"mlexp {name}: {describe_os_error(exc)} (details: {saved})", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug: one line on the terminal, the traceback in a file
        saved = save_traceback(name, exc)
        print(
            f"mlexp {name}: unexpected error {type(exc).__name__}: {first_line(exc)} "
            f"(traceback saved in {saved}; please report it with that file)",
            file=sys.stderr,
        )
        return 1


def console() -> None:
    """The `mlexp` executable: main, then the process ends without TensorFlow's teardown."""
    from mlexp.tf_runtime import exit_without_teardown

    raise SystemExit(exit_without_teardown(main()))
