"""The hand-written comparison cell for the sweep benchmark: plain Keras, no mlexp, one process.

For each seed: the default mlexp run's model (digits 8x8, Flatten, Dense 128-64 relu, softmax; Adam 1e-3,
batch 32), fit with validation_split=0.2, evaluate on the stratified test split, save a `.keras` file:
what `mlexp train -m "seed=range(0,N)" trainer.epochs=E trainer.verbose=0` does, minus mlexp's records.
The backend is Keras' own KERAS_BACKEND.
Usage: python benchmarks/plain_sweep.py [--jobs N] [--epochs E] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    import keras
    from keras import layers
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.images[..., None] / 16.0, digits.target, test_size=0.2, stratify=digits.target, random_state=0
    )
    out = args.out or Path(tempfile.mkdtemp(prefix="plain-sweep-"))
    for seed in range(args.jobs):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([
            keras.Input(x_train.shape[1:]), layers.Flatten(), layers.Dense(128, activation="relu"),
            layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax"),
        ])  # fmt: skip
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, validation_split=0.2, verbose=0)
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
        model.save(out / f"seed_{seed}.keras")
        print(f"seed {seed}: test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
