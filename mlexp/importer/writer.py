"""Write an import: experiment, model, sweep and search-space YAML, the project's code module, the report."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from mlexp.errors import MlexpError
from mlexp.importer import code
from mlexp.importer.mapping import Experiment
from mlexp.importer.plan import Plan
from mlexp.importer.values import Hyper


def files(plan: Plan, into: Path, reader) -> dict[Path, str]:
    """Every file of the import, by path, before anything is written."""
    out: dict[Path, str] = {}
    module = code.module(plan, reader)
    if module:
        out[into.parent / f"{plan.name}_code.py"] = module
    for experiment in plan.experiments:
        if any(kind == "model" for kind, _ in experiment.code):
            model = dict(experiment.config["model"], _target_=f"{plan.name}_code.{experiment.name}")
            out[into / "model" / f"{experiment.name}.yaml"] = _yaml(model, f"The model of {experiment.name}, "
                                                                    "its code copied from the notebook")  # fmt: skip
            experiment.config["defaults"]["model"] = experiment.name
            del experiment.config["model"]
        for kind, item in experiment.code:
            if kind == "callback":
                entry = experiment.config["callbacks"][item.cls.lower()]
                entry["_target_"] = f"{plan.name}_code.{item.cls}"
        out[into / "experiment" / f"{experiment.name}.yaml"] = experiment_yaml(experiment, plan)
        if experiment.space:
            out[into / "search_space" / f"{experiment.name}.yaml"] = space_yaml(experiment)
    for sweep in plan.sweeps:
        body = {"hydra": {"sweeper": {"params": {"experiment": ",".join(sweep.experiments)}}}}
        out[into / "sweep" / f"{sweep.name}.yaml"] = "# @package _global_\n" + _yaml(
            body, f"The notebook's comparison: {', '.join(sweep.varied) or 'its experiments'}"
        )
    return out


def write(out: dict[Path, str], force: bool) -> None:
    existing = [p for p in out if p.exists()]
    if existing and not force:
        raise MlexpError(
            f"mlexp import: {existing[0]} exists ({len(existing)} file(s) of this import do); nothing was written. "
            "Add --force to overwrite, or --name to import under a new name"
        )
    for path, text in out.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(path)
        except OSError as exc:
            raise MlexpError(f"mlexp import: --into: cannot write {path}: {exc.strerror or exc}") from None


def experiment_yaml(experiment: Experiment, plan: Plan) -> str:
    config = {k: v for k, v in experiment.config.items() if k not in ("defaults", "_loop")}
    defaults = [{f"override /{group}": choice} for group, choice in experiment.config["defaults"].items() if choice]
    if plan.seed is not None:
        config["seed"] = plan.seed
    header = [f"Imported by `mlexp import` from {experiment.where}"]
    header += [f"approximation: {a}" for a in experiment.approximations]
    header += [f"EDIT before running: {m}" for m in experiment.manual]
    return "# @package _global_\n" + _yaml({"defaults": defaults, **config}, "\n".join(header))


def space_yaml(experiment: Experiment) -> str:
    parameters = {key: _hyper(value) for key, value in experiment.space.items()}
    body = {"name": experiment.name, "objective": "val_accuracy", "parameters": parameters}
    return _yaml(body, f"The keras-tuner space of {experiment.where}: mlexp tune experiment={experiment.name} "
                       f"search_space={experiment.name}")  # fmt: skip


def _hyper(value: Hyper) -> dict[str, Any]:
    args = value.args
    if value.kind == "Int":
        return {"int": {"min": args.get("min_value"), "max": args.get("max_value"), "step": args.get("step", 1)}}
    if value.kind == "Float":
        spec = {"min": args.get("min_value"), "max": args.get("max_value")}
        if args.get("sampling") == "log":
            spec["log"] = True
        elif args.get("step") is not None:
            spec["step"] = args["step"]
        return {"float": spec}
    if value.kind == "Choice":
        return {"choice": list(args.get("values") or [])}
    if value.kind == "Boolean":
        return {"choice": [False, True]}
    return {"choice": [args.get("value")]}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, ast.AST):
        return ast.unparse(value)
    return str(value)


def _yaml(body: dict, comment: str) -> str:
    from omegaconf import OmegaConf

    lines = "".join(f"# {line}\n" for line in comment.splitlines())
    return lines + OmegaConf.to_yaml(OmegaConf.create(_plain(body)))
