"""Read a notebook's code statement by statement, without running it: what each line builds or does.

A small interpreter over Python's `ast`: literals are evaluated, Keras calls become the values of
mlexp.importer.values, the notebook's own functions are followed where they are called, and every
statement ends in one Note: imported (and as what) or not imported (and why).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from mlexp.importer import calls
from mlexp.importer.names import normalize
from mlexp.importer.source import Cell
from mlexp.importer.values import Data, Function, KerasObject, Layer, Model, Ref, Tensor, Training, Unknown, UserClass

MAX_DEPTH = 8  # nested calls of the notebook's own functions followed
MAX_PASSES = 100  # passes of a loop read


def _main_guard(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.If) and "__name__" in ast.unparse(stmt.test) and "__main__" in ast.unparse(stmt.test)


def _literal(name: str, value: Any) -> ast.expr:
    """An argument of the copied model function: its value, or mlexp's input shape, or None to edit."""
    if "shape" in name:  # mlexp's own: the data's shape, a channel axis included
        return ast.Name("input_shape")
    if isinstance(value, Unknown):
        return ast.Constant(None)
    return ast.parse(repr(value), mode="eval").body


def _signature(training: Training) -> str:
    return repr((training.model.layers, training.model.compiled, training.fit, training.x))


@dataclass
class Note:
    where: str
    imported: bool
    what: str
    code: str = ""


@dataclass
class Reader:
    cells: list[Cell]
    aliases: dict[str, str] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    models: list[Model] = field(default_factory=list)
    trainings: list[Training] = field(default_factory=list)
    searches: list = field(default_factory=list)
    seed: int | None = None
    in_search: set[int] = field(default_factory=set)  # models built by a keras-tuner build_model(hp)
    counter: int = 0
    definitions: dict[int, Any] = field(default_factory=dict)  # a def's note -> the function or class
    defining: Any = None
    files: dict[str, Any] = field(default_factory=dict)  # np.save(path, array) in one script, np.load in the next
    cell: Cell | None = None
    loop: dict[str, Any] = field(default_factory=dict)
    depth: int = 0
    calls: list = field(default_factory=list)  # the notebook's functions being read: (function, call node, args)
    said: list[str] = field(default_factory=list)  # what the statement being read did
    stmt: ast.stmt | None = None  # the top-level statement being read
    inner: ast.stmt | None = None  # the statement being read inside a function of the notebook

    def read(self) -> Reader:
        for cell in self.cells:
            self.cell = cell
            for stmt in cell.tree.body:
                self.top(stmt)
        for note in self.notes:  # a definition's note, written before anything called it
            used = self.definitions.get(id(note))
            if used is not None and used.used:
                note.imported, note.what = True, f"{used.node.name}: read where it is called"
        return self

    def where(self, node: ast.AST) -> str:
        return self.cell.where(node.lineno, getattr(node, "end_lineno", None))

    def top(self, stmt: ast.stmt) -> None:
        self.said, self.stmt = [], stmt
        try:
            skipped = self.statement(stmt)
        except Exception as exc:  # never a traceback for a notebook's odd code: the line is named instead
            skipped = f"not understood ({type(exc).__name__}: {exc})"
        code = ast.get_source_segment("\n".join(self.cell.lines), stmt) or ast.unparse(stmt)
        if self.said:
            self.notes.append(Note(self.where(stmt), True, "; ".join(dict.fromkeys(self.said)), code))
        else:
            self.notes.append(Note(self.where(stmt), False, skipped or "no effect on training", code))
        if self.defining is not None:
            self.definitions[id(self.notes[-1])] = self.defining
            self.defining = None

    # statements -------------------------------------------------------------------------------------

    def statement(self, stmt: ast.stmt) -> str | None:
        """Carry out one statement; a reason when nothing of it is imported."""
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            return self.imports(stmt)
        if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            return self.assign(stmt)
        if isinstance(stmt, ast.Expr):
            return self.expression(stmt.value)
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
            return self.definition(stmt)
        if isinstance(stmt, ast.For):
            return self.for_loop(stmt)
        if isinstance(stmt, ast.Return):
            return "return outside a function"
        if isinstance(stmt, ast.With | ast.Try) or _main_guard(stmt):
            return self.block(stmt)
        if isinstance(stmt, ast.If | ast.While):
            return f"{type(stmt).__name__.lower()} block: mlexp imports straight-line code and loops over lists"
        return f"{type(stmt).__name__} statement"

    def block(self, stmt: ast.With | ast.Try | ast.If) -> str | None:
        """`with strategy.scope():`, `try:`, `if __name__ == "__main__":`: the body is read as if unindented
        (the context, the handlers and the else branch are not)."""
        for inner in stmt.body:
            self.nested(inner)
        return None if self.said else f"{type(stmt).__name__.lower()} block whose body trains nothing"

    def definition(self, stmt: ast.FunctionDef | ast.ClassDef) -> str:
        if isinstance(stmt, ast.FunctionDef):
            self.env[stmt.name] = Function(stmt, self.where(stmt))
        else:
            bases = [normalize(self.dotted(b) or "") for b in stmt.bases]
            self.env[stmt.name] = UserClass(stmt, bases, self.where(stmt))
        if self.stmt is stmt:
            self.defining = self.env[stmt.name]  # top() ties it to its note
        kind = "function" if isinstance(stmt, ast.FunctionDef) else "class"
        return f"{kind} {stmt.name} is never used by code that trains"

    def imports(self, stmt: ast.Import | ast.ImportFrom) -> str:
        for alias in stmt.names:
            if isinstance(stmt, ast.Import):
                self.aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
            elif alias.name != "*":
                self.aliases[alias.asname or alias.name] = f"{stmt.module or ''}.{alias.name}"
        return "an import (the experiment needs none)"

    def assign(self, stmt: ast.Assign | ast.AnnAssign | ast.AugAssign) -> str | None:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Subscript):
            if isinstance(stmt.target.value, ast.Name) and stmt.target.value.id == "Out":
                return "notebook output"
        if stmt.value is None:
            return "a declaration"
        if isinstance(stmt, ast.AugAssign):
            value = self.value(ast.BinOp(stmt.target, stmt.op, stmt.value))
            targets = [stmt.target]
        else:
            value = self.value(stmt.value)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        for target in targets:
            self.bind(target, value)
        if isinstance(value, Tensor):
            value.stmts.append(self.inner or self.stmt)
        if isinstance(value, Model) and isinstance(targets[0], ast.Name) and not value.var:
            value.var = targets[0].id
        return None if self.said else calls.why_not(value, stmt.value, self)

    def bind(self, target: ast.expr, value: Any) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            items = list(value) if isinstance(value, list | tuple) else None
            for i, element in enumerate(target.elts):
                if items is not None and len(items) == len(target.elts):
                    self.bind(element, items[i])
                else:
                    self.bind(element, Unknown("unpacked from a value the import cannot follow"))
        elif isinstance(target, ast.Attribute) and target.attr == "trainable" and isinstance(value, bool):
            owner = self.value(target.value)  # base_model.trainable = False: a frozen backbone
            if isinstance(owner, KerasObject | Layer):
                owner.args["trainable"] = value
                self.said.append(f"{ast.unparse(target)} = {value}")
        elif isinstance(target, ast.Attribute | ast.Subscript):
            pass  # other attributes and items of other objects: not followed

    def expression(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return "a string (documentation)"
        if not isinstance(node, ast.Call):
            return "displays a value"
        value = self.value(node)
        return None if self.said else calls.why_not(value, node, self)

    def for_loop(self, stmt: ast.For) -> str | None:
        """`for act in ["relu", "tanh"]:` around code that trains: every pass is read, each fit a config.
        A loop whose variable the body never reads (`for _ in range(3): model.add(...)`) repeats itself."""
        values = self.value(stmt.iter)
        if not isinstance(values, list | tuple) or not values or not isinstance(stmt.target, ast.Name | ast.Tuple):
            return "a loop over values the import cannot list (mlexp imports loops over literal lists)"
        if len(values) > MAX_PASSES:
            return f"a loop of {len(values)} passes (mlexp imports loops of up to {MAX_PASSES})"
        before, outer, passes = len(self.trainings), dict(self.loop), []
        for item in values:
            self.bind(stmt.target, item)
            self.loop = {**outer, **self.loop_names(stmt.target, item)}
            start = len(self.trainings)
            for inner in stmt.body:
                self.nested(inner)
            passes.append([_signature(t) for t in self.trainings[start:]])
        self.loop = outer
        added = len(self.trainings) - before
        if added and all(p == passes[0] for p in passes):  # every pass trained the same: a repetition
            for training in self.trainings[before:]:
                training.loop = dict(outer)
            self.repeated(before, len(values))
        elif added:
            self.said.append(f"a loop of {added} trainings: a sweep")
        return None if self.said else "a loop that trains nothing"

    def repeated(self, before: int, passes: int) -> None:
        """`for epoch in range(30): model.fit(..., epochs=1)`: one training of 30 epochs."""
        first, *again = self.trainings[before:]
        if all(t.model.var == first.model.var for t in again):
            del self.trainings[before + 1 :]
            epochs = first.fit.get("epochs", 1)
            first.fit["epochs"] = epochs * passes if isinstance(epochs, int) else epochs
            first.notes.append(f"{passes} calls of fit(epochs={epochs}) in a loop: one training of "
                               f"{first.fit['epochs']} epochs")  # fmt: skip
            self.said.append(f"a loop of {passes} fit calls: one training")

    def loop_names(self, target: ast.expr, item: Any) -> dict[str, Any]:
        if isinstance(target, ast.Name):
            return {target.id: item}
        if isinstance(item, list | tuple) and len(item) == len(target.elts):
            return {t.id: v for t, v in zip(target.elts, item, strict=True) if isinstance(t, ast.Name)}
        return {}

    def nested(self, stmt: ast.stmt) -> Any:
        """A statement inside a loop or a function of the notebook: its effects count for the outer statement."""
        outer, self.inner = self.inner, stmt
        try:
            if isinstance(stmt, ast.Return):
                return ("return", self.value(stmt.value) if stmt.value is not None else None)
            self.statement(stmt)
        finally:
            self.inner = outer
        return None

    # expressions ------------------------------------------------------------------------------------

    def dotted(self, node: ast.expr) -> str | None:
        """The qualified name of `tf.keras.layers.Dense` as imported, or None."""
        if isinstance(node, ast.Name):
            if node.id in self.env and isinstance(self.env[node.id], Ref):
                return self.env[node.id].path
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def value(self, node: ast.expr | None) -> Any:
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            items = [self.value(e) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            return {self.value(k): self.value(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            if node.id in self.aliases:
                return Ref(normalize(self.aliases[node.id]))
            return Unknown(f"{node.id} is not defined in the notebook")
        if isinstance(node, ast.Attribute):
            return calls.attribute(self.value(node.value), node.attr)
        if isinstance(node, ast.UnaryOp):
            return calls.unary(node.op, self.value(node.operand))
        if isinstance(node, ast.BinOp):
            return calls.binary(node.op, self.value(node.left), self.value(node.right), self)
        if isinstance(node, ast.Subscript):
            return calls.subscript(self.value(node.value), node.slice, self)
        if isinstance(node, ast.Call):
            return calls.call(node, self)
        return Unknown(f"a {type(node).__name__} expression")

    def arguments(self, node: ast.Call) -> tuple[list[Any], dict[str, Any]]:
        args = [self.value(a) for a in node.args if not isinstance(a, ast.Starred)]
        kwargs = {k.arg: self.value(k.value) for k in node.keywords if k.arg is not None}
        return args, kwargs

    def call_function(self, function: Function, node: ast.Call) -> Any:
        """The notebook's own function, read with its arguments bound; its return value."""
        function.used = True
        if self.depth >= MAX_DEPTH:
            return Unknown(f"{function.node.name}() calls itself too deeply")
        args, kwargs = self.arguments(node)
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, Tensor)]
        if tensors:  # a block of a Functional model: the function is copied whole
            stmts = [s for t in tensors for s in t.stmts]
            return Tensor([*dict.fromkeys([*stmts, function.node])])
        saved = dict(self.env)
        self.bind_parameters(function.node.args, args, kwargs)
        self.depth += 1
        self.calls.append((function, node, args, kwargs))
        try:
            for stmt in function.node.body:
                result = self.nested(stmt)
                if result is not None:
                    return self.through(function, args, result[1])
            return None
        finally:
            self.depth -= 1
            self.calls.pop()
            inner = {k: v for k, v in self.env.items() if isinstance(v, Model)}
            self.env = {**saved, **{k: v for k, v in inner.items() if k in saved and saved[k] is v}}

    def through(self, function: Function, args: list[Any], result: Any) -> Any:
        """A function of the notebook that turns data into other data (vectorize_sequences(x)): the same split."""
        data = [a for a in args if isinstance(a, Data)]
        if isinstance(result, Unknown) and len(data) == 1:
            self.said.append(f"data transformed by the notebook's {function.node.name}()")
            return data[0].but(notes=[*data[0].notes, f"transformed by {function.node.name}()"])
        return result

    def bind_parameters(self, spec: ast.arguments, args: list[Any], kwargs: dict[str, Any]) -> None:
        params = [*spec.posonlyargs, *spec.args]
        defaults = [None] * (len(params) - len(spec.defaults)) + list(spec.defaults)
        for i, param in enumerate(params):
            if i < len(args):
                self.env[param.arg] = args[i]
            elif param.arg in kwargs:
                self.env[param.arg] = kwargs[param.arg]
            else:
                self.env[param.arg] = self.value(defaults[i]) if defaults[i] is not None else Unknown(param.arg)
        for param, default in zip(spec.kwonlyargs, spec.kw_defaults, strict=True):
            self.env[param.arg] = kwargs.get(param.arg, self.value(default) if default is not None else None)

    def next_seq(self) -> int:
        self.counter += 1
        return self.counter

    def outermost_call(self) -> list:
        """The code of a model made inside the notebook's functions: the outermost function and its call."""
        function, node, args, kwargs = self.calls[0]
        params = [p.arg for p in function.node.args.args]
        given = {**dict(zip(params, args, strict=False)), **kwargs}
        call = ast.Call(
            func=ast.Name(function.node.name),
            args=[],
            keywords=[ast.keyword(arg=k, value=_literal(k, v)) for k, v in given.items()],
        )
        return [function.node, ast.Return(value=call)]
