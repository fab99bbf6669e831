"""The errors mlexp reports to users: a short message and an exit code, never a traceback."""

from __future__ import annotations

import difflib
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
    matches = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def report(prog: str, exc: MlexpError) -> int:
    """Print a user error the one way mlexp prints them; return its exit code."""
    import sys

    print(f"{prog}: {exc}", file=sys.stderr)
    return exc.exit_code
