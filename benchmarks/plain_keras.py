"""The hand-written notebook baseline for the overhead benchmark: plain Keras, no mlexp.

Flatten, Dense(128, sigmoid), softmax (--model cnn: the MNIST lab's conv32-pool-conv64-pool-dense64-
dropout0.5); Adam, sparse categorical cross-entropy, `fit` on NumPy arrays with validation_split=0.2, then
`evaluate` on the test split: what the exercise sheet's cells do. The backend is Keras' own KERAS_BACKEND.
`imdb FILE` is the IMDB notebook (003): imdb.npz's word indices as multi-hot vectors over 10,000 words,
Dense 16-16 relu, one sigmoid unit, RMSprop, the first 10,000 training reviews held out for validation.
Usage: python benchmarks/plain_keras.py fashion DATA_DIR | digits | imdb FILE  [--model mlp|cnn] [--epochs N]
       [--batch-size N] [--seed N]
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import numpy as np


def idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(name: str, data_dir: str | None):
    if name == "fashion":
        d = Path(data_dir)
        x_train, y_train = idx(d / "train-images-idx3-ubyte.gz"), idx(d / "train-labels-idx1-ubyte.gz")
        x_test, y_test = idx(d / "t10k-images-idx3-ubyte.gz"), idx(d / "t10k-labels-idx1-ubyte.gz")
        return (x_train / 255.0, y_train), (x_test / 255.0, y_test)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images / 16.0, digits.target, test_size=0.2, stratify=digits.target, random_state=0
    )
    return (x_train, y_train), (x_test, y_test)


def vectorize(sequences, dimension: int = 10000) -> np.ndarray:
    """The notebook's multi-hot vectors (Keras' imdb.load_data offsets: index_from=3, 2 = out of vocabulary)."""
    results = np.zeros((len(sequences), dimension), dtype="float32")
    for i, sequence in enumerate(sequences):
        words = np.asarray(sequence) + 3
        results[i, np.where(words < dimension, words, 2)] = 1.0
    return results


def imdb(path: str, epochs: int, batch_size: int) -> None:
    import keras
    from keras import layers

    with np.load(path, allow_pickle=True) as data:
        x_train, y_train = vectorize(data["x_train"]), data["y_train"].astype("float32")
        x_test, y_test = vectorize(data["x_test"]), data["y_test"].astype("float32")
    model = keras.Sequential([keras.Input((10000,)), layers.Dense(16, activation="relu"),
                              layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])  # fmt: skip
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train[10000:], y_train[10000:], epochs=epochs, batch_size=batch_size,
              validation_data=(x_train[:10000], y_train[:10000]), verbose=2)  # fmt: skip
    print(f"test accuracy {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", choices=["fashion", "digits", "imdb"])
    parser.add_argument("data_dir", nargs="?")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    args = parser.parse_args()

    import keras
    from keras import layers

    keras.utils.set_random_seed(args.seed)
    if args.dataset == "imdb":
        return imdb(args.data_dir, args.epochs, args.batch_size)
    (x_train, y_train), (x_test, y_test) = load(args.dataset, args.data_dir)
    x_train, x_test = x_train[..., None], x_test[..., None]  # height x width x 1, as mlexp loads them
    if args.model == "mlp":
        body = [layers.Flatten(), layers.Dense(128, activation="sigmoid")]
    else:
        body = [
            layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
            layers.Flatten(), layers.Dense(64, activation="relu"), layers.Dropout(0.5),
        ]  # fmt: skip
    model = keras.Sequential([keras.Input(x_train.shape[1:]), *body, layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.2, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
