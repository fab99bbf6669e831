"""mlexp rerun and mlexp resume: a run directory is enough to run the experiment again or finish it."""

from __future__ import annotations

import logging
import math
import sys
from datetime import datetime
from pathlib import Path

from omegaconf import OmegaConf

from mlexp import runs, tasks
from mlexp.config.saved import load_config
from mlexp.errors import MlexpError
from mlexp.lazy import lazy

pd = lazy("pandas")

log = logging.getLogger("mlexp")
FINISHED = runs.FINISHED


def rerun(run_dir: Path, overrides: list[str], verify: bool = True) -> int:
    run_dir = Path(run_dir)
    cfg = load_config(run_dir, overrides, data_paths=True)  # a config error stops here, before NumPy or Keras load
    from mlexp.runs.manifest import differing_versions
    from mlexp.training import train

    if run_dir.is_file():  # a bare config: a new run, with no original to compare with
        new_dir = Path("outputs/reruns") / f"{datetime.now():%Y-%m-%d_%H-%M-%S.%f}_{run_dir.stem}"
        runs.claim(new_dir, "rerun folder", sweep=False)
        train(cfg, new_dir, command=["mlexp", "rerun", str(run_dir), *overrides], overrides=list(overrides))
        print(f"Rerun directory: {new_dir}\n{run_dir} is a config, not a run: nothing to verify against.")
        return 0
    original = runs.RunDir(run_dir)
    try:
        changed = differing_versions(original.read_json(runs.MANIFEST))
    except MlexpError as exc:  # the versions cannot be compared; the rerun itself needs only the config
        print(f"mlexp rerun: warning: {exc}; package versions not compared", file=sys.stderr)
        changed = []
    if changed:
        warning = f"package versions differ from the original run: {', '.join(changed)}"
        print(f"mlexp rerun: warning: {warning}", file=sys.stderr)
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S.%f")  # the same form as Hydra's run folders
    new_dir = Path("outputs/reruns") / f"{stamp}_{run_dir.name}"
    runs.claim(new_dir, "rerun folder", sweep=False)
    train(cfg, new_dir, command=["mlexp", "rerun", str(run_dir), *overrides], overrides=list(overrides))
    print(f"Rerun directory: {new_dir}")
    _warn_data_changed(original, runs.RunDir(new_dir))
    status = original.read_json(runs.METRICS).get("status")
    if not verify:
        return 0
    if status not in FINISHED:
        print(f"The original run did not finish (status: {status}); nothing to verify against.")
        return 0
    table, difference = compare_runs(run_dir, new_dir)
    print(table)
    before = _backend(original)
    after = cfg.trainer.get("backend", "tensorflow")
    if before != after:  # each backend has its own kernels and random streams: equal only within one
        print(f"The original ran on {before}, this rerun on {after}: a rerun is verified within one backend, "
              "so the table above is for reading, not a verdict.")  # fmt: skip
        return 0
    if difference:
        print(f"mlexp rerun: the rerun differs from the original: {difference}", file=sys.stderr)
        return 1
    print("The rerun is identical to the original: every epoch of history.csv and every metric.")
    return 0


def _backend(run: runs.RunDir) -> str:
    try:
        return run.read_json(runs.MANIFEST).get("backend", "tensorflow")
    except MlexpError:  # no manifest: the runs before backends were recorded ran on TensorFlow
        return "tensorflow"


def _warn_data_changed(original: runs.RunDir, new: runs.RunDir) -> None:
    from mlexp.runs.fingerprint import changes

    try:
        before, after = (run.read_json(runs.MANIFEST).get("data") for run in (original, new))
    except MlexpError:
        return  # an unreadable manifest was reported above
    changed = changes(before, after)
    if changed:
        print(f"mlexp rerun: warning: the data differ from the original run's: {changed}", file=sys.stderr)


def compare_runs(original: Path, new: Path) -> tuple[str, str | None]:
    """A match table of the two runs' metrics, and the first difference (epoch and metric) or None."""
    a, b = (pd.DataFrame(runs.RunDir(path).read_history()) for path in (original, new))
    difference = None
    for i in range(max(len(a), len(b))):
        if i >= len(a) or i >= len(b):
            difference = f"epoch {i + 1} exists in only one of them ({len(a)} vs {len(b)} epochs)"
            break
        for column in a.columns:
            x, y = a[column].iloc[i], b[column].iloc[i] if column in b else float("nan")
            if not _same(x, y):
                difference = f"first at epoch {i + 1} on {column}: {x!r} vs {y!r}"
                break
        if difference:
            break
    ma, mb = (_flat(runs.RunDir(path).read_json(runs.METRICS)) for path in (original, new))
    lines = [f"{'metric':<28}{'original':>14}{'rerun':>14}  match"]
    for key in sorted(k for k in ma if k not in ("wall_seconds", "fit_seconds", "error")):
        same = _same(ma.get(key), mb.get(key))
        lines.append(f"{key:<28}{_fmt(ma.get(key)):>14}{_fmt(mb.get(key)):>14}  {'yes' if same else 'NO'}")
        if not same and difference is None:
            difference = f"{key}: {ma.get(key)!r} vs {mb.get(key)!r}"
    lines.append(f"{'history.csv':<28}{len(a):>11} ep{len(b):>11} ep  {'yes' if difference is None else 'NO'}")
    return "\n".join(lines), difference


def _flat(metrics: dict) -> dict:
    """Nested metrics (samples, distribution) as one row per value, so that the table's columns line up."""
    out = {}
    for key, value in metrics.items():
        if isinstance(value, dict):
            out.update({f"{key}.{inner}": v for inner, v in value.items()})
        else:
            out[key] = value
    return out


def _same(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return x == y


def _fmt(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def resume(path: Path, from_epoch: int | None = None, restart: bool = False) -> int:
    from mlexp.reporting.collect import is_run_dir

    path = Path(path)
    if not path.is_dir():
        raise MlexpError(f"resume: {path} is not a directory; expected a run or sweep directory")
    if is_run_dir(path):
        return _resume_run(path, from_epoch, restart)
    if from_epoch is not None or restart:
        raise MlexpError(f"resume: --from-epoch and --restart apply to a run directory; {path} is not one")
    if (path / "multirun.yaml").is_file():
        return _resume_sweep(path)
    raise MlexpError(f"resume: {path} is neither a run directory ({runs.CONFIG}) nor a sweep (multirun.yaml)")


def _resume_run(run_dir: Path, from_epoch: int | None, restart: bool) -> int:
    from mlexp.runs import backups
    from mlexp.training import train

    run = runs.RunDir(run_dir)
    try:
        status = run.read_json(runs.METRICS).get("status", "running")
    except MlexpError as exc:
        raise MlexpError(
            f"resume: {exc}. If the run did not finish, remove that file and resume again; "
            f"if it did, its results are in {run_dir} (history.csv, model.keras)"
        ) from None
    if status in FINISHED:
        _tidy_finished(run, status)
        print(f"{run_dir} already {status}; nothing to resume.")
        return 0
    cfg = load_config(run_dir, data_paths=True)
    if restart:
        log.info("Starting %s over: its backups and history are discarded", run_dir)
        backups.discard(run)
        run.file(runs.HISTORY).unlink(missing_ok=True)
    metrics = train(cfg, run_dir, resume=True, from_epoch=from_epoch)
    score = tasks.score(metrics)
    print(f"Resumed {run_dir}: {metrics['status']}, test {score} {metrics.get(f'test_{score}', float('nan')):.4f}")
    return 0


def _tidy_finished(run: runs.RunDir, status: str) -> None:
    """A run killed after its metrics.json but before its last bookkeeping: finish that bookkeeping."""
    from mlexp.runs import backups

    backups.discard(run)
    run.clear_tmp()
    if run.read_json(runs.MANIFEST).get("status") == "running":
        run.update_manifest(status=status)


def _resume_sweep(sweep_dir: Path) -> int:
    """Relaunch the sweep into its own folder; finished jobs are skipped, the others continue."""
    multirun = runs.read_yaml(sweep_dir / "multirun.yaml", "the sweep's Hydra config")
    overrides = OmegaConf.select(OmegaConf.create(multirun), "hydra.overrides.task", default=None)
    if overrides is None:
        raise MlexpError(f"{sweep_dir / 'multirun.yaml'} has no hydra.overrides.task; the sweep cannot be relaunched")
    overrides = [str(o) for o in overrides]
    from mlexp import train_task
    from mlexp.hydra_app import config_flags

    hydra = OmegaConf.create(multirun).hydra
    flags = config_flags(hydra)  # the config folders the sweep was composed from
    # The sweeper and launcher as chosen (hydra/sweeper=race, hydra/launcher=joblib, their settings);
    # not the folder, mode and callback settings that mlexp and the relaunch set themselves.
    own = ("hydra.sweep.dir=", "hydra.mode=", "hydra.callbacks.", "hydra.searchpath=")
    chosen = [str(o) for o in hydra.overrides.hydra if not str(o).startswith(own)]
    return train_task.run(["-m", *flags, *chosen, *overrides, f"hydra.sweep.dir={sweep_dir}"], resume=True)
