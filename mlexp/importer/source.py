"""A notebook or script as code cells, read without running anything.

Accepted: `.ipynb` JSON, `.py` (jupytext `# %%` cells too), and notebook text: code in `In [ ]:` blocks,
in fenced blocks, or lines of code between lines of prose. Prose and program output inside a block are
found by the parser: a line that makes the block unparseable is prose, blanked and counted.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from mlexp.errors import MlexpError

IN_MARKER = re.compile(r"^\s*In\s*\[[^\]]*\]:\s?")
FENCE = re.compile(r"^\s*```\s*([\w+-]*)")
PERCENT_CELL = re.compile(r"^# %%")
SHELL = re.compile(r"^\s*[!%]")


@dataclass
class Cell:
    number: int  # 1-based, in the order read
    start: int  # the file's line number of the cell's first line (1 for each .ipynb cell: lines count per cell)
    lines: list[str]
    prose: list[int] = field(default_factory=list)  # cell line numbers (1-based) that are not code
    shell: list[int] = field(default_factory=list)  # `!pip ...`, `%matplotlib ...`
    tree: ast.Module | None = None

    def where(self, lineno: int, end: int | None = None) -> str:
        first = self.start + lineno - 1
        last = self.start + (end or lineno) - 1
        span = f"line {first}" if first == last else f"lines {first}-{last}"
        return f"cell {self.number}, {span}" if self.start == 1 else span


def read(path: Path) -> list[Cell]:
    """The code cells of `path`, each parsed (prose and shell lines blanked)."""
    if not path.is_file():
        raise MlexpError(
            f"mlexp import: PATH: got {str(path)!r}, which is not a file; expected a .ipynb, .py or notebook text"
        )
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise MlexpError(f"mlexp import: PATH: cannot read {path}: {exc.strerror}") from None
    cells = _cells(path, text)
    for cell in cells:
        _parse(cell)
    return cells


def _cells(path: Path, text: str) -> list[Cell]:
    if path.suffix == ".ipynb" or text.lstrip().startswith("{"):
        cells = _notebook_json(path, text)
        if cells is not None:
            return cells
    lines = text.splitlines()
    if path.suffix == ".py":
        return _split(lines, lambda line: bool(PERCENT_CELL.match(line)))
    if any(IN_MARKER.match(line) for line in lines):
        return _in_blocks(lines)
    if any(FENCE.match(line) for line in lines):
        return _fenced(lines)
    return [Cell(1, 1, lines)]  # prose and code mixed line by line: the parser tells them apart


def _notebook_json(path: Path, text: str) -> list[Cell] | None:
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError:
        if path.suffix == ".ipynb":
            raise MlexpError(f"mlexp import: PATH: {path} is not notebook JSON (a .ipynb file)") from None
        return None
    cells = []
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            cells.append(Cell(len(cells) + 1, 1, source.splitlines()))
    return cells


def _split(lines: list[str], starts) -> list[Cell]:
    cells, current, first = [], [], 1
    for number, line in enumerate(lines, 1):
        if starts(line) and current:
            cells.append(Cell(len(cells) + 1, first, current))
            current, first = [], number
        current.append(line)
    if current:
        cells.append(Cell(len(cells) + 1, first, current))
    return cells


def _in_blocks(lines: list[str]) -> list[Cell]:
    """`In [3]: code` opens a cell that runs to the next marker; the prose after its code is found by parsing."""
    cells, current, first = [], None, 0
    for number, line in enumerate(lines, 1):
        marker = IN_MARKER.match(line)
        if marker:
            if current is not None:
                cells.append(Cell(len(cells) + 1, first, current))
            current, first = [line[marker.end() :]], number
        elif current is not None:
            current.append(line)
    if current is not None:
        cells.append(Cell(len(cells) + 1, first, current))
    return cells


def _fenced(lines: list[str]) -> list[Cell]:
    """Fenced blocks whose language is Python (or unnamed); shell and other languages are not code here."""
    cells, current, first, language = [], None, 0, ""
    for number, line in enumerate(lines, 1):
        fence = FENCE.match(line)
        if fence and current is None:
            current, first, language = [], number + 1, fence.group(1).lower()
        elif fence:
            if language in ("", "python", "py", "python3", "ipython"):
                cells.append(Cell(len(cells) + 1, first, current))
            current = None
        elif current is not None:
            current.append(line)
    return cells


def _parse(cell: Cell) -> None:
    """Blank shell lines, then each line the parser stops at, until the cell parses."""
    lines = list(cell.lines)
    for i, line in enumerate(lines):
        if SHELL.match(line):
            cell.shell.append(i + 1)
            lines[i] = ""
    dedented: set[int] = set()
    for _ in range(2 * len(lines) + 1):
        try:
            cell.tree = ast.parse("\n".join(lines))
            return
        except (SyntaxError, ValueError) as exc:
            lineno = getattr(exc, "lineno", None)
            if isinstance(exc, IndentationError) and lineno not in dedented and _dedent_run(lines, lineno):
                dedented.add(lineno)  # text laid out from a PDF or a pasted prompt: `In [1]: x = 1` then indented lines
                continue
            bad = _culprit(lines, lineno)
            if bad is None:
                break
            cell.prose.append(bad + 1)
            lines[bad] = ""
    cell.tree = ast.Module(body=[], type_ignores=[])


def _culprit(lines: list[str], lineno: int | None) -> int | None:
    """The index of the line to blank: the reported one, else the last line with text."""
    if lineno is not None and 1 <= lineno <= len(lines) and lines[lineno - 1].strip():
        return lineno - 1
    for i in range((lineno or len(lines)) - 1, -1, -1):
        if i < len(lines) and lines[i].strip():
            return i
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _dedent_run(lines: list[str], lineno: int | None) -> bool:
    """Shift the run of lines from `lineno` left to the previous code line's indent, unless that line opens a block."""
    if lineno is None or not 2 <= lineno <= len(lines):
        return False
    at = lineno - 1
    previous = next((lines[i] for i in range(at - 1, -1, -1) if lines[i].strip()), None)
    if previous is None or previous.rstrip().endswith((":", "\\")) or _indent(lines[at]) <= _indent(previous):
        return False
    shift, start = _indent(lines[at]) - _indent(previous), _indent(lines[at])
    for i in range(at, len(lines)):
        if lines[i].strip() and _indent(lines[i]) < start:
            break
        lines[i] = lines[i][shift:] if lines[i].strip() else lines[i]
    return True
