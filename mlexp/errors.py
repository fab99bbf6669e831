"""The errors mlexp reports to users: a short message and an exit code, never a traceback."""

from __future__ import annotations

import difflib
import errno
from collections.abc import Iterable
from typing import Any


class MlexpError(ValueError):
    """An error caused by the user's input or environment; the CLI prints it and exits."""

    exit_code = 1


class ConfigError(MlexpError):
    """A config value that is missing, unknown, of the wrong type or out of range."""

    exit_code = 2

    def __init__(self, key: str, value: Any, expected: str, suggestion: str | None = None):
        self.key, self.value, self.expected, self.suggestion = key, value, expected, suggestion
        message = f"Config error at {key}: got {show(value)}; expected {expected}."
        if suggestion is not None:
            message += f" Did you mean {suggestion!r}?"
        super().__init__(message)


class RunFailed(MlexpError):
    """Training raised; the run directory holds the traceback."""


class Interrupted(MlexpError):
    """Training was stopped by SIGINT or SIGTERM; the run can be resumed."""

    exit_code = 130


class SweepFailed(MlexpError):
    """Some jobs of a sweep failed: the others ran, and the sweep's report says which and why."""

    def __init__(self, lines: list[str]):
        self.lines = lines  # one printed line each: the failed jobs, then the count and the report
        super().__init__("\n".join(lines))


class Carried(BaseException):  # noqa: N818 (a carrier, not an error class)
    """An MlexpError carried through Hydra to hydra_app.run_hydra, which raises the error itself. Hydra
    catches Exceptions where mlexp's errors arise: its callback runner turns them into warnings, and its
    job runner prints "Error executing job with overrides: ..." before re-raising a task's."""

    def __init__(self, error: MlexpError):
        super().__init__(str(error))
        self.error = error


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived during training: stop after the current batch."""


def show(value: Any) -> str:
    """A config value as the user would type it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    return str(value)


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name the user most likely meant: a case-insensitive match first, else the closest spelling."""
    known = [str(k) for k in known]
    folded = {k.lower(): k for k in known}
    if str(word).lower() in folded:
        return folded[str(word).lower()]
    matches = difflib.get_close_matches(str(word), known, n=1, cutoff=0.6)
    return matches[0] if matches else None


def first_line(exc: BaseException) -> str:
    """An exception's message, first line only (Keras and OmegaConf messages run over several)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_OS_HINTS = {
    errno.ENOSPC: "free some space, or write to another disk",
    errno.EDQUOT: "free some space, or write to another disk",
    errno.EACCES: "check the permissions, or write somewhere else",
    errno.EPERM: "check the permissions, or write somewhere else",
    errno.EROFS: "write somewhere else",
    errno.ENOENT: "check the path",
    errno.ENOTDIR: "a part of the path is a file; give a folder path",
    errno.EISDIR: "give a file, not a folder",
    errno.EEXIST: "give a path that does not exist yet",
}


def describe_os_error(exc: OSError) -> str:
    """An OSError as one line: what failed, on which file, and what to do."""
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None) or "(unknown file)"
    what = exc.strerror or str(exc) or type(exc).__name__
    hint = _OS_HINTS.get(exc.errno)
    return f"{what}: {where}" + (f"; {hint}" if hint else "")


def save_traceback(prog: str, exc: BaseException) -> str:
    """Write the traceback to a file under the temp folder; return its path (or why it could not be written)."""
    import tempfile
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        fd, path = tempfile.mkstemp(prefix=f"mlexp-{prog}-", suffix=".log")
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        return f"not saved: {err.strerror or err}"
    return path


def report(prog: str, exc: MlexpError) -> int:
    """Print a user error the one way mlexp prints them; return its exit code."""
    import sys

    verb = prog.split()[-1]
    for line in getattr(exc, "lines", None) or [str(exc)]:
        text = line.removeprefix(f"{verb}: ")  # messages written for any caller often name the verb already
        print(f"{prog}: {text}", file=sys.stderr)
    return exc.exit_code
