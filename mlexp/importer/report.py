"""The import report: what every code line became or why it was not imported, and the commands to run."""

from __future__ import annotations

from pathlib import Path

from mlexp.importer.plan import Plan


def commands(plan: Plan) -> list[str]:
    lines = []
    for experiment in plan.experiments:
        if experiment.space:
            lines.append(f"mlexp tune experiment={experiment.name} search_space={experiment.name}")
    for sweep in plan.sweeps:
        lines.append(f"mlexp train -m sweep={sweep.name}   # experiment={','.join(sweep.experiments)}")
    swept = {name for sweep in plan.sweeps for name in sweep.experiments}
    for experiment in plan.experiments:
        if experiment.name not in swept and not experiment.space:
            lines.append(f"mlexp train experiment={experiment.name}")
    return lines


def markdown(plan: Plan, source: Path, reader, written: list[Path]) -> str:
    out = [f"# mlexp import of {source.name}", "", "## Run", "", "```", *commands(plan), "```", ""]
    out += ["## Files", "", *[f"- `{p}`" for p in written], ""]
    out += ["## Experiments", ""]
    for experiment in plan.experiments:
        state = "" if experiment.trained else " (defined, never trained in the notebook)"
        out.append(f"### {experiment.name}{state}")
        out.append(f"From {experiment.where}.")
        out += [f"- approximation: {a}" for a in experiment.approximations]
        out += [f"- **edit before running**: {m}" for m in experiment.manual]
        out.append("")
    for sweep in plan.sweeps:
        out.append(f"### Comparison {sweep.name}: {', '.join(sweep.experiments)}")
        out.append(f"What differs: {', '.join(sweep.varied)}")
        out.append("")
    out += ["## Line by line", "", "| where | code | imported | as / why not |", "| --- | --- | --- | --- |"]
    for note in reader.notes:
        out.append(f"| {note.where} | `{_code(note.code)}` | {'yes' if note.imported else 'no'} | {_cell(note.what)} |")
    out += ["", *_other_lines(reader)]
    return "\n".join(out) + "\n"


def _code(text: str, width: int = 60) -> str:
    line = " ".join(text.split())
    return _cell(line if len(line) <= width else line[: width - 3] + "...").replace("`", "'")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _other_lines(reader) -> list[str]:
    out = []
    for cell in reader.cells:
        if cell.shell:
            out.append(f"- cell {cell.number}: {len(cell.shell)} shell or magic line(s) (`!pip`, `%matplotlib`): "
                       "not imported; mlexp's own install covers its needs")  # fmt: skip
    prose = sum(len(c.prose) for c in reader.cells)
    if prose:
        out.append(f"- {prose} line(s) of prose or program output between the code: not code, not imported")
    return out


def summary(plan: Plan, reader, report_path: Path) -> str:
    imported = sum(1 for n in reader.notes if n.imported)
    lines = [f"Imported {len(plan.experiments)} experiment(s), {len(plan.sweeps)} comparison(s); "
             f"{imported} of {len(reader.notes)} statements imported, the others named in {report_path}"]  # fmt: skip
    for experiment in plan.experiments:
        for item in experiment.manual:
            lines.append(f"  edit {experiment.name}: {item}")
    lines += ["Run:", *[f"  {c}" for c in commands(plan)]]
    return "\n".join(lines)
