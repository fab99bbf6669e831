"""trainer.continue_from: a run that starts where a finished run of the same config ended, and trains on to
its own trainer.epochs (the race's budget stages: 2 epochs, then from there to 6, then to 20), so that no
epoch is trained twice. Shuffling and augmentation are functions of (seed, epoch), so the continued run sees
the batches a run of all its epochs would have seen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlexp import runs
from mlexp.errors import ConfigError
from mlexp.nested import flatten

KEY = "trainer.continue_from"
FREE = ("trainer.epochs", "trainer.continue_from", "trainer.verbose")  # what may differ from the earlier run


def check(plain: dict[str, Any]) -> None:
    """Refuse, before TensorFlow loads, an earlier run that this one cannot continue."""
    given = plain["trainer"].get("continue_from")
    if given is None:
        return
    folder = runs.RunDir(Path(given))
    status = folder.status() if folder.path.is_dir() else "missing"
    if status != "completed" or not folder.file(runs.MODEL).is_file():
        raise ConfigError(KEY, given, f"a completed run folder with {runs.MODEL} (it is {status})")
    earlier = flatten(folder.read_config())
    for key, value in flatten(plain).items():
        if key not in FREE and earlier.get(key, "<absent>") != value:
            raise ConfigError(KEY, given, f"a run of this config but for trainer.epochs; its {key} is "
                                          f"{earlier.get(key, '<absent>')!r}, this run's {value!r}")  # fmt: skip
    done = epochs_done(folder)
    if done >= plain["trainer"]["epochs"]:
        raise ConfigError("trainer.epochs", plain["trainer"]["epochs"], f"more than the {done} epochs of {given}")
    if plain["optimizer"].get("schedule") is not None:
        raise ConfigError("optimizer.schedule", plain["optimizer"]["schedule"], f"null with {KEY} (a per-batch "
                          "schedule spans trainer.epochs, which a continued run changes)")  # fmt: skip
    scheduler = (plain.get("callbacks") or {}).get("lr_scheduler") or {}
    if scheduler.get("enabled") and scheduler.get("schedule") == "cosine" and scheduler.get("decay_epochs") is None:
        raise ConfigError("callbacks.lr_scheduler.decay_epochs", None, f"a number of epochs with {KEY} (without "
                          "it the cosine spans trainer.epochs, which a continued run changes)")  # fmt: skip


def epochs_done(folder: runs.RunDir) -> int:
    rows = folder.read_history()
    return int(rows[-1]["epoch"]) if rows else 0


def start(given: str) -> tuple[int, Path, list[dict[str, float]]]:
    """(epochs done, the model file with its optimizer state, the history rows) of the run continued from."""
    folder = runs.RunDir(Path(given))
    rows = folder.read_history()
    return epochs_done(folder), folder.file(runs.MODEL), rows
