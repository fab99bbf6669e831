"""A run's saved config, read back (YAML only) and validated: for rerun, resume and report."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

import mlexp.config.catalog as catalog
from mlexp import runs
from mlexp.config.validate import validate
from mlexp.errors import MlexpError


def load_config(run_dir: Path, overrides: list[str] = (), data_paths: bool = False) -> DictConfig:
    """The run's resolved_config.yaml (YAML only; nothing is unpickled), with key=value overrides, validated.

    `run_dir` may also be a config file itself (a tuning session's best_config.yaml). data_paths=True: its
    dataset.path must exist (to train again)."""
    path = run_dir if run_dir.is_file() else run_dir / runs.CONFIG
    if not path.is_file() and (run_dir / runs.HYDRA_DIR / "config.yaml").is_file():
        path = run_dir / runs.HYDRA_DIR / "config.yaml"  # killed before its first write: Hydra's copy
    if not path.is_file():
        raise MlexpError(f"{run_dir} is not a run directory (no {runs.CONFIG}) nor a config file")
    cfg = OmegaConf.create(runs.read_yaml(path, "a saved run config"))
    for override in overrides:
        key, sep, _ = override.partition("=")
        if not sep or key.startswith(("+", "~")):
            raise MlexpError(f"rerun: override {override!r} is not key=value; e.g. optimizer.learning_rate=0.01")
        if key in catalog.TOP_LEVEL and key not in ("seed",):
            raise MlexpError(
                f"rerun: {override!r} switches a config group; a rerun changes keys of the saved config "
                f"(e.g. {key}.name=...); compose a new run with mlexp train {override}"
            )
    cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(list(overrides)))
    return validate(cfg, data_paths)
