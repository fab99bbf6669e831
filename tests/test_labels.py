"""What every loader's labels go through: the task they pose, and one line for labels that cannot be right."""

from __future__ import annotations

import numpy as np
import pytest

from mlexp.data.labels import prepare
from mlexp.data.raw import Raw
from mlexp.data.sources import DataError


def raw(y_train, y_test=None, x_train=None, x_test=None, names=None, **fields) -> Raw:
    y_train = np.asarray(y_train)
    y_test = np.asarray(y_train if y_test is None else y_test)
    x_train = np.zeros((len(y_train), 3), np.float32) if x_train is None else x_train
    x_test = np.zeros((len(y_test), 3), np.float32) if x_test is None else x_test
    return Raw(x_train, y_train, x_test, y_test, names, origin="dataset.path d.npz", **fields)


def error(data: Raw, task: str = "auto") -> str:
    with pytest.raises(DataError) as caught:
        prepare(data, task)
    return str(caught.value)


@pytest.mark.parametrize(
    "labels,task,names",
    [
        ([0, 1, 2, 1], "multiclass", ["0", "1", "2"]),
        ([0, 1, 1, 0], "binary", ["0", "1"]),
        ([[1, 0], [0, 0], [1, 1], [0, 1]], "multilabel", ["label_0", "label_1"]),
        (np.linspace(0, 1, 30), "regression", []),
        (np.array([0.0, 1.0, 2.0, 1.0]), "multiclass", ["0", "1", "2"]),  # whole floats are class indices
        ([[0], [2], [1], [1]], "multiclass", ["0", "1", "2"]),  # a column vector
    ],
    ids=["indices", "two-classes", "zero-one-rows", "many-floats", "whole-floats", "column"],
)
def test_task_inferred_from_labels(labels, task, names):
    data, found = prepare(raw(labels))
    assert found == task
    assert (data.class_names or []) == names
    if task in ("multiclass", "binary"):
        assert data.y_train.dtype == np.int32 and data.y_train.ndim == 1


def test_string_labels_map_through_class_names():
    data, task = prepare(raw(["cat", "dog", "cat"], names=["cat", "dog"]))
    assert task == "binary" and data.y_train.tolist() == [0, 1, 0]


@pytest.mark.parametrize(
    "data,task,expected",
    [
        (raw([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), "auto",
         "dataset.path d.npz y_train: labels are one-hot (3 columns); expected class indices: store y.argmax(axis=1)"),
        (raw([0, 0.5, 1, 2]), "auto",
         "dataset.path d.npz y_train: labels hold non-integer values (e.g. 0.5); expected class indices 0..K-1 "
         "(or dataset.task=regression for a numeric target)"),
        (raw(["cat", "dog"]), "auto",
         "dataset.path d.npz y_train: labels are strings ('cat', 'dog') but no class names were given"),
        (raw(["cat", "cow"], names=["cat", "dog"]), "auto", "labels ['cow'] are not among the class names"),
        (raw([0, 1, 2], x_train=np.zeros((4, 3))), "auto",
         "dataset.path d.npz: x_train has 4 rows but y_train has 3; expected equal"),
        (raw([], y_test=[0, 1]), "auto",
         "dataset.path d.npz: x_train is empty (0 samples); expected at least one train sample"),
        (raw([0, 1], x_test=np.zeros((2, 4))), "auto",
         "inputs differ in shape between splits (train (3,), test (4,)); expected one shape"),
        (raw([0, -1, 1]), "auto", "labels include -1; expected class indices from 0"),
        (raw([0, 1, 2]), "binary", "dataset.task: got 'binary', but dataset.path d.npz has 3 classes"),
        (raw([0, 2, 1]), "multilabel", "expected a 0/1 matrix (one column per label) for dataset.task=multilabel"),
        (raw(["a", "b"]), "regression", "expected one number per sample for regression"),
        (raw([0.1, np.nan, 0.3]), "regression", "1 targets are NaN or infinite"),
    ],
    ids=["one-hot", "half", "strings", "unknown-string", "length", "empty", "shapes", "negative", "binary-3",
         "multilabel-indices", "regression-strings", "regression-nan"],
)  # fmt: skip
def test_labels_that_cannot_be_right_get_one_line(data, task, expected):
    assert expected in error(data, task)
