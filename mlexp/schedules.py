"""Learning rate per epoch, as functions of (epoch, current rate): Keras' LearningRateScheduler calls them."""

from __future__ import annotations

import math
from collections.abc import Callable


def make_schedule(entry, initial_lr: float, epochs: int) -> Callable[[int, float], float]:
    start = entry.start_epoch
    if entry.schedule == "constant":
        return lambda epoch, lr: lr
    if entry.schedule == "exponential":
        # The CIFAR notebook's scheduler: keep the rate for `start` epochs, then multiply by exp(-rate).
        return lambda epoch, lr: lr if epoch < start else lr * math.exp(-entry.rate)
    length = entry.decay_epochs or max(epochs - start, 1)

    def cosine(epoch: int, lr: float) -> float:
        if epoch < start:
            return lr
        progress = min(epoch - start, length) / length
        return initial_lr * (entry.alpha + (1 - entry.alpha) * 0.5 * (1 + math.cos(math.pi * progress)))

    return cosine
