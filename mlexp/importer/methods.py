"""Methods the reader follows: a model's add/compile/fit, arrays' reshape/astype, keras-tuner's hp and search."""

from __future__ import annotations

import ast
from typing import Any

from mlexp.importer.values import Data, Function, Hyper, KerasObject, Layer, Model, Search, Tensor, Training, Unknown

FIT_KEYS = ("epochs", "batch_size", "validation_split", "validation_data", "callbacks", "class_weight",
            "shuffle", "verbose", "steps_per_epoch", "initial_epoch", "validation_freq", "sample_weight")  # fmt: skip
FIT_ALIASES = {"nb_epoch": "epochs"}  # Keras 1
FIT_ORDER = ("x", "y", "batch_size", "epochs", "verbose", "callbacks", "validation_split", "validation_data", "shuffle")
COMPILE_ORDER = ("optimizer", "loss", "loss_weights", "metrics")


class HyperParameters:
    """The `hp` a keras-tuner build_model(hp) receives: every hp.Int/Float/Choice/Boolean is recorded."""

    def __init__(self):
        self.space: dict[str, Hyper] = {}


def is_search(value: Any) -> bool:
    return isinstance(value, Search)


def sequential(args: list, kwargs: dict, node: ast.Call, reader) -> Model:
    model = Model("", "sequential", where=reader.where(node))
    model.seq = reader.next_seq()
    for item in args[0] if args and isinstance(args[0], list | tuple) else kwargs.get("layers") or []:
        add(model, item, reader)
    reader.models.append(model)
    reader.said.append("a Sequential model (an experiment's model.layers)")
    return model


def functional(args: list, kwargs: dict, node: ast.Call, reader) -> Any:
    """`keras.Model(inputs, outputs)`: its building statements are copied into the project's module."""
    outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
    tensors = [t for t in (outputs if isinstance(outputs, list | tuple) else [outputs]) if isinstance(t, Tensor)]
    if not tensors:
        return Unknown("keras.Model of tensors the import does not follow")
    model = Model("", "code", where=reader.where(node))
    model.seq = reader.next_seq()
    stmts: list = []
    for tensor in tensors:
        stmts += [s for s in tensor.stmts if s not in stmts]
    model.code = [*stmts, ast.Return(value=node)]
    if reader.depth:
        model.code = reader.outermost_call()
    reader.models.append(model)
    reader.said.append("a Functional model (its code is copied into the project)")
    return model


def add(model: Model, item: Any, reader) -> None:
    if isinstance(item, Layer):
        if "input_shape" in item.args and isinstance(item.args["input_shape"], list | tuple):
            model.input_shape = tuple(item.args["input_shape"])
        elif "input_dim" in item.args and isinstance(item.args["input_dim"], int):
            model.input_shape = (item.args["input_dim"],)
        model.layers.append(item)
    elif isinstance(item, KerasObject) and item.family == "applications":
        model.layers.append(Layer(f"keras.applications.{item.cls}", item.args))
    elif isinstance(item, Tensor):  # keras.Input(shape) as the first item
        model.layers.append(Layer("Input", {}))
    else:
        model.layers.append(Layer("?", {"why": getattr(item, "why", repr(item))}))


def method(owner: Any, name: str, node: ast.Call, reader) -> Any:
    args, kwargs = reader.arguments(node)
    if isinstance(owner, HyperParameters):
        return hyper(owner, name, args, kwargs)
    if isinstance(owner, Search):
        return search_method(owner, name, args, kwargs, reader)
    if isinstance(owner, Model):
        return model_method(owner, name, args, kwargs, node, reader)
    if isinstance(owner, Data):
        return data_method(owner, name, args, kwargs, reader)
    if isinstance(owner, KerasObject) and owner.family == "scaler" and name in ("fit_transform", "transform"):
        if args and isinstance(args[0], Data):
            kind = "standardize" if owner.cls == "StandardScaler" else "unit"
            reader.said.append(f"{owner.cls}: dataset.scale={kind}")
            scaled = args[0].but(scale=kind)
            if owner.cls not in ("StandardScaler",):
                scaled.notes.append(f"{owner.cls} as dataset.scale=unit (divided by the largest value)")
            return scaled
    if isinstance(owner, KerasObject) and owner.family == "image_generator":
        if name == "flow" and args and isinstance(args[0], Data):
            flowed = args[0].but()
            flowed.augmentation = owner
            flowed.batch = kwargs.get("batch_size", 32)
            return (flowed, args[1] if len(args) > 1 else kwargs.get("y"))
        if name == "fit":
            reader.said.append("the generator's statistics (mlexp's augmentation layers need none)")
            return None
        if name == "flow_from_directory" and (args or "directory" in kwargs):
            from mlexp.importer import sources

            reader.said.append("data: images in class folders, through the generator")
            data = sources.folder(name, args[0] if args else kwargs["directory"], kwargs)
            return generated(data, owner)
    return Unknown(f".{name}() of a value the import does not follow")


def generated(data: Data, generator: KerasObject) -> Data:
    """Images from an ImageDataGenerator: its rescale is the dataset's scale, the rest augmentation."""
    rescale = generator.args.get("rescale")
    scaled = data.but(scale="unit") if isinstance(rescale, float) and abs(rescale - 1 / 255) < 1e-6 else data
    rest = {k: v for k, v in generator.args.items() if k not in ("rescale", "validation_split")}
    if rest:
        scaled.augmentation = KerasObject(generator.family, generator.cls, rest)
    return scaled


def model_method(model: Model, name: str, args: list, kwargs: dict, node: ast.Call, reader) -> Any:
    if name == "add" and args:
        add(model, args[0], reader)
        reader.said.append(f"a layer of {model.var or 'the model'}")
        return None
    if name == "compile":
        model.compiled = {**dict(zip(COMPILE_ORDER, args, strict=False)), **kwargs}
        reader.said.append(f"compile of {model.var or 'the model'}: optimizer, loss and metrics")
        return None
    if name == "fit":
        return fit(model, args, kwargs, node, reader)
    if name == "build" and args and isinstance(args[0], list | tuple):
        model.input_shape = tuple(args[0][1:])
        reader.said.append("the model's input shape")
        return None
    return Unknown(f"model.{name}()")


def fit(model: Model, args: list, kwargs: dict, node: ast.Call, reader) -> Any:
    given = {**dict(zip(FIT_ORDER, args, strict=False)), **{FIT_ALIASES.get(k, k): v for k, v in kwargs.items()}}
    x, y = given.pop("x", None), given.pop("y", None)
    if isinstance(x, tuple) and len(x) == 2 and y is None:  # datagen.flow(x, y) gives both
        x, y = x
    training = Training(model.snapshot(), x, y, given, reader.where(node), dict(reader.loop))
    training.seq = reader.next_seq()
    training.continued = model.trained > 0
    training.augmentation = x.augmentation if isinstance(x, Data) else None
    model.trained += 1
    reader.trainings.append(training)
    reader.said.append(f"training of {model.var or 'the model'}")
    return Unknown("a History")


TF_DATA = ("prefetch", "cache", "shuffle", "batch", "repeat", "unbatch", "with_options")


def data_method(data: Data, name: str, args: list, kwargs: dict, reader) -> Any:
    if name in ("astype", "copy", "to_numpy", "squeeze", *TF_DATA):
        return data
    if name == "map":
        return mapped(data, reader)
    if name == "reshape":
        shape = args[0] if len(args) == 1 and isinstance(args[0], list | tuple) else tuple(args)
        if len(shape) > 1 and all(isinstance(d, int) for d in shape[1:]):  # the first is the number of rows
            reader.said.append("a reshape (mlexp's datasets come shaped for their models)")
            return data.but(shape=tuple(shape[1:]))
    if name == "pop" and data.part == "table" and args and isinstance(args[0], str):
        data.dataset.settings["target"] = args[0]
        reader.said.append(f"the target column {args[0]!r}")
        return data.but(part="y")
    if name == "drop" and data.part == "table":
        column = kwargs.get("columns", args[0] if args else None)
        if isinstance(column, str):
            data.dataset.settings.setdefault("target", column)
            reader.said.append(f"the target column {column!r}")
        return data
    return Unknown(f".{name}() of the data")


def text_vectorization(data: Data, layer: Layer, reader) -> None:
    """TextVectorization mapped over a text folder: the text_folder dataset's own vectorization."""
    args, settings = layer.args, data.dataset.settings
    if args.get("output_mode", "int") in ("int", "multi_hot", "count", "tf_idf"):
        settings["output_mode"] = args.get("output_mode", "int")
    for key, setting in (("max_tokens", "max_tokens"), ("output_sequence_length", "sequence_length")):
        if isinstance(args.get(key), int):
            settings[setting] = args[key]
    if "standardize" in args and not isinstance(args["standardize"], str):
        data.notes.append("TextVectorization's own standardize function is not imported (mlexp: lower case, "
                          "no punctuation)")  # fmt: skip
    reader.said.append("the texts vectorized as in the notebook (dataset.output_mode, max_tokens)")


def hyper(space: HyperParameters, name: str, args: list, kwargs: dict) -> Any:
    if name in ("Int", "Float", "Choice", "Boolean", "Fixed") and args and isinstance(args[0], str):
        order = {"Int": ("min_value", "max_value", "step"), "Float": ("min_value", "max_value", "step"),
                 "Choice": ("values",), "Boolean": ("default",), "Fixed": ("value",)}[name]  # fmt: skip
        made = Hyper(args[0], name, {**dict(zip(order, args[1:], strict=False)), **kwargs})
        space.space[args[0]] = made
        return made
    return Unknown(f"hp.{name}()")


def search(name: str, args: list, kwargs: dict, node: ast.Call, reader) -> Any:
    """`kt.RandomSearch(build_model, ...)`: build_model is read once with a recording `hp`."""

    builder = args[0] if args else kwargs.get("hypermodel")
    space, model = HyperParameters(), None
    if isinstance(builder, Function):
        saved = dict(reader.env)
        fake = ast.Call(func=ast.Name(builder.node.name), args=[ast.Name("__hp__")], keywords=[])
        reader.env["__hp__"] = space
        model = reader.call_function(builder, fake)
        reader.env = saved
    reader.in_search.add(id(model))
    made = Search(name, {k: v for k, v in kwargs.items() if k != "hypermodel"}, space.space, model if isinstance(
        model, Model) else None, reader.where(node))  # fmt: skip
    reader.searches.append(made)
    reader.said.append(f"a keras-tuner {name}: a search space")
    return made


def search_method(found: Search, name: str, args: list, kwargs: dict, reader) -> Any:
    if name == "search":
        found.args["fit"] = {**dict(zip(FIT_ORDER, args, strict=False)), **kwargs}
        reader.said.append("the search's training settings")
        return None
    return Unknown(f"tuner.{name}()")


def mapped(data: Data, reader) -> Data:
    """`ds.map(lambda x, y: (augment(x), y))` with a Sequential of augmentation layers: mlexp's augmentation."""
    call = reader.inner or reader.stmt
    names = {n.id for n in ast.walk(call) if isinstance(n, ast.Name)}
    for function in [v for v in map(reader.env.get, names) if isinstance(v, Function)]:
        names |= {n.id for n in ast.walk(function.node) if isinstance(n, ast.Name)}
    for name in sorted(names):
        layer = reader.env.get(name)
        if isinstance(layer, Layer) and layer.cls == "TextVectorization":
            text_vectorization(data, layer, reader)
            return data
    for name in names:
        model = reader.env.get(name)
        if isinstance(model, Model) and model.layers and all(x.cls.startswith("Random") for x in model.layers):
            reader.said.append(f"{name} applied to the training data: mlexp's augmentation")
            return data.but(augmentation=KerasObject("layers", name, {"layers": model.layers}))
    return data.but(notes=[*data.notes, "mapped by a function the import does not follow"])
