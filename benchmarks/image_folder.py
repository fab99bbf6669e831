"""Image folders: mlexp's streamed loader against keras.utils.image_dataset_from_directory.

  python benchmarks/image_folder.py write FOLDER FILES      a folder of FILES PNGs (32x32, 10 classes)
  python benchmarks/image_folder.py mlexp FOLDER           one epoch of the lab CNN on mlexp's pipeline
  python benchmarks/image_folder.py keras FOLDER           the same epoch on Keras' own loader

The two training modes build the same model and time one `fit` epoch without validation, so their
images/s compare the input pipelines; each prints `RESULT images=N seconds=S`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

SIZE, CLASSES, BATCH = 32, 10, 64


def write(folder: Path, files: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(files):
        label = i % CLASSES
        pixels = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
        pixels[:, :, label % 3] //= 2 + label // 3  # a weak class signal, so the model has something to learn
        path = folder / f"class_{label}" / f"{i:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(path)


def model(keras):
    """The MNIST lab's CNN: conv32-pool-conv64-pool-dense64, on 32x32x3 inputs scaled to [0, 1]."""
    model = keras.Sequential([
        keras.Input((SIZE, SIZE, 3)),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(CLASSES, activation="softmax"),
    ])  # fmt: skip
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def timed_epoch(keras, dataset, images: int) -> None:
    net = model(keras)
    start = time.perf_counter()
    net.fit(dataset, epochs=1, verbose=0)
    print(f"RESULT images={images} seconds={time.perf_counter() - start:.3f}")


def with_mlexp(folder: Path) -> None:
    from mlexp import data
    from mlexp.data.pipeline import EpochOrder, training_dataset
    from mlexp.hydra_app import compose_validated
    from mlexp.tf_runtime import import_keras

    keras = import_keras()
    cfg = compose_validated(["dataset=image_folder", f"dataset.path={folder}", f"dataset.image_size=[{SIZE},{SIZE}]"])
    splits = data.load(cfg.dataset, cfg.trainer)
    ds = training_dataset(
        splits.x_train, splits.y_train, BATCH, order=EpochOrder(cfg.seed), decode=data.decoder(splits)
    )
    timed_epoch(keras, ds, len(splits.x_train))


def with_keras(folder: Path) -> None:
    import tensorflow as tf

    from mlexp.tf_runtime import import_keras

    keras = import_keras()
    ds = keras.utils.image_dataset_from_directory(folder, image_size=(SIZE, SIZE), batch_size=BATCH, seed=0)
    images = sum(1 for _ in folder.rglob("*.png"))
    ds = ds.map(lambda x, y: (x / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    timed_epoch(keras, ds, images)


if __name__ == "__main__":
    mode, folder = sys.argv[1], Path(sys.argv[2])
    if mode == "write":
        write(folder, int(sys.argv[3]))
    else:
        {"mlexp": with_mlexp, "keras": with_keras}[mode](folder)
