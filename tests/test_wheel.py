"""A non-editable install from the wheel, in a fresh venv, works from any folder (slow)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
TINY = ["dataset=synthetic", "trainer.epochs=1", "model.hidden_units=[8]", "trainer.verbose=0"]


def run(*command, cwd: Path) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{command}: {proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv holding only mlexp's wheel; the dependencies come from this test's environment
    (a .pth file), so that TensorFlow is not downloaded again."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"  # build from a copy: the checkout stays free of build/ and *.egg-info
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("conf", "mlexp", "hydra_plugins"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip"]
    run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", root / "dist", source, cwd=root)
    [wheel] = (root / "dist").glob("mlexp_keras-*.whl")  # the distribution name: PyPI's "mlexp" is another project
    venv = root / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root)
    run(*pip, "--python", venv / "bin/python", "install", "--no-deps", "-q", wheel, cwd=root)
    site = Path(run(venv / "bin/python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=root).stdout.strip())  # fmt: skip
    (site / "_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_the_wheel_trains_checks_compares_reruns_and_tunes_from_any_folder(venv, tmp_path):
    mlexp = venv / "bin/mlexp"
    where = run(venv / "bin/python", "-c", "import mlexp; print(mlexp.__file__)", cwd=tmp_path).stdout
    assert where.startswith(str(venv)), where  # the wheel's copy, not the checkout's
    run(mlexp, "train", *TINY, "hydra.run.dir=r", cwd=tmp_path)
    assert json.loads((tmp_path / "r/metrics.json").read_text())["status"] == "completed"
    assert "Parameters:" in run(mlexp, "check", *TINY, cwd=tmp_path).stdout
    assert "Report: " in run(mlexp, "compare", "r", "--out", "cmp", cwd=tmp_path).stdout
    run(mlexp, "train", "-m", *TINY, "sweep.seeds=2", "hydra.sweep.dir=s", cwd=tmp_path)  # the shipped sweeper
    assert [c["n"] for c in json.loads((tmp_path / "s/verdict.json").read_text())["configs"]] == [2]
    assert "The rerun is identical" in run(mlexp, "rerun", "r", cwd=tmp_path).stdout
    assert "nothing to resume" in run(mlexp, "resume", "r", cwd=tmp_path).stdout
    run(mlexp, "tune", *TINY, "tuner.max_trials=1", "hydra.run.dir=t", cwd=tmp_path)
    assert (tmp_path / "t/trials.csv").is_file()
    refused = subprocess.run([mlexp, "train", "model=sequential", "model.layers=[{layer: Flaten}]"], cwd=tmp_path,
                             capture_output=True, text=True)  # fmt: skip
    assert refused.returncode == 2 and "Did you mean 'Flatten'?" in refused.stderr  # the layer table shipped
    (tmp_path / "nb.py").write_text(
        "import keras\n(x, y), _ = keras.datasets.mnist.load_data()\n"
        "m = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10, activation='softmax')])\n"
        "m.compile('adam', 'sparse_categorical_crossentropy')\nm.fit(x / 255, y, epochs=1)\n"
    )
    assert "mlexp train experiment=nb" in run(mlexp, "import", "nb.py", cwd=tmp_path).stdout  # mlexp.importer shipped
