"""mlexp init DIR: a small working project with its own model, dataset, callback, experiment and search space."""

from __future__ import annotations

import re
from pathlib import Path

from mlexp.errors import MlexpError

FILES = {
    "README.md": """\
# {package}

An mlexp project: your own code, chosen from YAML by `_target_`, beside mlexp's own components.

```
mlexp train experiment=example                     # your model, data and callback, 5 epochs
mlexp train -m experiment=example model.filters=4,16
mlexp tune experiment=example search_space=example tuner.max_trials=4
mlexp check experiment=example                     # build the model, run the pre-flight checks
```

Run mlexp from this folder: its `conf/` adds to mlexp's configs (`model=small_cnn` sits beside
`model=mlp`) and this folder is importable, so `_target_: {package}.models.small_cnn` is found.
From elsewhere, add `-cd PATH/conf` and install the package into mlexp's environment
(`pip install -e .`; `pyproject.toml` also offers the components by name, through the
`mlexp.components` entry points: `model._target_=small_cnn`).

| file | what |
| --- | --- |
| `{package}/models.py` | `small_cnn(input_shape, filters, units)` returns a Keras model of the features; mlexp adds the output layer, loss and accuracy for the data's classes. A model with its own output layer says `head: false` and names its `loss`. |
| `{package}/data.py` | `squares(samples, size, seed)` returns `x_train`, `y_train`, `x_test`, `y_test` (and `class_names`); mlexp does the validation split, scaling and everything after. Keras' `((x_train, y_train), (x_test, y_test))` works too. |
| `{package}/callbacks.py` | `BestEpoch`, a `keras.callbacks.Callback` with an argument |
| `conf/model/small_cnn.yaml`, `conf/dataset/squares.yaml` | the YAML that chooses them: `_target_` plus their arguments |
| `conf/model/tiny_conv.yaml` | a preset of mlexp's own conv model (`kind: conv`), no Python: `model=tiny_conv`; keys left out take the kind's defaults |
| `conf/experiment/example.yaml` | one run: the dataset, the model, the callback (`callbacks.best._target_`) and the trainer |
| `conf/search_space/example.yaml` | a keras-tuner space over your model's own arguments |

Every argument is checked against your function's signature before training: `model.filterz=8` is
refused with exit 2 and "Did you mean 'filters'?". `manifest.json` records which file and git commit
your code came from, and `mlexp rerun RUN_DIR` works from this folder.
""",
    "pyproject.toml": """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{package}"
version = "0.1.0"
description = "An mlexp project: models, data and callbacks chosen from YAML by _target_."
requires-python = ">=3.10"
# mlexp itself (distribution mlexp-keras) is already installed where you run mlexp; add your own needs here.
dependencies = []

[project.entry-points."mlexp.components"]
small_cnn = "{package}.models:small_cnn"
squares = "{package}.data:squares"
BestEpoch = "{package}.callbacks:BestEpoch"

[tool.setuptools]
packages = ["{package}"]
""",
    "{package}/__init__.py": '"""{package}: code that mlexp runs by `_target_`."""\n',
    "{package}/models.py": '''\
import keras


def small_cnn(input_shape, filters=8, units=32):
    """The features of a small convolutional network; mlexp adds the output layer."""
    return keras.Sequential(
        [
            keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(units, activation="relu"),
        ],
        name="small_cnn",
    )
''',
    "{package}/data.py": '''\
import numpy as np


def squares(samples=600, size=12, seed=0):
    """Noisy images with a bright square in one of four quadrants; the label is the quadrant."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, samples)
    x = rng.random((samples, size, size, 1)).astype("float32") * 0.5
    half = size // 2
    for i, label in enumerate(y):
        row, col = divmod(int(label), 2)
        x[i, row * half : (row + 1) * half, col * half : (col + 1) * half] += 0.5
    n = samples * 4 // 5
    names = ["top left", "top right", "bottom left", "bottom right"]
    return {{"x_train": x[:n], "y_train": y[:n], "x_test": x[n:], "y_test": y[n:], "class_names": names}}
''',
    "{package}/callbacks.py": '''\
import keras


class BestEpoch(keras.callbacks.Callback):
    """Logs each new best value of a metric."""

    def __init__(self, monitor="val_accuracy"):
        super().__init__()
        self.monitor, self.best = monitor, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {{}}).get(self.monitor)
        if value is not None and (self.best is None or value > self.best):
            self.best = value
            print(f"new best {{self.monitor}} {{value:.4f}} at epoch {{epoch + 1}}")
''',
    "conf/model/small_cnn.yaml": """\
name: small_cnn
_target_: {package}.models.small_cnn
filters: 8
units: 32
""",
    "conf/model/tiny_conv.yaml": """\
# mlexp's conv model (kind: conv, like model=cnn) in a shape of your own; name: labels the runs.
name: tiny_conv
kind: conv
filters: [8, 16]
dense_units: [32]
dropout: 0.2
""",
    "conf/dataset/squares.yaml": """\
name: squares
_target_: {package}.data.squares
samples: 600
""",
    "conf/experiment/example.yaml": """\
# @package _global_
defaults:
  - override /dataset: squares
  - override /model: small_cnn
callbacks:
  best:
    _target_: {package}.callbacks.BestEpoch
    monitor: val_accuracy
trainer:
  epochs: 5
  batch_size: 32
""",
    "conf/search_space/example.yaml": """\
name: example
objective: val_accuracy
parameters:
  model.filters: {{choice: [4, 8, 16]}}
  model.units: {{choice: [16, 32, 64]}}
  optimizer.learning_rate: {{float: {{min: 1.0e-4, max: 1.0e-2, log: true}}}}
""",
}


def package_name(folder: Path) -> str:
    name = re.sub(r"\W+", "_", folder.resolve().name.lower()).strip("_")
    return name if name.isidentifier() and not name[0].isdigit() else "my_project"


def init(folder: Path) -> list[Path]:
    """Write the example project into `folder` (new or empty); return the files written."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise MlexpError(f"init: got {folder}, which is not an empty folder; expected a new or empty folder")
    package = package_name(folder)
    written = []
    for relative, text in FILES.items():
        path = folder / relative.format(package=package)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(package=package), encoding="utf-8")
        written.append(path)
    return written
