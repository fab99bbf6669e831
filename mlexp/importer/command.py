"""The verb: arguments, read, plan, write, print. (The package `__init__` imports nothing, so that the
importer's modules may import each other through the package.)"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlexp.errors import MlexpError

NOTHING = 2  # exit status: the file holds no Keras training code


class NoTrainingCode(MlexpError):
    exit_code = NOTHING


def main(argv: list[str]) -> int:
    from mlexp.importer import plan as planning
    from mlexp.importer import report, writer
    from mlexp.importer.reader import Reader
    from mlexp.importer.source import read

    parser = argparse.ArgumentParser(
        prog="mlexp import",
        description="Turn a Keras notebook (.ipynb, or its text) or script (.py) into mlexp experiments: "
        "configs for its data, models, compile and fit, sweeps for its comparisons, and a report of every line.",
    )
    parser.add_argument("path", type=Path, help="the notebook or script")
    parser.add_argument("--name", help="the experiments' name prefix (default: the file's name)")
    parser.add_argument("--into", type=Path, default=Path("conf"), help="the project's config folder (default: conf)")
    parser.add_argument("--force", action="store_true", help="overwrite files of an earlier import")
    args = parser.parse_args(argv)
    name = planning.identifier(args.name or args.path.stem)
    reader = Reader(read(args.path)).read()
    if not reader.trainings and not reader.models and not reader.searches:
        raise NoTrainingCode(f"mlexp import: {args.path} holds no Keras training code (no model built, compiled "
                             "or fitted); nothing was written")  # fmt: skip
    made = planning.plan(name, reader)
    out = writer.files(made, args.into, reader)
    report_path = args.into / f"import_{name}.md"
    out[report_path] = report.markdown(made, args.path, reader, list(out))
    writer.write(out, args.force)
    print(report.summary(made, reader, report_path))
    return 0
