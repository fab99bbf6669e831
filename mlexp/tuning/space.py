"""Search spaces from YAML (conf/search_space/): parsed and checked without TensorFlow, then declared to
keras-tuner (declare) or suggested to Optuna through hydra-optuna-sweeper (suggest).

Each entry of `parameters` is a dotted key of the run config and one of:
  {choice: [v1, v2, ...]}
  {int: {min: A, max: B, step: S}}            step defaults to 1
  {float: {min: A, max: B, step: S, log: L}}  step and log optional (log: true samples on a log scale)
  {list: {length: N | {int: {...}}, item: SPEC}}  a list of N items, each searched with SPEC; with a
                                                  searched length, item i exists only when length > i
  {list: {items: [SPEC0, SPEC1, ...]}}        a fixed-length list, one SPEC per position
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from mlexp.errors import ConfigError, closest

KINDS = ("choice", "int", "float", "list")


@dataclass(frozen=True)
class Scalar:
    name: str  # the hyper-parameter's name: the dotted key, or key.N for a list position
    kind: str
    values: tuple = ()  # choice
    low: float = 0
    high: float = 0
    step: float | None = None
    log: bool = False

    def declare(self, hp):
        if self.kind == "choice":
            return hp.Choice(self.name, list(self.values))
        if self.kind == "int":
            return hp.Int(self.name, int(self.low), int(self.high), step=int(self.step or 1))
        sampling = "log" if self.log else "linear"
        return hp.Float(self.name, self.low, self.high, step=self.step, sampling=sampling)

    def grid(self) -> list:
        """Every value, for the Optuna translation of lists (which Optuna cannot sample as lists)."""
        if self.kind == "choice":
            return list(self.values)
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        if self.step is None:
            raise ConfigError(self.name, "a float without step inside a list", "a step, or choice/int items")
        count = int(round((self.high - self.low) / self.step))
        return [round(self.low + i * self.step, 10) for i in range(count + 1)]

    def suggest(self, trial):
        """The Optuna equivalent of declare(): one value for this trial."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.values))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1))
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)


@dataclass(frozen=True)
class ListParam:
    key: str
    length: Scalar | int
    items: tuple[Scalar, ...]  # one per position (the same SPEC repeated when given as `item`)

    def declare(self, hp):
        if isinstance(self.length, int):
            for item in self.items:
                item.declare(hp)
            return
        low, high = int(self.length.low), int(self.length.high)
        self.length.declare(hp)
        for i, item in enumerate(self.items):
            if i < low:
                item.declare(hp)
            else:  # exists only for lengths that reach it: keras-tuner does not sample it otherwise
                with hp.conditional_scope(self.length.name, list(range(i + 1, high + 1))):
                    item.declare(hp)

    def value(self, values: dict[str, Any]) -> list:
        n = self.length if isinstance(self.length, int) else int(values[self.length.name])
        return [values[item.name] for item in self.items[:n]]

    def names(self) -> list[str]:
        return ([] if isinstance(self.length, int) else [self.length.name]) + [i.name for i in self.items]

    def options(self, limit: int = 500) -> list[str]:
        """Every list the space allows, as override text: Optuna samples a list as one categorical value."""
        lengths = [self.length] if isinstance(self.length, int) else self.length.grid()
        options = [list(combo) for n in lengths for combo in itertools.product(*(i.grid() for i in self.items[:n]))]
        if len(options) > limit:
            raise ConfigError(
                f"search_space.parameters.{self.key}", f"a list space of {len(options)} lists",
                f"at most {limit} lists for the Optuna sweeper (it samples a list as one choice); narrow the ranges",
            )  # fmt: skip
        return [_literal(o) for o in options]

    def suggest(self, trial):
        return trial.suggest_categorical(self.key, self.options())


@dataclass(frozen=True)
class SearchSpace:
    name: str
    objective: str
    params: tuple[Scalar | ListParam, ...]

    @property
    def keys(self) -> list[str]:
        return [p.name if isinstance(p, Scalar) else p.key for p in self.params]

    def declare(self, hp) -> None:
        for param in self.params:
            param.declare(hp)

    def values_of(self, hp) -> dict[str, Any]:
        """Dotted config key -> value for a keras-tuner HyperParameters (inactive list positions left out)."""
        names = [n for p in self.params for n in (p.names() if isinstance(p, ListParam) else [p.name])]
        return self.config_values({n: hp.get(n) for n in names if hp.is_active(n)})

    def config_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Dotted config key -> value for one trial, lists assembled from their positions."""
        return {
            key: (param.value(values) if isinstance(param, ListParam) else values[param.name])
            for key, param in zip(self.keys, self.params, strict=True)
        }


def parse(node: DictConfig, run_cfg: DictConfig | None = None) -> SearchSpace:
    """The search space in `node` (the search_space group), checked against the run config's keys."""
    plain = OmegaConf.to_container(node, resolve=True)
    where = "search_space"
    for key in ("name", "objective", "parameters"):
        if key not in plain:
            raise ConfigError(f"{where}.{key}", None, "a value (see conf/search_space/*.yaml)")
    unknown = set(plain) - {"name", "objective", "parameters"}
    if unknown:
        raise ConfigError(f"{where}", sorted(unknown)[0], "only the keys name, objective, parameters")
    parameters = plain["parameters"]
    if not isinstance(parameters, dict) or not parameters:
        raise ConfigError(f"{where}.parameters", parameters, "a mapping of dotted config keys to search specs")
    params = []
    for key, spec in parameters.items():
        if run_cfg is not None:
            _check_key(key, run_cfg, spec)
        params.append(_param(key, spec))
    return SearchSpace(plain["name"], plain["objective"], tuple(params))


def _check_key(key: str, run_cfg: DictConfig, spec) -> None:
    missing = object()
    current = OmegaConf.select(run_cfg, key, default=missing)
    if current is missing:
        parent, _, leaf = key.rpartition(".")
        node = OmegaConf.select(run_cfg, parent) if parent else run_cfg
        known = [f"{parent}.{k}" if parent else str(k) for k in node] if isinstance(node, DictConfig) else []
        raise ConfigError(
            "search_space.parameters", key,
            f"keys of the run config{' (' + parent + ': ' + ', '.join(known) + ')' if known else ''}",
            closest(key, known),
        )  # fmt: skip
    is_list_spec = isinstance(spec, dict) and "list" in spec
    if is_list_spec != isinstance(current, ListConfig):
        want = "a list spec ({list: ...})" if isinstance(current, ListConfig) else "choice, int or float"
        raise ConfigError(f"search_space.parameters.{key}", spec, f"{want}: {key} is {OmegaConf.to_yaml(current)!r}")


def _param(key: str, spec) -> Scalar | ListParam:
    where = f"search_space.parameters.{key}"
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
        raise ConfigError(where, spec, "one of {choice: [...]}, {int: {...}}, {float: {...}}, {list: {...}}")
    kind, body = next(iter(spec.items()))
    if kind != "list":
        return _scalar(key, kind, body, where)
    if not isinstance(body, dict):
        raise ConfigError(where, spec, "list: {length: ..., item: SPEC} or list: {items: [SPEC, ...]}")
    if "items" in body and set(body) == {"items"} and isinstance(body["items"], list) and body["items"]:
        items = tuple(_item(key, i, s, where) for i, s in enumerate(body["items"]))
        return ListParam(key, len(items), items)
    if set(body) != {"length", "item"}:
        raise ConfigError(where, spec, "list: {length: ..., item: SPEC} or list: {items: [SPEC, ...]}")
    length = body["length"]
    if isinstance(length, int) and length >= 1:
        return ListParam(key, length, tuple(_item(key, i, body["item"], where) for i in range(length)))
    if not (isinstance(length, dict) and list(length) == ["int"]):
        raise ConfigError(f"{where}.length", length, "an integer >= 1 or {int: {min: A, max: B}}")
    n = _scalar(f"{key}.length", "int", length["int"], f"{where}.length")
    if n.low < 1 or n.step not in (None, 1):
        raise ConfigError(f"{where}.length", length, "{int: {min: A, max: B}} with 1 <= A <= B and step 1")
    return ListParam(key, n, tuple(_item(key, i, body["item"], where) for i in range(int(n.high))))


def _item(key: str, i: int, spec, where: str) -> Scalar:
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ("choice", "int", "float"):
        raise ConfigError(f"{where}.item", spec, "{choice: [...]}, {int: {...}} or {float: {...}}")
    kind, body = next(iter(spec.items()))
    return _scalar(f"{key}.{i}", kind, body, f"{where}.item")


def _scalar(name: str, kind: str, body, where: str) -> Scalar:
    if kind == "choice":
        if not isinstance(body, list) or not body:
            raise ConfigError(f"{where}.choice", body, "a non-empty list of values")
        if any(isinstance(v, (list, dict)) for v in body):
            raise ConfigError(
                f"{where}.choice", body, "plain values (numbers, strings, booleans); search lists with list:"
            )
        return Scalar(name, "choice", tuple(body))
    allowed = {"int": {"min", "max", "step"}, "float": {"min", "max", "step", "log"}}[kind]
    if not isinstance(body, dict) or not {"min", "max"} <= set(body) or set(body) - allowed:
        raise ConfigError(
            f"{where}.{kind}",
            body,
            f"a mapping with min and max (optional: {', '.join(sorted(allowed - {'min', 'max'}))})",
        )
    low, high, step, log = body["min"], body["max"], body.get("step"), bool(body.get("log", False))
    number = int if kind == "int" else (int, float)
    if not all(isinstance(v, number) and not isinstance(v, bool) for v in (low, high)) or low > high:
        raise ConfigError(f"{where}.{kind}", body, f"{kind} bounds with min <= max")
    if step is not None and (not isinstance(step, number) or isinstance(step, bool) or step <= 0):
        raise ConfigError(f"{where}.{kind}.step", step, "a positive number")
    if log and (low <= 0 or step is not None):
        raise ConfigError(f"{where}.{kind}", body, "log: true with min > 0 and no step")
    return Scalar(name, kind, low=low, high=high, step=step, log=log)


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
