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


# Per-batch schedules (optimizer.schedule): a keras LearningRateSchedule in the optimizer itself, so the
# rate moves every step, is saved with the model and continues where a resumed run stopped.
BATCH_SCHEDULES = ("cosine", "linear", "one_cycle")


def batch_schedule(entry, peak: float, steps_per_epoch: int, epochs: int):
    """optimizer.schedule={name: one_cycle | cosine | linear, warmup_epochs, final_fraction} as a
    LearningRateSchedule: `peak` is optimizer.learning_rate, reached after the warm-up."""
    import keras

    total = max(steps_per_epoch * epochs, 1)
    warmup = int(round((entry.get("warmup_epochs") or 0) * steps_per_epoch))
    final = float(entry.get("final_fraction", 0.0) or 0.0)
    if entry.name == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            peak / 10 if warmup else peak, max(total - warmup, 1), alpha=final,
            warmup_target=peak if warmup else None, warmup_steps=warmup,
        )  # fmt: skip
    return _schedule_class()(entry.name, peak, total, warmup or (int(0.3 * total) if entry.name == "one_cycle" else 0),
                             final)  # fmt: skip


_SCHEDULE = None


def _schedule_class():
    """Linear warm-up then linear decay (`linear`), or the one-cycle policy (`one_cycle`: up from peak/25
    over the warm-up, 30% of the steps by default, then a cosine down to final_fraction x peak)."""
    global _SCHEDULE
    if _SCHEDULE is None:
        import keras

        @keras.saving.register_keras_serializable(package="mlexp")
        class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
            def __init__(self, kind, peak, total, warmup, final):
                self.kind, self.peak, self.total, self.warmup, self.final = kind, peak, total, warmup, final

            def __call__(self, step):
                from keras import ops

                step = ops.cast(step, "float32")
                start = self.peak / 25.0 if self.kind == "one_cycle" else 0.0
                warm = start + (self.peak - start) * step / max(self.warmup, 1)
                progress = ops.clip((step - self.warmup) / max(self.total - self.warmup, 1), 0.0, 1.0)
                end = self.final * self.peak
                if self.kind == "one_cycle":
                    decay = end + (self.peak - end) * 0.5 * (1.0 + ops.cos(math.pi * progress))
                else:
                    decay = self.peak + (end - self.peak) * progress
                return ops.where(step < self.warmup, warm, decay)

            def get_config(self):
                return {"kind": self.kind, "peak": self.peak, "total": self.total, "warmup": self.warmup,
                        "final": self.final}  # fmt: skip

        _SCHEDULE = WarmupSchedule
    return _SCHEDULE


def register() -> None:
    """Before Keras reads a saved model whose optimizer has one of these schedules."""
    _schedule_class()
