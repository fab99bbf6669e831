from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import absl.logging
import pytest

from mlexp.cli import main
from mlexp.tf_runtime import import_keras

# JAX runs of the tests keep their compiled programs in a folder of their own, not the user's cache.
if "MLEXP_COMPILATION_CACHE" not in os.environ:
    os.environ["MLEXP_COMPILATION_CACHE"] = tempfile.mkdtemp(prefix="mlexp-test-jax-cache-")
    atexit.register(shutil.rmtree, os.environ["MLEXP_COMPILATION_CACHE"], True)
import_keras()
# TensorFlow's absl log handler keeps the sys.stderr it first saw (a pytest capture stream) and closes
# it when Hydra's logging setup closes all handlers, unless it is the real stderr.
absl.logging.get_absl_handler().python_handler.stream = sys.__stderr__

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
# Small enough to train in a second or two; used wherever the data do not matter.
TINY = ["dataset=synthetic", "trainer.epochs=2", "model.hidden_units=[8]", "trainer.verbose=0"]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def mlexp(tmp_path, monkeypatch, capsys):
    """Run `mlexp ARGS...` in-process from an empty working directory; return code and output."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> Result:
        _drop_closed_log_handlers()
        try:
            code = main(list(args))
        except SystemExit as exc:  # Hydra and argparse exit this way
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def _drop_closed_log_handlers() -> None:
    """An earlier in-process Hydra run leaves a handler on a closed capture stream; a new process never would."""
    for handler in logging.root.handlers[:]:
        if getattr(getattr(handler, "stream", None), "closed", False):
            logging.root.removeHandler(handler)


def run_dirs(root: Path) -> list[Path]:
    """Every run directory (a folder with resolved_config.yaml) under root, sorted."""
    return sorted(p.parent for p in Path(root).rglob("resolved_config.yaml"))


def read_metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


@pytest.fixture(scope="session")
def dataset_files(tmp_path_factory) -> dict[str, Path]:
    from formats import write_all

    return write_all(tmp_path_factory.mktemp("datasets"))


@pytest.fixture(autouse=True)
def _fingerprint_cache(tmp_path_factory, monkeypatch):
    """Data fingerprints are cached in a folder of the test session, not in the user's ~/.cache."""
    monkeypatch.setenv("MLEXP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "mlexp-cache"))


def fresh_process(argv: list[str], cwd: Path, watch=("tensorflow", "keras")):
    """`mlexp ARGV` in a new Python process: (exit code, which modules of `watch` it imported, the process)."""
    import subprocess

    script = (
        "import json, sys\n"
        "from mlexp.cli import main\n"
        "try:\n"
        f"    code = main({list(argv)!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"print('FRESH', json.dumps([code, sorted(m for m in {tuple(watch)!r} if m in sys.modules)]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("FRESH ")]
    assert lines, proc.stderr
    code, loaded = json.loads(lines[-1].removeprefix("FRESH "))
    return code, loaded, proc
