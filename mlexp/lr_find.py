"""mlexp lr-find: the learning-rate range test (Smith 2015; fastai's lr_find) on the run config.

The rate grows exponentially from `start` to `end`, one step per batch; the loss of each batch is
recorded, smoothed (exponential moving average with bias correction), and the test stops once it
exceeds 4x its minimum. The suggestion is the rate where the smoothed loss falls fastest. Nothing is
trained for keeps: the curve, a CSV and the suggested override are written and printed.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np

from mlexp import runs
from mlexp.errors import MlexpError

log = logging.getLogger(__name__)

SMOOTHING = 0.9  # weight of the past in the moving average of the loss (100 steps: more would lag the curve)
BLOW_UP = 4.0  # stop once the smoothed loss is this many times its minimum


def find(overrides: list[str], out: Path | None, steps: int, start: float, end: float) -> dict:
    """The range test on the model, input pipeline (augmentation included) and distribution `train` would use."""
    from mlexp import distribution, models
    from mlexp.hydra_app import compose_validated
    from mlexp.models.components import build_optimizer, recompile
    from mlexp.run_setup import prepare
    from mlexp.training import class_weights, inputs

    if not 0 < start < end:
        raise MlexpError(f"--start/--end: got {start:g} and {end:g}; expected 0 < start < end")
    cfg = compose_validated(overrides)
    distribution.check(cfg.trainer)
    keras, splits = prepare(cfg)
    spread = distribution.for_trainer(cfg.trainer)
    test = RangeTest(keras, start, end, steps)
    with spread.running():
        with spread.building():
            model = models.build(cfg, splits.spec)
            # A constant rate for the test to set, whatever the schedule.
            recompile(model, build_optimizer(cfg.optimizer))
        feed = inputs(cfg, keras, splits, spread)
        passes = math.ceil(steps / models.steps_per_epoch(cfg, splits.spec)) + 1  # the callback stops at `steps`
        log.info("LR range test: %d steps from %g to %g on %s", steps, start, end, cfg.dataset.name)
        model.fit(feed.train, epochs=passes, callbacks=[feed.clock.callback(), test.callback()], verbose=0,
                  shuffle=False, class_weight=class_weights(cfg.trainer, splits))  # fmt: skip
    result = test.result()
    out = out or Path("outputs/lr_find") / time.strftime("%Y-%m-%d_%H-%M-%S")
    write(result, out)
    return {**result, "out": str(out), "optimizer": cfg.optimizer.name}


class RangeTest:
    def __init__(self, keras, start: float, end: float, steps: int):
        self.keras, self.start, self.end, self.steps = keras, start, end, steps
        self.rates, self.losses, self.smoothed = [], [], []
        self._average = 0.0  # the moving average before bias correction

    def rate(self, step: int) -> float:
        return self.start * (self.end / self.start) ** (step / max(self.steps - 1, 1))

    def callback(self):
        test = self

        class Range(self.keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self._total = 0.0  # the loss Keras reports is a mean since the epoch began

            def on_train_batch_begin(self, batch, logs=None):
                self.model.optimizer.learning_rate.assign(test.rate(len(test.rates)))

            def on_train_batch_end(self, batch, logs=None):
                # Keras reports the mean loss since the epoch began; this batch's own loss is the difference.
                mean = float(logs["loss"])
                loss = mean * (batch + 1) - self._total
                self._total = mean * (batch + 1)
                if test.record(len(test.rates), loss) or len(test.rates) >= test.steps:
                    self.model.stop_training = True

        return Range()

    def record(self, step: int, loss: float) -> bool:
        """Keep the step's rate and loss; True once the loss has blown up (or is no number)."""
        self.rates.append(self.rate(step))
        self.losses.append(loss)
        self._average = SMOOTHING * self._average + (1 - SMOOTHING) * loss
        self.smoothed.append(self._average / (1 - SMOOTHING ** len(self.losses)))
        return not math.isfinite(loss) or self.smoothed[-1] > BLOW_UP * min(self.smoothed)

    def result(self) -> dict:
        smoothed = np.array(self.smoothed)
        if len(smoothed) < 5:
            raise MlexpError(f"lr-find: the loss blew up after {len(smoothed)} steps; try a smaller --start")
        rates = np.array(self.rates)
        slopes = np.gradient(smoothed, np.log10(rates))
        lowest = int(np.nanargmin(smoothed))
        steepest = int(np.nanargmin(slopes[: max(lowest, 1) + 1]))  # before the minimum: after it, it blows up
        return {
            "suggested": float(rates[steepest]), "lowest_loss_rate": float(rates[lowest]),
            "steps": len(rates), "rates": rates.tolist(), "losses": self.losses, "smoothed": smoothed.tolist(),
        }  # fmt: skip


def write(result: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame({"learning_rate": result["rates"], "loss": result["losses"], "smoothed": result["smoothed"]})
    with runs.atomic_path(out / "lr_find.csv") as tmp:
        table.to_csv(tmp, index=False)
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    ax.plot(table["learning_rate"], table["loss"], color="#56B4E9", alpha=0.5, label="batch loss")
    ax.plot(table["learning_rate"], table["smoothed"], color="#0072B2", label="smoothed")
    ax.axvline(result["suggested"], color="#D55E00", linestyle="--", label=f"suggested {result['suggested']:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    top = float(np.nanmax(table["smoothed"][: int(np.nanargmin(table["smoothed"])) + 1]))
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(table["loss"]))), top=top * 1.5)
    ax.set_title("Where does the loss fall fastest?")
    ax.legend()
    with runs.atomic_path(out / "lr_find.png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    runs.write_json(out / "lr_find.json", {k: result[k] for k in ("suggested", "lowest_loss_rate", "steps")})
