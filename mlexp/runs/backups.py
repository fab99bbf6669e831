"""Per-epoch backups that `mlexp resume` continues from: the last two epochs' models and a state file.

`backup/model-NNNN.keras` holds the model (with its optimizer state) after epoch NNNN; `backup/state.json`
names the newest one and is written after it, so a kill between the two leaves the older, complete pair.
The backup before the newest is kept so that a damaged newest file still leaves a state to go back to.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from mlexp import runs
from mlexp.errors import MlexpError

log = logging.getLogger(__name__)

FOLDER = "backup"
STATE = f"{FOLDER}/state.json"
_NAME = re.compile(r"model-(\d+)\.keras")


class BackupUnreadable(MlexpError):
    """A backup exists but cannot be loaded; the message offers the ways on."""


def model_file(epochs: int) -> str:
    return f"{FOLDER}/model-{epochs:04d}.keras"


def save(run: runs.RunDir, model, epochs: int, save_beside=None) -> None:
    """Back up the model after `epochs` completed epochs; keep it and the one before. `save_beside(model,
    path)` writes what Keras does not save beside the model file (its seed generators' states)."""
    with runs.atomic_path(run.file(model_file(epochs))) as tmp:
        model.save(tmp)
    if save_beside is not None:
        save_beside(model, run.file(model_file(epochs)))
    _write_state(run, epochs)
    for epoch, path in available(run).items():
        if epoch < epochs - 1:
            _remove(path)


def _remove(model_path: Path) -> None:
    model_path.unlink(missing_ok=True)
    model_path.with_suffix(".seeds.json").unlink(missing_ok=True)


def available(run: runs.RunDir) -> dict[int, Path]:
    """Backed-up epoch counts and their files, newest first (a legacy backup/model.keras counts via state.json)."""
    folder = run.file(FOLDER)
    found = {int(m.group(1)): p for p in folder.glob("model-*.keras") if (m := _NAME.fullmatch(p.name))}
    legacy = folder / "model.keras"
    if legacy.is_file() and (epochs := _state_epochs(run)) is not None:
        found.setdefault(epochs, legacy)
    return dict(sorted(found.items(), reverse=True))


def _state_epochs(run: runs.RunDir) -> int | None:
    try:
        epochs = run.read_json(STATE).get("epochs_completed")
    except (OSError, ValueError):
        return None
    return epochs if isinstance(epochs, int) else None


def discard(run: runs.RunDir, after: int = -1) -> None:
    """Remove every backup (after=-1), or those of epochs after `after`."""
    if after < 0:
        shutil.rmtree(run.file(FOLDER), ignore_errors=True)
        return
    for epoch, path in available(run).items():
        if epoch > after:
            _remove(path)
    _write_state(run, after)


def _write_state(run: runs.RunDir, epochs: int) -> None:
    runs.write_json(run.file(STATE), {"epochs_completed": epochs, "model": Path(model_file(epochs)).name})


def choose(run: runs.RunDir, from_epoch: int | None = None) -> tuple[int, Path] | None:
    """The backup to resume from: state.json's newest, or `from_epoch`'s; None when there is none.

    Raises BackupUnreadable (offering the ways on) before anything is written, if that backup is damaged.
    """
    backups = available(run)
    if from_epoch is None:
        if not run.file(STATE).exists() and not backups:
            return None
        from_epoch = _state_epochs(run)
        if from_epoch is None:  # state.json unreadable or missing: say so, do not guess
            raise _unreadable(run, run.file(STATE), "not a valid backup state", backups)
    if from_epoch not in backups:
        choices = ", ".join(map(str, backups)) or "none"
        raise MlexpError(f"--from-epoch: got {from_epoch}; the backups of {run.path} are of epochs: {choices}")
    problem = runs.archive_damage(backups[from_epoch])
    if problem:
        raise _unreadable(run, backups[from_epoch], problem, _except(backups, from_epoch))
    return from_epoch, backups[from_epoch]


def restore(run: runs.RunDir, chosen: tuple[int, Path], load):
    """(model, epochs completed) from the backup that choose() picked and checked; `load(path)` reads a
    .keras file with mlexp's own objects registered (models.load)."""
    epochs, path = chosen
    try:
        model = load(path)
    except runs.UnreadableModel as exc:  # a whole archive whose content Keras refuses
        raise _unreadable(run, path, exc.reason, _except(available(run), epochs)) from None
    discard(run, after=epochs)  # newer backups (after --from-epoch) would be stale
    return model, epochs


def _except(backups: dict[int, Path], epoch: int) -> dict[int, Path]:
    return {e: p for e, p in backups.items() if e != epoch}


def _unreadable(run: runs.RunDir, path: Path, reason: str, others: dict[int, Path]) -> BackupUnreadable:
    message = f"{path} is unreadable ({reason}); nothing was changed."
    good = [epoch for epoch, other in others.items() if runs.archive_damage(other) is None]
    if good:
        epoch = max(good)
        message += f" Continue from epoch {epoch}, the previous backup, with: "
        message += f"mlexp resume {run.path} --from-epoch {epoch}; or start"
    else:
        message += " Start"
    return BackupUnreadable(f"{message} the run over with: mlexp resume {run.path} --restart")
