"""A notebook's training (model, compile, fit, data) as an mlexp run config, with what was approximated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlexp.importer import callbacks_map
from mlexp.importer.sources import MLEXP_SHAPES
from mlexp.importer.values import Data, Hyper, KerasObject, Layer, Model, Ref, Training, Unknown

OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamw", "nadam")
OPTIMIZER_KEYS = {
    "adam": ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"),
    "adamw": ("learning_rate", "weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad"),
    "nadam": ("learning_rate", "beta_1", "beta_2", "epsilon"),
    "sgd": ("learning_rate", "momentum", "nesterov"),
    "rmsprop": ("learning_rate", "rho", "momentum", "epsilon", "centered"),
    "adagrad": ("learning_rate", "initial_accumulator_value", "epsilon"),
    "adadelta": ("learning_rate", "rho", "epsilon"),
}
COMMON_OPTIMIZER_KEYS = ("clipnorm", "clipvalue", "global_clipnorm", "weight_decay")
CLASSIFICATION_LOSSES = ("sparse_categorical_crossentropy", "categorical_crossentropy")
DROPPED_LAYER_ARGS = ("input_shape", "input_dim", "batch_input_shape")


@dataclass
class Experiment:
    name: str
    config: dict[str, Any]  # group choices under "defaults", then the sections
    where: str
    approximations: list[str] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)  # what the user must edit before it runs
    code: list = field(default_factory=list)  # a model or callbacks copied into the project's module
    trained: bool = True
    space: dict[str, Any] = field(default_factory=dict)  # keras-tuner: search_space parameters


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower().replace("__", "_")


def experiment(name: str, training: Training) -> Experiment:
    where = training.where if training.model.where == training.where else f"{training.model.where} (model) and " \
        f"{training.where} (training)"  # fmt: skip
    found = Experiment(name, {"defaults": {}}, where)
    dataset_section(found, training)
    model_section(found, training.model, training)
    compile_sections(found, training.model)
    trainer_section(found, training)
    callbacks_map.callbacks_section(found, training.fit.get("callbacks"))
    if training.augmentation is not None:
        callbacks_map.augmentation_section(found, training.augmentation)
    return found


def untrained(name: str, model: Model, like: Training | None) -> Experiment:
    """A model the notebook defines but never fits: the experiment takes the data of the nearest training."""
    found = Experiment(name, {"defaults": {}}, model.where, trained=False)
    if like is not None:
        dataset_section(found, like)
    else:
        own_data(found, "dataset.path: the notebook trains no model, so its data is unknown")
    model_section(found, model, like)
    compile_sections(found, model)
    found.approximations.append("the notebook defines this model but never trains it")
    return found


def own_data(found: Experiment, why: str) -> None:
    """Data mlexp cannot load by itself: dataset=npz, its path to be set (the edit named)."""
    found.config["defaults"]["dataset"] = "npz"
    found.config["dataset"] = {"path": "???"}
    found.manual.append(why)


def dataset_section(found: Experiment, training: Training) -> None:
    x = training.x
    if not isinstance(x, Data):
        why = x.why if isinstance(x, Unknown) else "data the import cannot follow"
        own_data(found, f"dataset: the notebook trains on data the import cannot trace ({why}): save x_train, "
                        "y_train, x_test, y_test with np.savez and set dataset.path")  # fmt: skip
        return
    dataset = x.dataset
    if x.sequences and dataset.name == "imdb":
        own_data(found, "dataset: the notebook pads IMDB's word sequences (pad_sequences); mlexp's imdb is "
                        "multi-hot vectors: save the padded arrays with np.savez and set dataset.path")  # fmt: skip
        return
    if not dataset.name:
        own_data(found, f"dataset: {dataset.settings.get('missing', dataset.origin)}")
        return
    found.config["defaults"]["dataset"] = dataset.name
    settings = {k: v for k, v in dataset.settings.items() if k not in ("missing", "validation_split")}
    for key, value in settings.items():
        if value == "???":
            found.manual.append(f"dataset.{key}: {dataset.origin} names no literal value: set it")
    if dataset.name not in ("csv",):
        settings["scale"] = {"unit": "unit", "standardize": "standardize"}.get(x.scale or "", "none")
    if dataset.name == "csv" and "target" not in settings:
        settings["target"] = "???"
        found.manual.append("dataset.target: the column to predict was not found")
    found.config["dataset"] = settings
    for note in x.notes:
        found.approximations.append(f"data {note}: check that mlexp's {dataset.name} data matches")


def model_section(found: Experiment, model: Model, training: Training | None) -> None:
    if model.kind == "code" or any(x.cls == "?" or x.source is not None for x in model.layers):
        code_model(found, model)
        return
    backbone = [x for x in model.layers if x.cls.startswith("keras.applications.")]
    if backbone:
        backbone_model(found, model, backbone[0], training)
        return
    layers = [x for x in model.layers if x.cls not in ("Input", "InputLayer")]
    section: dict[str, Any] = {"name": model.var or found.name}
    head = head_of(layers, model, training)
    first_shape = model.input_shape or (training.x.shape if training is not None and isinstance(training.x, Data)
                                        else None)  # fmt: skip
    reshape = input_reshape(found, layers, first_shape)
    body = layers if head is None else layers[:-1]
    entries = [layer_entry(found, x, i + bool(reshape)) for i, x in enumerate(body)]  # indices as in the YAML
    loss = _loss(model)
    if head is False and loss and loss[1].get("from_logits"):
        found.approximations.append(f"the notebook's loss takes logits (from_logits=True) after a "
                                    f"{layers[-1].args.get('activation')} layer, a mistake Keras warns about; mlexp's "
                                    "head pairs the activation with its loss")  # fmt: skip
    if head is not None:
        section["logits"] = head
    else:
        section["head"] = False
        section["loss"] = loss_name(found, model)
    section["layers"] = ([reshape] if reshape else []) + entries
    found.config["defaults"]["model"] = "sequential"
    found.config["model"] = section


def layer_entry(found: Experiment, layer: Layer, index: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"layer": layer.cls}
    for key, value in layer.args.items():
        if key in DROPPED_LAYER_ARGS or key == "name":
            continue
        if isinstance(value, Hyper):
            found.space[f"model.layers.{index}.{key}"] = value
            value = hyper_default(value)
        elif isinstance(value, Unknown | KerasObject):
            found.manual.append(f"model.layers[{index}].{key}: {getattr(value, 'why', value)}")
            continue
        entry[key] = list(value) if isinstance(value, tuple) else value
    return entry


def hyper_default(value: Hyper) -> Any:
    args = value.args
    if "default" in args:
        return args["default"]
    if value.kind == "Choice":
        return (args.get("values") or [None])[0]
    if value.kind == "Boolean":
        return False
    return args.get("min_value", args.get("value"))


def head_of(layers: list[Layer], model: Model, training: Training | None) -> bool | None:
    """logits (True/False) when the last layer is what mlexp's head would build, else None."""
    if not layers or layers[-1].cls != "Dense" or set(layers[-1].args) - {"units", "activation", "name"}:
        return None
    classes = training.x.dataset.classes if training is not None and isinstance(training.x, Data) else None
    shape = model.input_shape or (training.x.shape if training is not None and isinstance(training.x, Data) else None)
    flat = any(x.cls == "Flatten" or x.cls.startswith("Global") for x in layers) or (shape and len(shape) == 1)
    if not flat:  # mlexp's head takes (batch, features)
        return None
    units, activation = layers[-1].args.get("units"), layers[-1].args.get("activation")
    if isinstance(units, Unknown) and classes:  # Dense(num_classes) with num_classes counted from the data
        units = 1 if classes == 2 and activation == "sigmoid" else classes
    loss = _loss(model)
    logits = bool(loss[1].get("from_logits")) if loss else False
    wanted_losses = ("binary_crossentropy",) if classes == 2 else CLASSIFICATION_LOSSES
    if loss and loss[0] not in wanted_losses:  # mlexp's head pairs its own loss with the task
        return None
    if classes is None or (classes > 2 and units != classes) or (classes == 2 and units != 1):
        return None
    if activation in (None, "linear"):
        return True if logits else None
    wanted = "sigmoid" if classes == 2 else "softmax"
    return False if activation == wanted else None


def _loss(model: Model) -> tuple[str, dict] | None:
    loss = (model.compiled or {}).get("loss")
    if isinstance(loss, str):
        return loss, {}
    if isinstance(loss, KerasObject):
        return snake(loss.cls), loss.args
    if isinstance(loss, Ref):  # loss=keras.losses.sparse_categorical_crossentropy, the function itself
        return loss.path.rpartition(".")[2], {}
    return None


def loss_name(found: Experiment, model: Model) -> str:
    loss = _loss(model)
    if loss is None:
        found.manual.append("model.loss: the notebook's loss was not found")
        return "???"
    if loss[1]:
        found.approximations.append(f"loss {loss[0]}: its arguments {loss[1]} are not imported")
    return loss[0]


def input_reshape(found: Experiment, layers: list[Layer], shape: tuple | None) -> dict | None:
    """mlexp's images are (h, w, channels); a notebook on (h, w) arrays whose first layer is not Flatten gets
    a Reshape, so that every layer sees the shape it saw in the notebook."""
    dataset = found.config["defaults"].get("dataset")
    mlexp_shape = MLEXP_SHAPES.get(dataset)
    if dataset == "npz" and shape and len(shape) == 2 and shape[-1] > 4:  # (n, h, w): one-channel images
        mlexp_shape = (*shape, 1)
    if not shape or not mlexp_shape or tuple(shape) == mlexp_shape or not layers or layers[0].cls == "Flatten":
        return None
    found.approximations.append(f"a Reshape to {tuple(shape)} first: mlexp's {dataset} images are {mlexp_shape}")
    return {"layer": "Reshape", "target_shape": list(shape)}


def code_model(found: Experiment, model: Model) -> None:
    found.code = [*found.code, ("model", model)]
    found.config["defaults"]["model"] = None
    found.config["model"] = {"_target_": "", "name": model.var or found.name, "head": False,
                             "loss": loss_name(found, model)}  # fmt: skip


def backbone_model(found: Experiment, model: Model, layer: Layer, training: Training | None) -> None:
    arch = layer.cls.rpartition(".")[2]
    rest = model.layers[model.layers.index(layer) + 1 :]
    section = {"name": model.var or found.name, "arch": arch, "weights": layer.args.get("weights", "imagenet"),
               "preprocess": False, "dropout": 0.0, "dense_units": []}  # fmt: skip
    dense = [x for x in rest[:-1] if x.cls == "Dense"]
    section["dense_units"] = [x.args.get("units") for x in dense]
    drops = [x.args.get("rate") for x in rest if x.cls == "Dropout"]
    section["dropout"] = drops[-1] if drops else 0.0
    if any(x.cls == "GlobalMaxPooling2D" for x in rest):
        section["pooling"] = "max"
    shape = layer.args.get("input_shape")
    if isinstance(shape, list | tuple) and len(shape) == 3 and shape[0] == shape[1]:
        section["input_size"] = shape[0]  # the notebook fed its images at their own size
    if layer.args.get("trainable") is False:  # frozen for the whole run
        epochs = training.fit.get("epochs", 1) if training is not None else 1
        section["fine_tune"] = {"freeze_epochs": epochs if isinstance(epochs, int) else 1}
    found.config["defaults"]["model"] = "backbone"
    found.config["model"] = section
    found.approximations.append(f"keras.applications.{arch} and the layers after it as mlexp's backbone model "
                                "(pooling, dense_units, dropout, head); the input resized to its size")  # fmt: skip


def compile_sections(found: Experiment, model: Model) -> None:
    compiled = model.compiled or {}
    if not compiled:
        found.approximations.append("the model is never compiled in the notebook: adam, mlexp's default")
    optimizer = compiled.get("optimizer", "adam")
    if isinstance(optimizer, str):
        name, args = optimizer.lower(), {}
    elif isinstance(optimizer, KerasObject):
        name, args = optimizer.cls.lower(), dict(optimizer.args)
    else:
        name, args = "adam", {}
        found.manual.append(f"optimizer: {getattr(optimizer, 'why', optimizer)}")
    if "lr" in args:
        args["learning_rate"] = args.pop("lr")
    if name not in OPTIMIZERS:
        found.approximations.append(f"optimizer {name}: mlexp has no such preset; adam instead")
        name, args = "adam", {}
    section = {}
    for key, value in args.items():
        if isinstance(value, Hyper):
            found.space[f"optimizer.{key}"] = value
            value = hyper_default(value)
        if key in OPTIMIZER_KEYS[name] + COMMON_OPTIMIZER_KEYS and isinstance(value, int | float | bool):
            section[key] = value
        else:
            found.approximations.append(f"optimizer argument {key}={value!r} not imported")
    found.config["defaults"]["optimizer"] = name
    if section:
        found.config["optimizer"] = section
    metrics = compiled.get("metrics") or []
    extra = [m for m in (metrics if isinstance(metrics, list | tuple) else [metrics]) if m not in ("accuracy", "acc")]
    if extra:
        found.approximations.append(f"metrics {extra}: mlexp records its task's metrics (accuracy and loss "
                                    "for classes; MAE, RMSE, R² for regression)")  # fmt: skip


def trainer_section(found: Experiment, training: Training) -> None:
    fit = training.fit
    flowed = training.x.batch if isinstance(training.x, Data) and training.x.batch else 32  # datagen.flow's
    trainer: dict[str, Any] = {"epochs": _int(fit.get("epochs"), 1), "batch_size": _int(fit.get("batch_size"), flowed)}
    validation(found, trainer, training)
    if fit.get("shuffle") is False:
        trainer["shuffle"] = False
    if fit.get("verbose") in (0, 1, 2):
        trainer["verbose"] = fit["verbose"]
    if fit.get("class_weight") is not None:
        found.approximations.append("class_weight: mlexp offers trainer.class_weight=balanced only; not imported")
    for key in ("initial_epoch", "validation_freq", "sample_weight"):
        if key in fit:
            found.approximations.append(f"fit({key}=...) not imported")
    if "steps_per_epoch" in fit:
        found.approximations.append("steps_per_epoch: an mlexp epoch is one pass over the training data")
    found.approximations += training.notes
    if training.continued:
        found.approximations.append("the notebook fit an already trained model (training went on from its "
                                    "weights); imported as a run from scratch")  # fmt: skip
    found.config["trainer"] = trainer
    if isinstance(training.loop, dict) and training.loop:
        found.config.setdefault("_loop", dict(training.loop))


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def validation(found: Experiment, trainer: dict, training: Training) -> None:
    fit = training.fit
    data = fit.get("validation_data")
    if isinstance(fit.get("validation_split"), float):
        trainer.update(validation="split", validation_split=fit["validation_split"])
        found.approximations.append("validation_split: Keras validates on the last rows, mlexp on a stratified "
                                    "random split of the same size (dataset.split_seed)")  # fmt: skip
        return
    if data is None:
        trainer["validation"] = "none"
        return
    x = data[0] if isinstance(data, tuple | list) and data else data
    if isinstance(x, Data) and x.part == "x_test":
        trainer["validation"] = "test"
        found.approximations.append("validation_data is the test split, as in the notebook (mlexp records the "
                                    "leak in metrics.json; trainer.validation=split avoids it)")  # fmt: skip
    elif isinstance(x, Data) and x.part == "val":  # image_dataset_from_directory(validation_split=, subset=)
        trainer.update(validation="split", validation_split=x.dataset.settings.get("validation_split", 0.2))
        found.approximations.append("the folder's validation subset: mlexp's stratified split of the same size")
    elif isinstance(x, Data) and x.rows and x.rows[0] == "head":
        trainer.update(validation="head", validation_size=x.rows[1])
    else:
        trainer.update(validation="split", validation_split=0.2)
        found.approximations.append("validation_data the import cannot trace: a 20% validation split instead")
