"""What the reader knows about a notebook's values: datasets, layers, models, optimizers, trainings."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A module or object by its qualified name, `tf.keras.layers` -> keras.layers."""

    path: str


@dataclass(frozen=True)
class Unknown:
    why: str


@dataclass
class Dataset:
    """Where the data comes from: mlexp's dataset name and its settings, or what would be needed."""

    name: str  # an mlexp dataset (mnist, csv, ...) or "" when mlexp has none
    settings: dict[str, Any] = field(default_factory=dict)
    origin: str = ""  # as written: keras.datasets.mnist.load_data()
    shape: tuple | None = None  # the arrays' sample shape as the notebook loads them
    classes: int | None = None


@dataclass
class Data:
    """An array of a dataset split, with what the notebook did to it."""

    dataset: Dataset
    part: str  # x_train, y_train, x_test, y_test, x, y
    scale: str | None = None  # unit (/255) | standardize ((x - mean) / std)
    onehot: bool = False
    shape: tuple | None = None
    rows: tuple[str, int] | None = None  # ("head", 10000): x[:10000]; ("tail", 10000): x[10000:]
    notes: list[str] = field(default_factory=list)
    augmentation: Any = None  # the ImageDataGenerator of datagen.flow(x, y), or augmentation layers
    sequences: bool = False  # padded word sequences (pad_sequences): mlexp's imdb is multi-hot
    batch: Any = None  # datagen.flow's batch_size

    def but(self, **changes) -> Data:
        twin = copy.copy(self)
        twin.notes = list(self.notes)
        for key, value in changes.items():
            setattr(twin, key, value)
        return twin


@dataclass(frozen=True)
class Statistic:
    """np.mean(x_train) or np.std(x_train): (x - mean) / std standardizes."""

    name: str  # mean | std


@dataclass
class Layer:
    cls: str
    args: dict[str, Any]
    line: str = ""
    stmt: Any = field(default=None, repr=False, compare=False)  # the statement that made it (Functional slice)
    source: Any = field(default=None, repr=False, compare=False)  # the notebook's own layer class (ast.ClassDef)


@dataclass
class KerasObject:
    """An optimizer, callback, loss or augmentation, by Keras class name and arguments."""

    family: str  # optimizers, callbacks, losses, image_generator, ...
    cls: str
    args: dict[str, Any]
    source: Any = field(default=None, repr=False, compare=False)  # the notebook's own class (ast.ClassDef)
    stmt: Any = field(default=None, repr=False, compare=False)


@dataclass
class Model:
    var: str
    kind: str  # sequential | code (functional, subclassed: copied into a module) | backbone
    layers: list[Layer] = field(default_factory=list)
    input_shape: tuple | None = None
    compiled: dict[str, Any] | None = None
    where: str = ""
    code: list[str] = field(default_factory=list)  # kind=code: the statements that build it
    names: set[str] = field(default_factory=set)  # kind=code: the names those statements read
    backbone: dict[str, Any] = field(default_factory=dict)
    trained: int = 0  # fits so far
    seq: int = 0  # the order in which the notebook made models and trainings

    def snapshot(self) -> Model:
        return copy.deepcopy(self)


@dataclass
class Function:
    node: Any  # ast.FunctionDef
    where: str
    used: bool = False


@dataclass
class Training:
    model: Model
    x: Any
    y: Any
    fit: dict[str, Any]
    where: str
    loop: dict[str, Any] = field(default_factory=dict)  # the loop variables' values, for a loop of fits
    augmentation: KerasObject | None = None
    continued: bool = False  # the model had been fitted before: training went on from its weights
    seq: int = 0
    notes: list[str] = field(default_factory=list)  # approximations made while reading it


@dataclass
class Search:
    """keras-tuner: the tuner and its build_model(hp)."""

    tuner: str
    args: dict[str, Any]
    space: dict[str, Any]
    model: Model | None
    where: str


@dataclass
class Hyper:
    """hp.Int / hp.Float / hp.Choice / hp.Boolean inside build_model(hp)."""

    name: str
    kind: str
    args: dict[str, Any]


@dataclass
class Tensor:
    """A symbolic tensor of a Functional model: the statements that made it."""

    stmts: list = field(default_factory=list)  # ast statements, in order


@dataclass
class UserClass:
    node: Any  # ast.ClassDef
    bases: list[str]
    where: str
    used: bool = False
