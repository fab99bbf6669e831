"""Where a notebook's data comes from, as an mlexp dataset: Keras' datasets, scikit-learn's, files."""

from __future__ import annotations

from typing import Any

from mlexp.importer.values import Data, Dataset, Unknown

# keras.datasets.X -> (mlexp dataset, sample shape as Keras loads it, classes)
KERAS = {
    "mnist": ("mnist", (28, 28), 10),
    "fashion_mnist": ("fashion_mnist", (28, 28), 10),
    "cifar10": ("cifar10", (32, 32, 3), 10),
    "cifar100": ("cifar100", (32, 32, 3), 100),
    "imdb": ("imdb", None, 2),
}
# mlexp's sample shape for a dataset (what its model's input is)
MLEXP_SHAPES = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3), "cifar100": (32, 32, 3),
                "digits": (8, 8, 1)}  # fmt: skip
SKLEARN = {"load_digits": ("digits", (64,), 10)}


def keras_dataset(name: str, args: list, kwargs: dict) -> Any:
    """`keras.datasets.NAME.load_data(...)`: ((x_train, y_train), (x_test, y_test))."""
    if name not in KERAS:
        dataset = Dataset("", origin=f"keras.datasets.{name}.load_data()")
        dataset.settings["missing"] = (
            f"mlexp has no dataset {name!r}: save the arrays with np.savez and use dataset=npz"
        )
    else:
        mlexp_name, shape, classes = KERAS[name]
        dataset = Dataset(mlexp_name, origin=f"keras.datasets.{name}.load_data()", shape=shape, classes=classes)
        if name == "imdb":
            words = kwargs.get("num_words", args[1] if len(args) > 1 else None)
            dataset.settings["num_words"] = words if isinstance(words, int) else 10000
            dataset.shape = (dataset.settings["num_words"],)
    return (
        (Data(dataset, "x_train", shape=dataset.shape), Data(dataset, "y_train")),
        (Data(dataset, "x_test", shape=dataset.shape), Data(dataset, "y_test")),
    )


def sklearn_dataset(name: str, kwargs: dict) -> Any:
    if name in SKLEARN:
        mlexp_name, shape, classes = SKLEARN[name]
        dataset = Dataset(mlexp_name, origin=f"sklearn.datasets.{name}()", shape=shape, classes=classes)
    else:
        dataset = Dataset("", origin=f"sklearn.datasets.{name}()")
        dataset.settings["missing"] = (
            f"mlexp has no dataset {name!r}: write it to a CSV (pandas' to_csv) and use dataset=csv"
        )
    x, y = Data(dataset, "x", shape=dataset.shape), Data(dataset, "y")
    if kwargs.get("return_X_y"):
        return (x, y)
    return {"data": x, "target": y, "images": Data(dataset, "x", shape=(8, 8)) if name == "load_digits" else x}


def npz(path: Any) -> Any:
    dataset = Dataset("npz", {"path": path if isinstance(path, str) else "???"}, origin=f"np.load({path!r})")
    return {key: Data(dataset, key) for key in ("x_train", "y_train", "x_test", "y_test", "x_val", "y_val")}


def csv(path: Any, kwargs: dict) -> Any:
    dataset = Dataset("csv", {"path": path if isinstance(path, str) else "???"}, origin=f"pandas.read_csv({path!r})")
    return Data(dataset, "table")


def folder(function: str, path: Any, kwargs: dict) -> Any:
    """`image_dataset_from_directory` and its kin: one split, or (train, validation) with subset="both"."""
    data = text_folder(path, kwargs) if function.startswith("text") else image_folder(path, kwargs)
    if isinstance(kwargs.get("validation_split"), float):
        data.dataset.settings["validation_split"] = kwargs["validation_split"]
    if isinstance(kwargs.get("batch_size"), int):
        data.batch = kwargs["batch_size"]
    subset = kwargs.get("subset")
    if subset == "both":
        return (data, data.but(part="val"))
    return data.but(part="val") if subset == "validation" else data


def text_folder(path: Any, kwargs: dict) -> Data:
    dataset = Dataset("text_folder", {"path": path if isinstance(path, str) else "???"},
                      origin=f"texts in folders ({path!r})")  # fmt: skip
    return Data(dataset, "folder")


def image_folder(path: Any, kwargs: dict) -> Data:
    settings = {"path": path if isinstance(path, str) else "???"}
    size = kwargs.get("image_size", kwargs.get("target_size"))
    if isinstance(size, list | tuple) and len(size) == 2:
        settings["image_size"] = list(size)
    if kwargs.get("color_mode") in ("grayscale", "rgb", "rgba"):
        settings["color_mode"] = kwargs["color_mode"]
    dataset = Dataset("image_folder", settings, origin=f"images in folders ({path!r})")
    channels = {"grayscale": 1, "rgba": 4}.get(settings.get("color_mode"), 3)
    dataset.shape = (*settings.get("image_size", [256, 256]), channels)
    return Data(dataset, "folder", shape=dataset.shape)


def tfds(name: Any, kwargs: dict) -> Any:
    dataset = Dataset("tfds", {"tfds_name": name if isinstance(name, str) else "???"}, origin=f"tfds.load({name!r})")
    return Data(dataset, "tfds")


def split(args: list, kwargs: dict) -> Any:
    """`train_test_split(x, y, test_size=...)`: the dataset's own test split (digits: test_split)."""
    if len(args) < 2 or not all(isinstance(a, Data) for a in args[:2]):
        return Unknown("train_test_split of arrays the import cannot follow")
    x, y = args[0], args[1]
    test_size = kwargs.get("test_size", 0.25)
    if x.part == "x_train":  # a validation split of the training data: trainer.validation_split
        fraction = test_size if isinstance(test_size, float) else 0.25
        x.dataset.settings["validation_split"] = fraction
        return (x, x.but(part="val"), y, y.but(part="val"))
    for data in (x, y):
        data.dataset.settings["test_split"] = test_size if isinstance(test_size, float) else 0.25
        if "random_state" in kwargs and isinstance(kwargs["random_state"], int):
            data.dataset.settings["split_seed"] = kwargs["random_state"]
    return (x.but(part="x_train"), x.but(part="x_test"), y.but(part="y_train"), y.but(part="y_test"))
