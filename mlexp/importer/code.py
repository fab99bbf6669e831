"""The project module an import writes: Functional and subclassed models, and callback classes, copied from
the notebook with the imports, functions and constants they read. mlexp reaches them by `_target_`."""

from __future__ import annotations

import ast
import builtins
import copy

from mlexp.importer.names import normalize
from mlexp.importer.values import Function, Unknown, UserClass

LITERALS = (bool, int, float, str, type(None), list, tuple, dict)


def module(plan, reader) -> str:
    parts: list[ast.stmt] = []
    bodies: list[str] = []
    with_code = [e for e in plan.experiments if e.code]
    for experiment in with_code:
        for kind, item in experiment.code:
            if kind == "model":
                bodies.append(_model_function(experiment.name, item.code, parts))
            elif item.source not in parts:
                parts.append(item.source)
    if not bodies and not parts:
        return ""
    needed = _free_names([*parts, *[ast.parse(b) for b in bodies]])
    head = [f'"""Code copied by `mlexp import` from {plan.name}: what mlexp runs by _target_."""', ""]
    constants, unknown = _constants(needed, reader, parts)
    head += _imports(needed, reader) + constants
    text = "\n".join([*head, "", *[ast.unparse(p) + "\n" for p in parts], *bodies])
    for experiment in with_code:
        experiment.manual += [f"{plan.name}_code.py: {name} is computed from data in the notebook; set it"
                              for name in unknown]  # fmt: skip
        if "=None)" in text.replace(" ", ""):
            experiment.manual.append(f"{plan.name}_code.py: an argument computed from data is None; set it")
    return text


class _InputShape(ast.NodeTransformer):
    """`keras.Input(shape=(8, 8))` -> `keras.Input(shape=input_shape)`: the model takes mlexp's inputs, which may
    have a channel axis the notebook's arrays lacked (a Flatten or a Dense sees the same features)."""

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        if ast.unparse(node.func).rpartition(".")[2] == "Input":
            if node.args:
                node.args[0] = ast.Name("input_shape")
            node.keywords = [k for k in node.keywords if k.arg not in ("shape", "batch_shape")]
            if not node.args:
                node.keywords.insert(0, ast.keyword(arg="shape", value=ast.Name("input_shape")))
        return node


def _model_function(name: str, statements: list, parts: list) -> str:
    """`def NAME(input_shape): ...; return model`: definitions go to the module, the rest into the function."""
    body = []
    for stmt in statements:
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
            if stmt not in parts:
                parts.append(stmt)
        else:
            body.append(_InputShape().visit(copy.deepcopy(stmt)))
    function = ast.FunctionDef(
        name=name,
        args=ast.arguments(posonlyargs=[], args=[ast.arg("input_shape")], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=body or [ast.Pass()],
        decorator_list=[],
        returns=None,
        type_params=[],
    )
    text = ast.unparse(ast.fix_missing_locations(function))
    doc = '    """The notebook\'s model; mlexp builds it for input_shape and calls it on its inputs."""\n'
    first, _, rest = text.partition("\n")
    return f"{first}\n{doc}{rest}\n"


def _free_names(nodes: list) -> set[str]:
    loaded, stored = set(), set()
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                (loaded if isinstance(sub.ctx, ast.Load) else stored).add(sub.id)
            elif isinstance(sub, ast.FunctionDef | ast.ClassDef):
                stored.add(sub.name)
            elif isinstance(sub, ast.arg):
                stored.add(sub.arg)
    return {n for n in loaded - stored if not hasattr(builtins, n)}


def _imports(needed: set[str], reader) -> list[str]:
    lines = []
    for name in sorted(needed):
        path = reader.aliases.get(name)
        if path is None:
            continue
        module, _, attr = normalize(path).rpartition(".")
        if not module:  # import tensorflow as tf; from tensorflow import keras
            lines.append(f"import {attr}" + (f" as {name}" if name != attr else ""))
        else:
            lines.append(f"from {module} import {attr}" + (f" as {name}" if name != attr else ""))
    return lines


def _constants(needed: set[str], reader, parts: list) -> tuple[list[str], list[str]]:
    """Module-level values the copied code reads: literals as they were, the notebook's functions and classes;
    a value computed from data becomes None, to be set (returned by name)."""
    lines, unknown = [], []
    for name in sorted(needed - set(reader.aliases)):
        value = reader.env.get(name)
        if isinstance(value, LITERALS) and not isinstance(value, type):
            lines.append(f"{name} = {value!r}")
        elif isinstance(value, Function | UserClass) and value.node not in parts:
            parts.append(value.node)
        elif isinstance(value, Unknown):
            lines.append(f"{name} = None  # EDIT: the notebook computes it from its data")
            unknown.append(name)
    return lines, unknown
