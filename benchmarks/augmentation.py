"""Augmentation throughput: mlexp's tf.data pipeline against Keras' ImageDataGenerator.flow.

CIFAR-sized synthetic images (32x32x3; content does not matter for throughput), the CIFAR notebook's
augmentation (mlexp: augmentation=images; ImageDataGenerator: rotation_range=20, shifts 0.2,
shear_range=0.2, zoom_range=0.2, horizontal_flip, fill_mode nearest), and two models built by mlexp's
builder for all three inputs:
- input-bound: a linear classifier (model=sequential, only Flatten before the head), whose step costs
  almost nothing, as when an accelerator trains and the CPU only feeds it (the notebook's setting:
  ImageDataGenerator starving the model); this measures how fast each pipeline feeds training;
- model-bound: the MNIST lab's CNN (model=cnn), which on a 2-core CPU shares the cores with the input.
Training images per second: the fastest of epochs 2-6 of one fit (epoch 1 traces and compiles the
step), then the median over fits; the input alone is one epoch of batches drawn without a model. Why
the fastest epoch: on these shared cores any multi-threaded epoch runs at one of two speeds, 1.5x
apart, the slower one with both cores half idle; the speed changes from epoch to epoch with or without
augmentation, with XLA, with threads pinned to cores, and not with one thread (benchmarks/NOTES.md).
A median of epochs compares whichever speeds each input drew; the fastest epoch compares both inputs
at the machine's full speed. CPU time per image (the process's, all threads; median of epochs 2-6) is
shown too: it is the same at both speeds, so its ratio is what augmentation costs in work.
Usage: python benchmarks/augmentation.py REPEATS tiny|full; prints a Markdown table after a RESULTS line.
"""

from __future__ import annotations

import statistics
import sys
import time


def main(repeats: int, size: str) -> None:
    import numpy as np

    from mlexp.tf_runtime import import_keras

    keras = import_keras()
    from keras.src.legacy.preprocessing.image import ImageDataGenerator  # no public alias left in Keras 3

    from mlexp import models
    from mlexp.data import DatasetSpec
    from mlexp.data.augment import augmenter
    from mlexp.data.pipeline import EpochOrder, training_dataset
    from mlexp.hydra_app import compose_validated

    n, batch, epochs = (256, 64, 2) if size == "tiny" else (8192, 64, 6)
    rng = np.random.default_rng(0)
    x = rng.random((n, 32, 32, 3), dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.int32)
    common = ["augmentation=images", f"trainer.batch_size={batch}"]
    models_by_name = {
        "linear (input-bound)": compose_validated(["model=sequential", "model.layers=[{layer: Flatten}]", *common]),
        "lab CNN (model-bound)": compose_validated(["model=cnn", *common]),
    }
    cfg = models_by_name["lab CNN (model-bound)"]  # its augmentation and seed are the same for both
    spec = DatasetSpec("synthetic-cifar", (32, 32, 3), 10, [str(i) for i in range(10)])
    generator = ImageDataGenerator(
        rotation_range=20,
        width_shift_range=0.2,
        height_shift_range=0.2,
        shear_range=0.2,
        zoom_range=0.2,
        horizontal_flip=True,
        fill_mode="nearest",
    )

    def mlexp_input(augment: bool):
        order = EpochOrder(cfg.seed)
        return training_dataset(x, y, batch, augment=augmenter(cfg.augmentation, 0) if augment else None, order=order)

    inputs = {
        "mlexp, augmentation=images": lambda: mlexp_input(True),
        "mlexp, augmentation=none": lambda: mlexp_input(False),
        "ImageDataGenerator.flow, same operations": lambda: generator.flow(x, y, batch_size=batch, seed=0),
    }

    class EpochTimes(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times, self.cpu = [], []

        def on_epoch_begin(self, epoch, logs=None):
            self.start, self.cpu_start = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)
            self.cpu.append(time.process_time() - self.cpu_start)

    def images_per_second(model_cfg, make_input) -> tuple[float, float]:
        """Images per second (the fastest epoch after the first, which traces), CPU microseconds per image (median)."""
        keras.utils.set_random_seed(0)
        model = models.build(model_cfg, spec)
        timer = EpochTimes()
        model.fit(make_input(), epochs=epochs, verbose=0, shuffle=False, callbacks=[timer])
        return n / min(timer.times[1:]), 1e6 * statistics.median(timer.cpu[1:]) / n

    def input_only(make_input) -> float:
        data = make_input()
        for _ in zip(range(2), data, strict=False):  # warm-up: tracing
            pass
        start = time.perf_counter()
        for _ in zip(range(n // batch), data, strict=False):  # one epoch of batches, no model
            pass
        return (n // batch) * batch / (time.perf_counter() - start)

    rates = {(model, name): [] for model in models_by_name for name in inputs}
    cpu = {(model, name): [] for model in models_by_name for name in inputs}
    alone: dict[str, list[float]] = {name: [] for name in inputs}
    for _ in range(repeats):  # alternated, so that load drifts hit every input alike
        for name, make_input in inputs.items():
            alone[name].append(input_only(make_input))
            for model, model_cfg in models_by_name.items():
                rate, cpu_per_image = images_per_second(model_cfg, make_input)
                rates[model, name].append(rate)
                cpu[model, name].append(cpu_per_image)
    median = {key: statistics.median(values) for key, values in rates.items()}
    aug_alone, _, idg_alone = (statistics.median(values) for values in alone.values())

    def cell(values):
        if len(values) == 1:
            return f"{values[0]:.0f} (1 run)"
        return f"{statistics.median(values):.0f} ({min(values):.0f}-{max(values):.0f}, n={len(values)})"

    def ratios(model):
        aug, plain, idg = (median[model, name] for name in inputs)
        return aug / idg, plain / aug

    def verdict(ok):
        return "met" if ok else "NOT met"

    (feed, feed_cost), (shared, shared_cost) = (ratios(model) for model in models_by_name)
    print("RESULTS")
    print(f"{n} images 32x32x3, batch {batch}, 10 classes; images/s: the fastest of epochs 2-{epochs} per fit "
          f"(both speeds of these cores: benchmarks/NOTES.md); CPU time: the median epoch.")  # fmt: skip
    print("")
    print("| model | input | training images/s | CPU µs per image |")
    print("| --- | --- | --- | --- |")
    for (model, name), values in rates.items():
        print(f"| {model} | {name} | {cell(values)} | {cell(cpu[model, name])} |")
    for name, values in alone.items():
        print(f"| no model (input alone) | {name} | {cell(values)} | |")
    print("")
    print(f"- Feeding training (input-bound): mlexp augmentation vs ImageDataGenerator **{feed:.2f}x** the "
          f"images/s (target >= 2x: {verdict(feed >= 2)}); input alone {aug_alone / idg_alone:.2f}x.")  # fmt: skip
    cnn_cpu = [statistics.median(cpu["lab CNN (model-bound)", name]) for name in list(inputs)[:2]]
    print(f"- Augmentation on vs off in mlexp with the lab CNN: **{shared_cost:.2f}x** slower (target <= 1.3x: "
          f"{verdict(shared_cost <= 1.3)}); CPU time per image {cnn_cpu[0] / cnn_cpu[1]:.2f}x.")  # fmt: skip
    print(f"- With the lab CNN on these 2 shared cores, training is model-bound: mlexp vs ImageDataGenerator "
          f"{shared:.2f}x. With the linear model the augmentation is the whole step: "
          f"on vs off {feed_cost:.2f}x.")  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
