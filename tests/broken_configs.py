"""Deliberately broken configs, each with the finding the doctor must raise (the notebooks' mistakes),
and healthy configs that must stay clean.

BROKEN: (overrides, finding code, severity, when: "preflight" or "diagnosis"[, advice]). An override
`dataset.path={data:NAME}` reads a small .npz that DATA[NAME] writes: the data mistakes live in files.
`advice`, when given, is the suggestion the finding must make (advice by cause, not by symptom).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SMALL = ["trainer.verbose=0", "trainer.epochs=6"]
DENSE = "{layer: Dense, units: 32, activation: sigmoid}"


def _digits():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.float32), bunch.target.astype(np.int64)


def _save(path: Path, x, y, xt, yt, **extra) -> Path:
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=yt, **extra)
    return path


def sixteen_bit(path: Path) -> Path:
    """Digits as 16-bit images (0..65535): unit scaling divides by 255 and leaves values up to 257."""
    x, y = _digits()
    x = (x * 4095).astype(np.uint16)
    return _save(path, x[:1400], y[:1400], x[1400:], y[1400:])


def val_scaled_apart(path: Path) -> Path:
    """A validation file already divided by 255 while the training images are raw 0..255 pixels."""
    x, y = _digits()
    x = x * 16
    return _save(path, x[:1200], y[:1200], x[1500:], y[1500:], x_val=x[1200:1500] / 255.0, y_val=y[1200:1500])


def test_in_train(path: Path) -> Path:
    """The test split copied from the training rows."""
    x, y = _digits()
    return _save(path, x[:1400], y[:1400], x[:300], y[:300])


def val_is_test(path: Path) -> Path:
    """A validation file equal to the test split."""
    x, y = _digits()
    return _save(path, x[:1400], y[:1400], x[1400:], y[1400:], x_val=x[1400:], y_val=y[1400:])


def sorted_labels(path: Path) -> Path:
    """Training data sorted by label: a holdout from its head (trainer.validation=head) holds class 0 only."""
    x, y = _digits()
    order = np.argsort(y[:1400], kind="stable")
    return _save(path, x[:1400][order], y[:1400][order], x[1400:], y[1400:])


def imbalanced(path: Path) -> Path:
    """95% of one class: the digits 1-9 against a few zeros. A model that learns must not be not_learning."""
    x, y = _digits()
    zeros = np.flatnonzero(y == 0)[:80]
    keep = np.random.default_rng(0).permutation(np.concatenate([np.flatnonzero(y != 0), zeros]))
    x, y = x[keep], (y[keep] == 0).astype(np.int64)
    cut = int(len(x) * 0.8)
    return _save(path, x[:cut], y[:cut], x[cut:], y[cut:])


def one_based(path: Path) -> Path:
    """Labels 1..10 with the 10 class names: the numbering is off by one."""
    x, y = _digits()
    names = np.array([str(i) for i in range(10)])
    return _save(path, x[:1400], y[:1400] + 1, x[1400:], y[1400:] + 1, class_names=names)


def shuffled_labels(path: Path) -> Path:
    """The training labels permuted (inputs and labels shuffled apart): nothing in an image predicts its label."""
    x, y = _digits()
    y_train = np.random.default_rng(0).permutation(y[:1400])
    return _save(path, x[:1400], y_train, x[1400:], y[1400:])


def digits_npz(path: Path) -> Path:
    """shuffled_labels' healthy neighbour: the same file with the labels where they belong."""
    x, y = _digits()
    return _save(path, x[:1400], y[:1400], x[1400:], y[1400:])


def breast_cancer_table(path: Path) -> Path:
    """scikit-learn's breast cancer table as a CSV: columns that reach 10+ after standardizing (no pixels)."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.to_csv(path.with_suffix(".csv"), index=False)
    return path.with_suffix(".csv")


DATA = {f.__name__: f for f in (breast_cancer_table, sixteen_bit, val_scaled_apart, test_in_train, val_is_test,
                                sorted_labels, imbalanced, one_based, shuffled_labels, digits_npz)}  # fmt: skip

BROKEN = [
    (["model.kernel_initializer=zeros", "model.bias_initializer=zeros"], "constant_initializer", "warning",
     "preflight"),
    (["dataset.scale=none"], "unscaled_inputs", "warning", "preflight"),
    (["trainer.validation=test"], "validating_on_test", "warning", "preflight"),
    (["model.activation=sigmoid", "model.hidden_units=[32,32,32,32]"], "saturating_activation", "warning", "preflight"),
    (["optimizer.learning_rate=10"], "learning_rate_too_high", "warning", "preflight"),
    (["optimizer.learning_rate=10"], "not_learning", "error", "diagnosis"),
    (
        ["model=sequential", "model.logits=true",
         "model.layers=[{layer: Flatten}, {layer: Dense, units: 10, activation: softmax}]"],
        "output_layer_in_body", "error", "preflight",
    ),
    # Built model, whatever wrote it
    (["model=sequential", f"model.layers=[{{layer: Flatten}}, {DENSE}, {DENSE}, {DENSE}]"], "saturating_activation",
     "warning", "preflight"),
    (["model=sequential", "model.layers=[{layer: Flatten}, {layer: Dense, units: 32}, {layer: Softmax}]"],
     "output_layer_in_body", "error", "preflight"),
    # Data mistakes outside the config
    (["dataset=npz", "dataset.path={data:sixteen_bit}"], "inputs_beyond_unit", "warning", "preflight"),
    (["dataset=npz", "dataset.path={data:val_scaled_apart}", "trainer.validation=file"], "splits_scaled_differently",
     "warning", "preflight"),
    (["dataset=npz", "dataset.path={data:test_in_train}"], "duplicates_across_splits", "warning", "preflight"),
    (["dataset=npz", "dataset.path={data:val_is_test}", "trainer.validation=file"], "validation_is_test", "warning",
     "preflight"),
    (["dataset=npz", "dataset.path={data:sorted_labels}", "trainer.validation=head", "trainer.validation_size=100"],
     "split_missing_classes", "warning", "preflight"),
    (["dataset=npz", "dataset.path={data:imbalanced}"], "class_imbalance", "warning", "preflight",
     "trainer.class_weight=balanced"),
    (["dataset=npz", "dataset.path={data:one_based}"], "labels_out_of_range", "error", "preflight",
     "store the labels as 0..9 (y - 1): they count from 1"),
    (["dataset=npz", "dataset.path={data:shuffled_labels}", "dataset.scale=standardize", "model.hidden_units=[512,512]",
      "trainer.epochs=30"], "labels_without_signal", "error",
     "diagnosis"),
    # Advice by cause
    (["model.dropout=0.9"], "underfitting", "warning", "diagnosis", "model.dropout=0.2"),
    (["regularizer=l2", "regularizer.l2=0.5"], "underfitting", "warning", "diagnosis", "regularizer.l2=0.001"),
    (["optimizer=sgd", "optimizer.learning_rate=0.5", "optimizer.momentum=0.99"], "learning_rate_too_high", "warning",
     "preflight", "optimizer.learning_rate=0.01 optimizer.momentum=0.9"),
    # 60 epochs: in the slow suite
    (["model.hidden_units=[512,512]", "dataset.test_split=0.8", "trainer.epochs=60"], "overfitting", "warning",
     "diagnosis"),
]  # fmt: skip

# Healthy runs: no pre-flight finding, no diagnosis (the default 20 epochs on digits unless said).
HEALTHY = [
    [],
    ["optimizer=sgd", "optimizer.learning_rate=0.05", "optimizer.momentum=0.9"],
    ["model.activation=tanh", "model.hidden_units=[64,64,64]"],
    ["model=sequential", "model.layers=[{layer: Flatten}, {layer: Dense, units: 128, activation: sigmoid}]"],
    ["model=sequential", f"model.layers=[{{layer: Flatten}}, {DENSE.replace('32', '64')}, {DENSE}]"],
    ["trainer.validation_split=0.05"],
    ["model=cnn", "model.filters=[16]", "model.padding=same", "model.dense_units=[32]"],
    ["model.dropout=0.2", "regularizer=l2", "regularizer.l2=0.0001"],
    ["dataset=npz", "dataset.path={data:imbalanced}", "trainer.class_weight=balanced"],
    ["dataset=npz", "dataset.path={data:digits_npz}", "trainer.epochs=30"],
    ["dataset=csv", "dataset.path={data:breast_cancer_table}", "dataset.target=target"],
]
