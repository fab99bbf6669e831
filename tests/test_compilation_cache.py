"""JAX's compiled programs kept on disk: a sweep's jobs compile once, and the results stay bit-identical."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY

from mlexp.tf_runtime import compilation_cache_folder

MLEXP = shutil.which("mlexp", path=str(Path(sys.executable).parent)) or "mlexp"


def test_the_cache_folder_is_the_users_choice_else_the_xdg_cache(tmp_path):
    home = Path.home()
    assert compilation_cache_folder({}) == home / ".cache/mlexp/jax"
    assert compilation_cache_folder({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "mlexp/jax"
    assert compilation_cache_folder({"MLEXP_COMPILATION_CACHE": "~/jc"}) == home / "jc"
    assert compilation_cache_folder({"MLEXP_COMPILATION_CACHE": "off"}) is None
    assert compilation_cache_folder({"JAX_COMPILATION_CACHE_DIR": "/x"}) is None  # JAX's own setting wins


def _mlexp(cwd: Path, cache: str, *args: str) -> str:
    env = {**os.environ, "MLEXP_COMPILATION_CACHE": cache, "JAX_LOG_COMPILES": "1"}
    proc = subprocess.run([MLEXP, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_sweep_compiles_once_and_a_rerun_from_the_cache_is_identical(tmp_path):
    pytest.importorskip("jax")
    cache = tmp_path / "cache"
    jax_tiny = [*TINY, "trainer.backend=jax"]
    sweep = _mlexp(tmp_path, str(cache), "train", "-m", *jax_tiny, "seed=0,1", "hydra.sweep.dir=sweep")
    steps = sorted(p.name.split("-")[0] for p in cache.glob("jit_*_step-*-cache"))
    assert steps == ["jit_predict_step"] * 2 + ["jit_test_step"] * 2 + ["jit_train_step"] * 2, steps
    # the first job compiles each step for each batch shape; the second job finds them all
    hits = "Persistent compilation cache hit for 'jit_{}'"
    for step in ("train_step", "test_step", "predict_step"):
        assert sweep.count(hits.format(step)) == 2, step
    rerun = _mlexp(tmp_path, str(cache), "rerun", "sweep/1")
    assert rerun.count(hits.format("train_step")) == 2
    assert "The rerun is identical to the original: every epoch of history.csv and every metric." in rerun
    assert "cache hit" not in _mlexp(tmp_path, "off", "train", *jax_tiny, "hydra.run.dir=uncached")
    original, uncached = ((tmp_path / d / "history.csv").read_text() for d in ("sweep/0", "uncached"))
    assert original == uncached  # compiled afresh: the same numbers


def test_without_filelock_the_cache_is_off_and_the_log_says_so(monkeypatch, caplog, tmp_path):
    import importlib.util

    from mlexp import tf_runtime

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "filelock" else real(name, *a))
    monkeypatch.setenv("MLEXP_COMPILATION_CACHE", str(tmp_path / "cache"))
    with caplog.at_level("INFO", logger="mlexp"):
        tf_runtime.use_compilation_cache()
    assert 'JAX compilation cache off: pip install "mlexp-keras[jax]" (filelock)' in caplog.text
    assert not (tmp_path / "cache").exists()


def test_a_folder_that_cannot_be_made_turns_the_cache_off_and_the_log_says_so(monkeypatch, caplog, tmp_path):
    from mlexp import tf_runtime

    (tmp_path / "file").write_text("")
    monkeypatch.setenv("MLEXP_COMPILATION_CACHE", str(tmp_path / "file" / "cache"))
    with caplog.at_level("INFO", logger="mlexp"):
        tf_runtime.use_compilation_cache()
    assert f"JAX compilation cache off: {tmp_path}/file/cache cannot be made (Not a directory); " in caplog.text
    assert "MLEXP_COMPILATION_CACHE=DIR names another" in caplog.text
