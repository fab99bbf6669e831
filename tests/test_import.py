"""mlexp import: notebooks and scripts become experiments whose models equal the notebook's own."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import fresh_process, run_dirs

SEEDS = Path(__file__).resolve().parent / "fixtures" / "seeds"  # the five course notebooks (../shared/seeds)
SEED_FILES = {path.name[:3]: path for path in sorted(SEEDS.glob("*.txt"))}
# The notebooks' own model code, by line range of the seed file (read by hand), for each imported experiment.
NOTEBOOK_MODELS = {
    "000": {"seed000_model": (61, 70, (28, 28, 1)), "seed000_model_2": (153, 169, (28, 28, 1))},
    "001": {"seed001_model_base": (10, 14, (100,)), "seed001_model_improved": (39, 47, (100,))},
    "002": {"seed002_model": (119, 151, (32, 32, 3)),  # the body of create_deeper_cnn_model()
            "seed002_model_2": (463, 473, (32, 32, 3)),  # ResNet50 and a head (no weights offline)
            "seed002_search": (360, 390, (32, 32, 3))},  # build_model(hp) at keras-tuner's defaults
    "003": {"seed003_model": (249, 252, (10000,)), "seed003_model_4": (513, 516, (10000,)),
            "seed003_model_5": (535, 540, (10000,)), "seed003_model_2": (392, 395, (10000,)),
            "seed003_model_3": (636, 642, (28, 28))},
    "004": {"seed004_model": (116, 119, (28, 28)), "seed004_model_500n": (183, 186, (28, 28)),
            "seed004_model_sigmoid": (368, 373, (28, 28)), "seed004_model_params_zeros": (431, 436, (28, 28)),
            "seed004_model_params_glorot": (452, 461, (28, 28)), "seed004_model_final": (627, 638, (28, 28)),
            "seed004_model_without_flatten": (241, 243, (28, 28)), "seed004_model_5_out": (264, 267, (28, 28)),
            "seed004_model_4": (345, 347, (28, 28)), "seed004_model_1024n": (193, 196, (28, 28)),
            "seed004_model_2": (116, 119, (28, 28)), "seed004_model_3": (116, 119, (28, 28)),
            "seed004_model_relu": (379, 384, (28, 28)), "seed004_model_params_random": (442, 447, (28, 28)),
            "seed004_model_adam": (511, 516, (28, 28)), "seed004_model_adagrad": (524, 529, (28, 28)),
            "seed004_model_rmsprop": (536, 541, (28, 28)), "seed004_model_sgd": (548, 553, (28, 28))},
}  # fmt: skip
PRELUDE = """
import keras
import tensorflow as tf
from keras import layers, models, regularizers, optimizers, initializers
from keras.models import Sequential
from keras.layers import *
from keras.applications import ResNet50
def create_deeper_cnn_model():
    pass
"""


def notebook_model(path: Path, start: int, end: int, shape: tuple):
    """Build the notebook's own model from its lines (Keras itself, no mlexp): its parameter count."""
    import keras

    lines = path.read_text(encoding="utf-8").splitlines()[start - 1 : end]
    lines = [re.sub(r"^\s*In \[[^\]]*\]:\s?", "", line) for line in lines if not line.startswith("```")]
    code = textwrap.dedent("\n".join(lines)).replace("weights='imagenet'", "weights=None")
    if code.lstrip().startswith("def build_model(hp)"):
        code += "\nimport keras_tuner\nmodel = build_model(keras_tuner.HyperParameters())\n"
    elif code.lstrip().startswith("def "):
        name = re.match(r"\s*def (\w+)", code).group(1)
        code += f"\nmodel = {name}()\n"
    namespace: dict = {}
    exec(PRELUDE + code, namespace)  # noqa: S102 (the notebook's own code, from the repository's seed files)
    model = [v for v in namespace.values() if isinstance(v, keras.Model)][-1]
    if not model.built:
        model.build((None, *shape))
    return model.count_params()


def mlexp_parameters(overrides: list[str]) -> int:
    from mlexp import models
    from mlexp.hydra_app import compose_validated
    from mlexp.run_setup import prepare

    cfg = compose_validated(overrides)
    _, splits = prepare(cfg)
    return models.build(cfg, splits.spec).count_params()


def import_file(mlexp, path: Path, *args: str):
    result = mlexp("import", str(path), *args)
    assert result.code == 0, result.err
    return result


def data_override(project: Path, dataset_files: dict, experiment: str) -> list[str]:
    text = (project / "conf" / "experiment" / f"{experiment}.yaml").read_text()
    dataset = re.search(r"override /dataset: (\w+)", text).group(1)
    if dataset == "npz":  # the notebook's data is its own (001): an npz shaped like it
        path = project / "own.npz"
        x = np.random.default_rng(0).normal(size=(60, 100)).astype("float32")
        y = np.arange(60) % 10
        np.savez(path, x_train=x[:40], y_train=y[:40], x_test=x[40:], y_test=y[40:])
        return [f"dataset.path={path}"]
    return [f"dataset.path={dataset_files[dataset]}"] if dataset in dataset_files else []


@pytest.mark.parametrize("seed", sorted(NOTEBOOK_MODELS))
def test_the_seed_notebooks_import_with_the_notebooks_parameter_counts(seed, mlexp, tmp_path, dataset_files):
    path = SEED_FILES[seed]
    import_file(mlexp, path, "--name", f"seed{seed}")
    report = (tmp_path / "conf" / f"import_seed{seed}.md").read_text()
    assert "## Line by line" in report and "| yes |" in report
    written = {path.stem for path in (tmp_path / "conf" / "experiment").glob("*.yaml")}
    assert written == set(NOTEBOOK_MODELS[seed])  # every model the notebook defines, each compared below
    for experiment, (start, end, shape) in NOTEBOOK_MODELS[seed].items():
        expected = notebook_model(path, start, end, shape)
        overrides = [f"experiment={experiment}", *data_override(tmp_path, dataset_files, experiment)]
        if seed in ("002", "003"):
            overrides.append("trainer.validation=split")  # the tiny copies: 10,000 rows held out do not fit
        if experiment == "seed002_model_2":
            overrides.append("model.weights=null")  # offline: the architecture without ImageNet's weights
        assert mlexp_parameters(overrides) == expected, experiment


def test_seed_002_tuner_backbone_and_augmentation(mlexp, tmp_path):
    import_file(mlexp, SEED_FILES["002"], "--name", "seed002")
    conf = tmp_path / "conf"
    space = (conf / "search_space" / "seed002_search.yaml").read_text()
    for expected in ("model.layers.0.filters:", "min: 32", "max: 128", "step: 32", "optimizer.learning_rate:",
                     "log: true", "model.layers.8.rate:", "model.layers.7.units:"):  # fmt: skip
        assert expected in space, expected
    backbone = (conf / "experiment" / "seed002_model_2.yaml").read_text()
    for expected in ("override /model: backbone", "arch: ResNet50", "dense_units:\n  - 256", "dropout: 0.5",
                     "input_size: 32", "freeze_epochs: 10"):  # fmt: skip
        assert expected in backbone, expected
    first = (conf / "experiment" / "seed002_model.yaml").read_text()
    for expected in ("layer: RandomRotation", "factor: 0.0556", "mode: horizontal", "scale: standardize",
                     "reduce_lr_on_plateau:", "factor: 0.5", "min_lr: 1.0e-06", "lr_scheduler:",
                     "start_epoch: 20", "rate: 0.1", "monitor: val_accuracy", "seed: 42"):  # fmt: skip
        assert expected in first, expected
    assert (
        "mlexp tune experiment=seed002_search search_space=seed002_search" in (conf / "import_seed002.md").read_text()
    )


def test_seed_004_comparisons_become_sweeps(mlexp, tmp_path):
    result = import_file(mlexp, SEED_FILES["004"], "--name", "seed004")
    assert "mlexp train -m sweep=seed004_compare3   # experiment=seed004_model_sigmoid,seed004_model_relu" in result.out
    sweep = (tmp_path / "conf" / "sweep" / "seed004_compare5.yaml").read_text()
    assert "experiment: seed004_model_adam,seed004_model_adagrad,seed004_model_rmsprop,seed004_model_sgd" in sweep
    adagrad = (tmp_path / "conf" / "experiment" / "seed004_model_adagrad.yaml").read_text()
    assert "override /optimizer: adagrad" in adagrad and "validation: test" in adagrad
    report = (tmp_path / "conf" / "import_seed004.md").read_text()
    assert "What differs: defaults.optimizer" in report
    assert "a plot: mlexp draws learning curves" in report  # every line accounted for, plots too


@pytest.mark.parametrize("seed", ["000", "004"])
def test_seed_000_and_004_experiments_train_end_to_end(seed, mlexp, tmp_path, dataset_files):
    """000 as one experiment; 004's activation comparison as the sweep the import printed (two runs)."""
    import_file(mlexp, SEED_FILES[seed], "--name", f"seed{seed}")
    experiment = {"000": "seed000_model", "004": "seed004_model_relu"}[seed]
    overrides = [*data_override(tmp_path, dataset_files, experiment), "trainer.epochs=1", "trainer.verbose=0"]
    if seed == "004":
        result = mlexp("train", "-m", "sweep=seed004_compare3", *overrides)
    else:
        result = mlexp("train", f"experiment={experiment}", *overrides)
    assert result.code == 0, result.err
    runs = run_dirs(tmp_path / "outputs")
    assert len(runs) == (2 if seed == "004" else 1)
    for run in runs:
        metrics = json.loads((run / "metrics.json").read_text())
        assert 0.0 <= metrics["test_accuracy"] <= 1.0
    if seed == "004":
        chosen = {(run / ".hydra" / "overrides.yaml").read_text().splitlines()[0] for run in runs}
        assert chosen == {"- experiment=seed004_model_sigmoid", "- experiment=seed004_model_relu"}


DIGITS = """
import keras
from keras import layers
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
import matplotlib.pyplot as plt

keras.utils.set_random_seed(3)
digits = load_digits()
x_train, x_test, y_train, y_test = train_test_split(digits.images, digits.target, test_size=0.2)
x_train = x_train / 16.0
x_test = x_test / 16.0
"""
# One script per construct: the model, compile and fit as a notebook writes them (digits, offline).
CONSTRUCTS = {
    "sequential": """
model = keras.Sequential([
    layers.Flatten(input_shape=(8, 8)),
    layers.Dense(32, activation="relu", kernel_regularizer=keras.regularizers.l2(0.001)),
    layers.Dropout(0.1),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
history = model.fit(x_train, y_train, epochs=1, batch_size=16, validation_split=0.2, callbacks=[stop])
plt.plot(history.history["loss"])
""",
    "add_chain": """
model = keras.Sequential()
model.add(layers.Flatten())
model.add(layers.Dense(24, activation="tanh", kernel_initializer="he_normal"))
model.add(layers.BatchNormalization())
model.add(layers.Dense(10, activation="softmax"))
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), loss="sparse_categorical_crossentropy")
history = model.fit(x_train, y_train, epochs=1, batch_size=32, validation_data=(x_test, y_test))
""",
    "functional_api": """
inputs = keras.Input(shape=(8, 8))
x = layers.Flatten()(inputs)
x = layers.Dense(16, activation="relu")(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=1, validation_split=0.2)
""",
    "one_hot_logits": """
y_train = keras.utils.to_categorical(y_train, 10)
model = keras.Sequential([layers.Flatten(), layers.Dense(20, activation="relu"), layers.Dense(10)])
model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
history = model.fit(x_train, y_train, epochs=1, batch_size=64, validation_split=0.25,
                    callbacks=[keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=1)])
""",
}  # fmt: skip
EXPECTED = {
    "sequential": ("override /dataset: digits", "override /optimizer: sgd", "momentum: 0.9", "batch_size: 16",
                   "validation_split: 0.2", "test_split: 0.2", "seed: 3", "class_name: L2", "patience: 2",
                   "restore_best_weights: false", "scale: unit", "approximation: validation_split: Keras validates"),
    "add_chain": ("override /optimizer: adam", "learning_rate: 0.003", "kernel_initializer: he_normal",
                  "layer: BatchNormalization", "validation: test"),
    "functional_api": ("override /model: functional_api", "override /optimizer: rmsprop"),
    "one_hot_logits": ("logits: true", "reduce_lr_on_plateau:", "factor: 0.5", "batch_size: 64"),
}  # fmt: skip


@pytest.mark.parametrize("construct", sorted(CONSTRUCTS))
def test_round_trip_a_script_trains_like_its_experiment(construct, mlexp, tmp_path):
    """A script and its experiment, one epoch each on the same data and seed: the same parameters, and a first
    epoch's loss of the same size (mlexp's split and batch order are its own: the report names them)."""
    import keras

    script = DIGITS + CONSTRUCTS[construct]
    (tmp_path / f"{construct}.py").write_text(script)
    import_file(mlexp, tmp_path / f"{construct}.py")
    text = (tmp_path / "conf" / "experiment" / f"{construct}.yaml").read_text()
    for expected in EXPECTED[construct]:
        assert expected in text, expected
    namespace: dict = {}
    exec(script.replace("import matplotlib.pyplot as plt", "").replace("plt.plot", "print"), namespace)  # noqa: S102
    script_loss = namespace["history"].history["loss"][0]
    keras.backend.clear_session()
    result = mlexp("train", f"experiment={construct}", "trainer.verbose=0")
    assert result.code == 0, result.err
    (run,) = run_dirs(tmp_path / "outputs")
    assert json.loads((run / "metrics.json").read_text())["param_count"] == namespace["model"].count_params()
    history = (run / "history.csv").read_text().splitlines()
    header, first = history[0].split(","), history[1].split(",")
    mlexp_loss = float(first[header.index("loss")])
    print(f"{construct}: first-epoch loss, script {script_loss:.4f}, experiment {mlexp_loss:.4f}")
    assert mlexp_loss == pytest.approx(script_loss, rel=0.1)  # measured: within 2%


FUNCTIONAL = """
import keras
from keras import layers
(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 28, 28, 1) / 255
num_classes = 10

def block(x, filters):
    x = layers.Conv2D(filters, 3, activation="relu")(x)
    return layers.MaxPooling2D()(x)

inputs = keras.Input(shape=(28, 28, 1))
x = block(inputs, 8)
x = layers.Flatten()(x)
outputs = layers.Dense(num_classes, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=3, validation_split=0.1)
"""


def test_a_functional_model_is_copied_into_the_project(mlexp, tmp_path, dataset_files):
    (tmp_path / "functional.py").write_text(FUNCTIONAL)
    import_file(mlexp, tmp_path / "functional.py")
    module = (tmp_path / "functional_code.py").read_text()
    assert "def block(x, filters):" in module and "num_classes = 10" in module
    assert "def functional(input_shape):" in module
    model_yaml = (tmp_path / "conf" / "model" / "functional.yaml").read_text()
    assert "_target_: functional_code.functional" in model_yaml and "head: false" in model_yaml
    namespace: dict = {}
    exec(
        FUNCTIONAL.split("model.compile")[0]
        .replace("keras.datasets.mnist.load_data()", "((0, 0), (0, 0))")
        .replace("x_train = x_train.reshape(-1, 28, 28, 1) / 255", ""),
        namespace,
    )  # noqa: S102
    expected = namespace["model"].count_params()
    assert mlexp_parameters(["experiment=functional", f"dataset.path={dataset_files['mnist']}"]) == expected


def test_a_loop_over_a_list_becomes_a_sweep(mlexp, tmp_path):
    (tmp_path / "loop.py").write_text(
        textwrap.dedent("""
        from tensorflow import keras
        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
        for act in ["relu", "tanh", "sigmoid"]:
            model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(64, activation=act),
                                      keras.layers.Dense(10, activation="softmax")])
            model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
            model.fit(x_train / 255.0, y_train, epochs=2)
    """)
    )
    result = import_file(mlexp, tmp_path / "loop.py")
    names = "loop_model_act_relu,loop_model_act_tanh,loop_model_act_sigmoid"
    assert f"mlexp train -m sweep=loop_compare1   # experiment={names}" in result.out
    tanh = (tmp_path / "conf" / "experiment" / "loop_model_act_tanh.yaml").read_text()
    assert "activation: tanh" in tanh and "validation: none" in tanh and "scale: unit" in tanh


def test_a_file_without_training_code_is_exit_2_and_nothing_is_overwritten(mlexp, tmp_path):
    (tmp_path / "plain.py").write_text("import numpy as np\nprint(np.arange(3))\n")
    result = mlexp("import", "plain.py")
    assert result.code == 2
    assert "plain.py holds no Keras training code" in result.err
    assert not (tmp_path / "conf").exists()
    (tmp_path / "loop.py").write_text("import keras\nm = keras.Sequential([keras.layers.Dense(3)])\n")
    assert mlexp("import", "loop.py").code == 0
    again = mlexp("import", "loop.py")
    assert again.code == 1 and "exists" in again.err and "--force" in again.err
    assert mlexp("import", "loop.py", "--force").code == 0
    missing = mlexp("import", "nowhere.ipynb")
    assert missing.code == 1 and "'nowhere.ipynb', which is not a file" in missing.err
    (tmp_path / "afile").write_text("")
    blocked = mlexp("import", "loop.py", "--into", "afile/conf", "--name", "other")
    assert blocked.code == 1 and "mlexp import: --into: cannot write afile/conf" in blocked.err
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    result = mlexp("import", str(broken))
    assert result.code == 1 and "is not notebook JSON" in result.err


def test_ipynb_json_and_prose_are_read(mlexp, tmp_path):
    cells = [{"cell_type": "markdown", "source": ["# Title\n"]},
             {"cell_type": "code", "source": ["!pip install keras\n", "import keras\n"]},
             {"cell_type": "code", "source": ["(x, y), (xt, yt) = keras.datasets.cifar10.load_data()\n",
                                              "m = keras.Sequential([keras.layers.Flatten(),\n",
                                              "    keras.layers.Dense(10, activation='softmax')])\n",
                                              "m.compile('adam', 'sparse_categorical_crossentropy')\n",
                                              "m.fit(x, y, epochs=4, validation_data=(xt, yt))\n"]}]  # fmt: skip
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": cells, "nbformat": 4}))
    import_file(mlexp, tmp_path / "nb.ipynb")
    text = (tmp_path / "conf" / "experiment" / "nb.yaml").read_text()
    assert "override /dataset: cifar10" in text and "epochs: 4" in text and "validation: test" in text
    assert "scale: none" in text  # the notebook did not scale: neither does the experiment
    report = (tmp_path / "conf" / "import_nb.md").read_text()
    assert "cell 1: 1 shell or magic line(s)" in report


def test_import_loads_no_tensorflow(tmp_path):
    """Its speed is measured by `make bench` ("mlexp import"), not here: this machine is shared."""
    code, loaded, proc = fresh_process(["import", str(SEED_FILES["004"])], tmp_path, watch=("tensorflow", "keras"))
    assert code == 0, proc.stderr
    assert loaded == []
    assert (tmp_path / "conf" / "experiment" / "nb_004_aa9b4e9cbeecc30d_model_relu.yaml").is_file()


SUBCLASSED = """
import keras
import tensorflow as tf

class StopAtLoss(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if logs.get("loss") < 0.4:
            self.model.stop_training = True

class Small(keras.Model):
    def __init__(self, units=16):
        super().__init__()
        self.flat = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(units, activation="relu")
        self.out = keras.layers.Dense(10, activation="softmax")

    def call(self, x):
        return self.out(self.hidden(self.flat(x)))

def schedule(epoch, lr):
    if epoch < 3:
        return lr
    else:
        return lr * tf.math.exp(-0.2)

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
model = Small(units=16)
model.compile(optimizer=keras.optimizers.RMSprop(lr=0.002), loss="sparse_categorical_crossentropy")
model.fit(x_train / 255.0, y_train, epochs=6, batch_size=64, validation_split=0.1,
          callbacks=[StopAtLoss(), keras.callbacks.LearningRateScheduler(schedule),
                     keras.callbacks.ReduceLROnPlateau(patience=2), keras.callbacks.TensorBoard("logs")])
"""


def test_a_subclassed_model_and_a_callback_class_are_copied(mlexp, tmp_path, dataset_files):
    (tmp_path / "sub.py").write_text(SUBCLASSED)
    import_file(mlexp, tmp_path / "sub.py")
    module = (tmp_path / "sub_code.py").read_text()
    assert "class Small(keras.Model):" in module and "class StopAtLoss(keras.callbacks.Callback):" in module
    experiment = (tmp_path / "conf" / "experiment" / "sub.yaml").read_text()
    for expected in ("_target_: sub_code.StopAtLoss", "override /optimizer: rmsprop", "learning_rate: 0.002",
                     "schedule: exponential", "start_epoch: 3", "rate: 0.2", "reduce_lr_on_plateau:",
                     "factor: 0.1", "patience: 2", "tensorboard:", "epochs: 6", "batch_size: 64"):  # fmt: skip
        assert expected in experiment, expected
    namespace: dict = {}
    build = "model = Small(units=16)\nmodel(keras.ops.zeros((1, 28, 28, 1)))\n"
    exec(SUBCLASSED.split("(x_train, y_train)")[0] + build, namespace)  # noqa: S102
    expected = namespace["model"].count_params()
    assert mlexp_parameters(["experiment=sub", f"dataset.path={dataset_files['mnist']}"]) == expected
    result = mlexp("train", "experiment=sub", f"dataset.path={dataset_files['mnist']}", "trainer.epochs=1",
                   "trainer.verbose=0")  # fmt: skip
    assert result.code == 0, result.err


DATA_SOURCES = {
    "table": ("import pandas as pd\nimport keras\ndf = pd.read_csv('houses.csv')\ny = df.pop('price')\n",
              ["override /dataset: csv", "path: houses.csv", "target: price"]),
    "folder": ("import keras\ntrain = keras.utils.image_dataset_from_directory('pets', image_size=(64, 64), "
               "batch_size=16, validation_split=0.25, subset='training', seed=1)\n",
               ["override /dataset: image_folder", "path: pets", "batch_size: 16", "- 64"]),
    "tfds": ("import keras\nimport tensorflow_datasets as tfds\ntrain = tfds.load('beans', split='train')\n",
             ["override /dataset: tfds", "tfds_name: beans"]),
    "missing": ("import keras\n(x, y), _ = keras.datasets.reuters.load_data()\n",
                ["override /dataset: npz", "EDIT before running: dataset: mlexp has no dataset 'reuters'"]),
}  # fmt: skip
FIT = """
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(3)])
model.compile(optimizer="adam", loss="mse")
model.fit({x}, {y}epochs=2)
"""


@pytest.mark.parametrize("source", sorted(DATA_SOURCES))
def test_data_sources_become_datasets(source, mlexp, tmp_path):
    code, expected = DATA_SOURCES[source]
    x, y = {"table": ("df", "y, "), "folder": ("train", ""), "tfds": ("train", ""), "missing": ("x", "y, ")}[source]
    (tmp_path / f"{source}.py").write_text(code + FIT.format(x=x, y=y))
    import_file(mlexp, tmp_path / f"{source}.py")
    text = (tmp_path / "conf" / "experiment" / f"{source}.yaml").read_text()
    for line in expected:
        assert line in text, line


COURSE_STYLE = {
    "flat_mnist": (
        """
import numpy as np
from keras.datasets import mnist
from keras.models import Sequential
from keras.layers import Dense
from keras.optimizers.legacy import SGD
from sklearn.model_selection import train_test_split
(X_train, y_train), (X_test, y_test) = mnist.load_data()
X_train = X_train.reshape(60000, 784).astype('float32') / 255
X_test = X_test.reshape(10000, 784).astype('float32') / 255
X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_size=0.1)
optimizers = {"sgd": SGD(lr=0.01, momentum=0.9), "sgd_fast": SGD(lr=0.1)}
for name, opt in optimizers.items():
    model = Sequential()
    model.add(Dense(64, activation='relu', input_dim=784))
    model.add(Dense(10, activation='softmax'))
    model.compile(loss='sparse_categorical_crossentropy', optimizer=opt, metrics=['accuracy'])
    model.fit(X_train, y_train, nb_epoch=3, batch_size=128, validation_data=(X_val, y_val))
""",
        "flat_mnist_model_name_sgd",
        ["layer: Reshape", "target_shape:\n    - 784", "validation_split: 0.1", "epochs: 3", "learning_rate: 0.01",
         "momentum: 0.9", "override /dataset: mnist"],
    ),
    "table": (
        """
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
import tensorflow as tf
df = pd.read_csv('datos.csv')
X = df.drop('precio', axis=1)
y = df['precio']
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=7)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train)
model = tf.keras.Sequential([tf.keras.layers.Dense(32, activation='relu'), tf.keras.layers.Dense(1)])
model.compile(optimizer='adam', loss=tf.keras.losses.mean_squared_error, metrics=['mae'])
model.fit(X_train, y_train, epochs=40, validation_split=0.2, verbose=0)
""",
        "table",
        ["override /dataset: csv", "path: datos.csv", "target: precio", "test_split: 0.3", "split_seed: 7",
         "head: false", "loss: mean_squared_error", "epochs: 40", "verbose: 0"],
    ),
    "generator": (
        """
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from tensorflow.keras import layers, models
gen = ImageDataGenerator(rescale=1./255, horizontal_flip=True, zoom_range=0.1)
train = gen.flow_from_directory('fotos/train', target_size=(64, 64), batch_size=20, class_mode='binary')
model = models.Sequential([layers.Conv2D(8, 3, activation='relu', input_shape=(64, 64, 3)),
                           layers.GlobalAveragePooling2D(), layers.Dense(1, activation='sigmoid')])
model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
model.fit(train, epochs=5)
""",
        "generator",
        ["override /dataset: image_folder", "path: fotos/train", "scale: unit", "batch_size: 20",
         "layer: RandomFlip", "layer: RandomZoom", "validation: none", "override /optimizer: rmsprop"],
    ),
    "script": (
        """
import tensorflow as tf

def main():
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()
    strategy = tf.distribute.MirroredStrategy()
    with strategy.scope():
        model = tf.keras.Sequential([tf.keras.layers.Conv2D(16, 3, activation="relu"),
                                     tf.keras.layers.GlobalAveragePooling2D(),
                                     tf.keras.layers.Dense(10, activation="softmax")])
        model.compile(optimizer="nadam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    try:
        model.fit(x_train / 255.0, y_train, epochs=7, validation_split=0.1)
    except KeyboardInterrupt:
        pass

if __name__ == "__main__":
    main()
""",
        "script",
        ["override /dataset: cifar10", "override /optimizer: nadam", "epochs: 7", "layer: Conv2D", "scale: unit"],
    ),
    "counted_classes": (
        """
import numpy as np
from tensorflow.keras.datasets import fashion_mnist
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import InputLayer, Flatten, Dense
import tensorflow as tf
(X, y), (X_test, y_test) = fashion_mnist.load_data()
num_classes = len(np.unique(y))
model = Sequential(name="mine")
model.add(InputLayer(input_shape=(28, 28)))
model.add(Flatten())
model.add(Dense(64, activation=tf.nn.relu))
model.add(Dense(num_classes, activation=tf.nn.softmax))
model.compile(optimizer=tf.keras.optimizers.Adam(lr=0.01, decay=1e-6), loss="sparse_categorical_crossentropy")
model.fit(X / 255.0, y, epochs=2, batch_size=256)
""",
        "counted_classes",
        ["logits: false", "activation: relu", "learning_rate: 0.01", "optimizer argument decay=1e-06 not imported"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(COURSE_STYLE))
def test_course_style_notebooks(case, mlexp, tmp_path):
    code, experiment, expected = COURSE_STYLE[case]
    (tmp_path / f"{case}.py").write_text(code)
    import_file(mlexp, tmp_path / f"{case}.py")
    text = (tmp_path / "conf" / "experiment" / f"{experiment}.yaml").read_text()
    for line in expected:
        assert line in text, line
    assert "InputLayer" not in text and "EDIT" not in text
