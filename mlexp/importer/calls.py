"""Calls, attributes and operators as the reader evaluates them: Keras' API becomes importer values."""

from __future__ import annotations

import ast
import json
from functools import cache
from typing import Any

from mlexp.importer import methods, sources
from mlexp.importer.names import member, normalize
from mlexp.importer.values import (
    Data,
    Function,
    KerasObject,
    Layer,
    Model,
    Ref,
    Statistic,
    Tensor,
    Unknown,
    UserClass,
)

TUNERS = ("RandomSearch", "Hyperband", "BayesianOptimization", "GridSearch")
SEEDS = ("keras.utils.set_random_seed", "tensorflow.random.set_seed", "numpy.random.seed", "random.seed",
         "tensorflow.keras.utils.set_random_seed", "tensorflow.set_random_seed")  # fmt: skip
PASS_THROUGH = ("numpy.asarray", "numpy.array", "numpy.float32", "tensorflow.convert_to_tensor", "tensorflow.constant")
FIRST_ARGUMENT = {"LearningRateScheduler": "schedule", "ModelCheckpoint": "filepath", "CSVLogger": "filename",
                  "TensorBoard": "log_dir"}  # fmt: skip
REGULARIZERS = {"l1": ("L1", ("l1",)), "l2": ("L2", ("l2",)), "l1_l2": ("L1L2", ("l1", "l2")),
                "L1": ("L1", ("l1",)), "L2": ("L2", ("l2",)), "L1L2": ("L1L2", ("l1", "l2"))}  # fmt: skip


@cache
def layer_table() -> dict[str, Any]:
    from mlexp.config.layer_table import TABLE

    return json.loads(TABLE.read_text(encoding="utf-8"))["layers"]


def attribute(owner: Any, name: str) -> Any:
    if isinstance(owner, Ref):
        return Ref(normalize(f"{owner.path}.{name}"))
    if isinstance(owner, dict) and name in owner:
        return owner[name]
    if isinstance(owner, Data) and name == "values":  # df.values: the same table as an array
        return owner
    return Unknown(f".{name} of a value the import does not follow")


def unary(op: ast.unaryop, operand: Any) -> Any:
    if isinstance(op, ast.USub) and isinstance(operand, int | float):
        return -operand
    if isinstance(op, ast.UAdd) and isinstance(operand, int | float):
        return operand
    if isinstance(op, ast.Not) and isinstance(operand, bool):
        return not operand
    return Unknown("an operator on a value the import does not follow")


def binary(op: ast.operator, left: Any, right: Any, reader) -> Any:
    numbers = (int, float)
    if isinstance(left, numbers) and isinstance(right, numbers) and not isinstance(left, bool):
        try:
            return {ast.Add: lambda: left + right, ast.Sub: lambda: left - right, ast.Mult: lambda: left * right,
                    ast.Div: lambda: left / right, ast.FloorDiv: lambda: left // right,
                    ast.Pow: lambda: left**right}[type(op)]()  # fmt: skip
        except (KeyError, ZeroDivisionError, OverflowError):
            return Unknown("arithmetic the import does not follow")
    if isinstance(left, Data) and isinstance(right, numbers):
        top = 16 if left.dataset.name == "digits" else 255  # the largest pixel value
        if (isinstance(op, ast.Div) and right == top) or (isinstance(op, ast.Mult) and abs(right - 1 / top) < 1e-9):
            reader.said.append("pixels scaled to [0, 1]: dataset.scale=unit")
            return left.but(scale="unit")
        return left.but(notes=[*left.notes, "arithmetic on the arrays the import does not carry over"])
    if isinstance(left, Data) and isinstance(right, Statistic):
        if isinstance(op, ast.Sub) and right.name == "mean":
            return left.but(scale="centered")
        if isinstance(op, ast.Div) and right.name == "std" and left.scale == "centered":
            reader.said.append("standardized with the training mean and std: dataset.scale=standardize")
            return left.but(scale="standardize")
    if isinstance(left, list | tuple) and type(left) is type(right) and isinstance(op, ast.Add):
        return left + right
    if isinstance(left, str) and isinstance(right, str) and isinstance(op, ast.Add):
        return left + right
    return Unknown("an operator on values the import does not follow")


def subscript(owner: Any, index: ast.expr, reader) -> Any:
    if isinstance(owner, Data) and isinstance(index, ast.Slice) and index.step is None:
        lower, upper = reader.value(index.lower), reader.value(index.upper)
        if lower is None and isinstance(upper, int):
            return owner.but(rows=("head", upper))
        if upper is None and isinstance(lower, int):
            return owner.but(rows=("tail", lower))
    if isinstance(owner, Data) and not isinstance(index, ast.Slice | ast.Constant):  # x[idx]: rows reordered
        return owner
    if isinstance(owner, Data) and owner.part == "table":
        column = reader.value(index)
        if isinstance(column, str):  # y = df["price"]
            owner.dataset.settings["target"] = column
            reader.said.append(f"the target column {column!r}")
            return owner.but(part="y")
        return owner
    key = reader.value(index)
    if isinstance(owner, dict | list | tuple) and not isinstance(key, Unknown):
        try:
            return owner[key]
        except (KeyError, IndexError, TypeError):
            pass
    return Unknown("an item of a value the import does not follow")


def call(node: ast.Call, reader) -> Any:
    func = node.func
    if isinstance(func, ast.Attribute):
        owner = reader.value(func.value)
        if isinstance(owner, dict) and func.attr in ("items", "keys", "values"):
            return [tuple(item) if isinstance(item, tuple) else item for item in getattr(owner, func.attr)()]
        if isinstance(owner, Model | Data | KerasObject | methods.HyperParameters) or methods.is_search(owner):
            return methods.method(owner, func.attr, node, reader)
    callee = reader.value(func)
    if isinstance(callee, Function):
        return reader.call_function(callee, node)
    if isinstance(callee, UserClass):
        return user_class(callee, node, reader)
    if isinstance(callee, Layer | Model | KerasObject) or (isinstance(callee, Unknown) and _has_tensor(node, reader)):
        return on_tensors(callee, node, reader)
    if isinstance(callee, Ref):
        return keras_call(callee.path, node, reader)
    if isinstance(func, ast.Name) and func.id in BUILTINS and func.id not in reader.env:
        return builtin(func.id, *reader.arguments(node))
    return Unknown(f"a call of {ast.unparse(func)}")


BUILTINS = ("len", "range", "int", "float", "list", "tuple", "str", "round", "enumerate", "zip")


def builtin(name: str, args: list, kwargs: dict) -> Any:
    """Python's own functions on values the reader knows: `range(3)`, `len("abc")`, `DIGITS + 1`."""
    if any(isinstance(a, Unknown | Data | Tensor | Model | Layer) for a in args) or kwargs:
        return Unknown(f"{name}() of a value the import does not follow")
    try:
        if name == "range" and all(isinstance(a, int) for a in args):
            return list(range(*args))
        if name in ("enumerate", "zip"):
            return list({"enumerate": enumerate, "zip": zip}[name](*args))
        return {"len": len, "int": int, "float": float, "list": list, "tuple": tuple, "str": str,
                "round": round}[name](*args)  # fmt: skip
    except (TypeError, ValueError, KeyError):
        return Unknown(f"{name}() of a value the import does not follow")


def _has_tensor(node: ast.Call, reader) -> bool:
    args, kwargs = reader.arguments(node)
    return any(isinstance(a, Tensor) for a in (*args, *kwargs.values()))


def on_tensors(callee: Any, node: ast.Call, reader) -> Any:
    """`Dense(10)(x)`: a layer called on tensors of a Functional model."""
    args, kwargs = reader.arguments(node)
    stmts = []
    for value in (*args, *kwargs.values(), *[v for a in args if isinstance(a, list | tuple) for v in a]):
        if isinstance(value, Tensor):
            stmts += [s for s in value.stmts if s not in stmts]
    origin = getattr(callee, "stmt", None)
    if origin is not None and origin not in stmts and origin is not (reader.inner or reader.stmt):
        stmts.insert(0, origin)
    return Tensor(stmts) if stmts or isinstance(callee, Layer) else Unknown("a call the import does not follow")


def user_class(cls: UserClass, node: ast.Call, reader) -> Any:
    cls.used = True
    if any(base in ("keras.Model", "keras.Sequential") for base in cls.bases):
        model = Model("", "code", where=reader.where(node), seq=reader.next_seq())
        model.code = [cls.node, ast.Return(value=node)]
        reader.models.append(model)
        reader.said.append(f"a model of the notebook's class {cls.node.name} (its code is copied into the project)")
        return model
    if any(base.startswith("keras.callbacks.") for base in cls.bases):
        return KerasObject("callbacks", cls.node.name, {}, source=cls.node)
    if any(base.startswith("keras.layers.") for base in cls.bases):
        layer = Layer(cls.node.name, {}, reader.where(node))
        layer.source = cls.node
        return layer
    return Unknown(f"an instance of the notebook's class {cls.node.name}")


def layer(cls: str, node: ast.Call, reader) -> Any:
    args, kwargs = reader.arguments(node)
    spec = layer_table().get(cls)
    if spec is None:
        return Unknown(f"keras.layers.{cls} is not a Keras 3 layer")
    named = dict(zip(spec.get("positional", []), args, strict=False))
    given = {key: _by_name(value) for key, value in {**named, **kwargs}.items()}
    made = Layer(cls, given, reader.where(node))
    made.stmt = reader.inner or reader.stmt
    return made


def _by_name(value: Any) -> Any:
    """`activation=tf.nn.relu` -> "relu": a Keras function or class given itself rather than by name."""
    if isinstance(value, Ref):
        for module in ("keras.activations", "tensorflow.nn", "keras.initializers", "keras.regularizers"):
            if member(value.path, module):
                return value.path.rpartition(".")[2]
    return value


def keras_call(path: str, node: ast.Call, reader) -> Any:
    args, kwargs = reader.arguments(node)
    name = path.rpartition(".")[2]
    if member(path, "keras.layers") and name not in ("Input",):
        return layer(name, node, reader)
    if path == "keras.Sequential":
        return methods.sequential(args, kwargs, node, reader)
    if path == "keras.Input":
        return Tensor([])
    if path == "keras.Model":
        return methods.functional(args, kwargs, node, reader)
    for family in ("optimizers", "callbacks", "losses", "metrics"):
        if member(path, f"keras.{family}"):
            first = FIRST_ARGUMENT.get(name, "learning_rate" if family == "optimizers" else None)
            if args and first and first not in kwargs:
                kwargs[first] = args[0]
            made = KerasObject(family, name, kwargs)
            made.stmt = reader.inner or reader.stmt
            return made
    if member(path, "keras.regularizers") and name in REGULARIZERS:
        cls, keys = REGULARIZERS[name]
        return {"class_name": cls, "config": {**dict(zip(keys, args, strict=False)), **kwargs}}
    if member(path, "keras.initializers"):
        return {"class_name": name, "config": kwargs}
    return data_call(path, name, args, kwargs, node, reader)


def data_call(path: str, name: str, args: list, kwargs: dict, node: ast.Call, reader) -> Any:
    if path.startswith("keras.datasets.") and name == "load_data":
        reader.said.append(f"data: {path.split('.')[2]}")
        return sources.keras_dataset(path.split(".")[2], args, kwargs)
    if path in ("keras.utils.to_categorical", "keras.utils.np_utils.to_categorical") and args:
        if isinstance(args[0], Data):
            reader.said.append("one-hot labels (mlexp's loss takes the class numbers: the same loss)")
            return args[0].but(onehot=True)
    if path.startswith("sklearn.datasets.") and name.startswith(("load_", "fetch_")):
        reader.said.append(f"data: scikit-learn's {name}")
        return sources.sklearn_dataset(name, kwargs)
    if path == "sklearn.model_selection.train_test_split":
        reader.said.append("a test split")
        return sources.split(args, kwargs)
    if (
        path == "numpy.load"
        and args
        and isinstance(args[0], str)
        and args[0].endswith(".npz")
        and args[0] not in reader.files
    ):
        reader.said.append("data: an npz file")
        return sources.npz(args[0])
    if path == "pandas.read_csv" and args:
        reader.said.append("data: a CSV table")
        return sources.csv(args[0], kwargs)
    if name in ("image_dataset_from_directory", "flow_from_directory", "text_dataset_from_directory") and (
        args or "directory" in kwargs
    ):
        reader.said.append(f"data: {'texts' if name.startswith('text') else 'images'} in class folders")
        return sources.folder(name, args[0] if args else kwargs["directory"], kwargs)
    if path == "tensorflow_datasets.load" and args:
        reader.said.append("data: TensorFlow Datasets")
        return sources.tfds(args[0], kwargs)
    return other_call(path, name, args, kwargs, node, reader)


def other_call(path: str, name: str, args: list, kwargs: dict, node: ast.Call, reader) -> Any:
    if path in PASS_THROUGH and args and isinstance(args[0], Data):
        return args[0]
    if name in ("StandardScaler", "MinMaxScaler", "Normalizer", "RobustScaler") and path.startswith("sklearn."):
        return KerasObject("scaler", name, kwargs)
    if path == "numpy.expand_dims" and args and isinstance(args[0], Data) and args[0].shape:
        return args[0].but(shape=(*args[0].shape, 1)) if args[1:] in ([-1], [3]) else args[0]
    if name == "pad_sequences" and args and isinstance(args[0], Data):
        reader.said.append("padded word sequences")
        return args[0].but(sequences=True)
    if path in ("numpy.mean", "numpy.std") and args and isinstance(args[0], Data) and args[0].part == "x_train":
        return Statistic(name)
    if path in ("numpy.save", "numpy.savez") and len(args) >= 2 and isinstance(args[0], str):
        reader.files[args[0]] = args[1]
        reader.said.append(f"saves the arrays to {args[0]} (read back by np.load)")
        return None
    if path == "numpy.load" and args and args[0] in reader.files:
        reader.said.append(f"the arrays saved to {args[0]} above")
        return reader.files[args[0]]
    if path in SEEDS and args and isinstance(args[0], int):
        reader.seed = args[0]
        reader.said.append(f"seed={args[0]}")
        return None
    if name == "ImageDataGenerator" or path.startswith("keras.applications."):
        family = "image_generator" if name == "ImageDataGenerator" else "applications"
        made = KerasObject(family, name, kwargs)
        made.stmt = reader.inner or reader.stmt
        return made
    if path.startswith("keras_tuner.") and name in TUNERS:
        return methods.search(name, args, kwargs, node, reader)
    return Unknown(f"a call of {path}")


NOT_IMPORTED = (
    (("print", "display", "pprint"), "output (print)"),
    (
        ("matplotlib", "plt.", "seaborn", "sns.", "plot"),
        "a plot: mlexp draws learning curves, a confusion matrix and misclassified images into the run's plots/",
    ),  # fmt: skip
    (("summary", "plot_model"), "a model summary: `mlexp check` prints it (summary.txt in the run)"),
    (("predict",), "predictions: `mlexp predict RUN`; the run's report lists its test predictions"),
    (("save", "np.save", "numpy.save", "to_csv"), "writes a file: every run saves model.keras, history and metrics"),
    (("evaluate",), "evaluation: mlexp evaluates every run on the test split (metrics.json)"),
)


def why_not(value: Any, node: ast.expr | None = None, reader=None) -> str:
    text = ast.unparse(node.func) if isinstance(node, ast.Call) else ""
    path = (reader.dotted(node.func) or "") if isinstance(node, ast.Call) and reader is not None else ""
    for words, reason in NOT_IMPORTED:
        if any(w in text or w in path for w in words):
            return reason
    if isinstance(value, Unknown):
        return f"not used for training ({value.why})"
    return "a value no training uses"
