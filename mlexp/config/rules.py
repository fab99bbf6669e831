"""Small value rules for config checking: each knows what it accepts, in words."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mlexp.errors import ConfigError, closest


@dataclass(frozen=True)
class Rule:
    expected: str
    test: Callable[[Any], bool]

    def check(self, key: str, value: Any) -> None:
        if not self.test(value):
            raise ConfigError(key, value, self.expected)


@dataclass(frozen=True)
class Choice(Rule):
    """A name from a fixed list; a miss suggests the closest name."""

    options: tuple = ()
    reasons: tuple = ()  # (value, why it is left out) for values a user may expect among the options

    def check(self, key: str, value: Any) -> None:
        why = dict(self.reasons).get(value) if isinstance(value, str) else None
        if why is not None:
            raise ConfigError(key, value, f"{self.expected} ({value} is not among them: {why})")
        if value not in self.options:
            hint = closest(value, [str(o) for o in self.options]) if isinstance(value, str) else None
            raise ConfigError(key, value, self.expected, hint)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _bounds_text(lo, hi, lo_open, hi_open) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi}"
    return ""


def number(lo=None, hi=None, *, lo_open=False, hi_open=False, integer=False) -> Rule:
    def test(v):
        if not _is_number(v) or (integer and not isinstance(v, int)):
            return False
        if lo is not None and (v <= lo if lo_open else v < lo):
            return False
        return not (hi is not None and (v >= hi if hi_open else v > hi))

    kind = "an integer" if integer else "a number"
    return Rule(f"{kind} {_bounds_text(lo, hi, lo_open, hi_open)}".strip(), test)


def integer(lo=None, hi=None) -> Rule:
    return number(lo, hi, integer=True)


def boolean() -> Rule:
    return Rule("true or false", lambda v: isinstance(v, bool))


def choice(options: Iterable, what: str = "one of", reasons: dict[str, str] | None = None) -> Choice:
    """One of `options`; `reasons` says why a value people try is not one of them."""
    options = tuple(options)
    names = ", ".join(str(o) for o in options)
    return Choice(f"{what} {names}", lambda v: v in options, options, tuple((reasons or {}).items()))


def optional(rule: Rule) -> Rule:
    if isinstance(rule, Mapping):
        return Mapping(f"{rule.expected} or null", lambda v: v is None or rule.test(v), rule.rules, nullable=True)
    if isinstance(rule, Choice):
        return Choice(f"{rule.expected} or null", rule.test, rule.options + (None,))
    return Rule(f"{rule.expected} or null", lambda v: v is None or rule.test(v))


def int_list(lo: int = 1, min_len: int = 1) -> Rule:
    def test(v):
        return isinstance(v, list) and len(v) >= min_len and all(integer(lo).test(x) for x in v)

    size = "a non-empty list" if min_len else "a list"
    return Rule(f"{size} of integers >= {lo}, e.g. [128, 64]", test)


def int_tuple(length: int, lo: int = 1) -> Rule:
    def test(v):
        return isinstance(v, list) and len(v) == length and all(integer(lo).test(x) for x in v)

    return Rule(f"a list of {length} integers >= {lo}", test)


def size_2d(lo: int = 1) -> Rule:
    """An image size as Keras takes it: one integer (a square) or [height, width]."""

    square, pair = integer(lo), int_tuple(2, lo)
    return Rule(f"an integer >= {lo}, or [height, width]", lambda v: square.test(v) or pair.test(v))


def string() -> Rule:
    return Rule("a non-empty string", lambda v: isinstance(v, str) and v != "")


def string_list() -> Rule:
    return Rule(
        "a non-empty list of strings", lambda v: isinstance(v, list) and v and all(isinstance(s, str) for s in v)
    )


def number_list(lo=None, hi=None, *, hi_open=False) -> Rule:
    item = number(lo, hi, hi_open=hi_open)

    def test(v):
        return isinstance(v, list) and all(item.test(x) for x in v)

    return Rule(f"a list of numbers {item.expected.removeprefix('a number ')}", test)


@dataclass(frozen=True)
class Mapping(Rule):
    """A nested section (model.fine_tune): each key checked by its own rule, unknown keys named."""

    rules: dict = None
    nullable: bool = False

    def check(self, key: str, value: Any) -> None:
        if value is None and self.nullable:
            return
        if not isinstance(value, dict):
            raise ConfigError(key, value, self.expected)
        for name in value:
            if name not in self.rules:
                raise ConfigError(f"{key}.{name}", value[name], f"a key of {key}: {', '.join(self.rules)}",
                                  closest(name, list(self.rules)))  # fmt: skip
        for name, rule in self.rules.items():
            if name in value:
                rule.check(f"{key}.{name}", value[name])


def mapping(rules: dict[str, Rule]) -> Mapping:
    return Mapping(f"a mapping with {', '.join(rules)}", lambda v: isinstance(v, dict), rules)
