"""The mlexp command itself: verbs, help, --cfg, and no TensorFlow on the fast paths."""

from __future__ import annotations

import pytest
import yaml
from conftest import TINY, fresh_process


def test_help_lists_the_verbs(mlexp):
    result = mlexp("--help")
    assert result.code == 0
    assert result.out.startswith("usage: mlexp VERB [ARGS...]")
    assert "  train    compose, validate, train, evaluate and save a run" in result.out
    assert "  compare  compare run or sweep directories: summary.csv, comparison.md, plots" in result.out


def test_no_verb_prints_usage_and_fails(mlexp):
    result = mlexp()
    assert result.code == 2
    assert "usage: mlexp VERB" in result.out


def test_unknown_verb_suggests_the_closest(mlexp):
    result = mlexp("trian")
    assert result.code == 2
    verbs = "train, tune, compare, explain, check, data, lr-find, report, predict, export, rerun, resume, init, import"
    assert result.err == f"mlexp: unknown verb 'trian'; expected one of {verbs}. Did you mean 'train'?\n"


def test_version(mlexp):
    result = mlexp("--version")
    assert (result.code, result.out) == (0, "mlexp 0.1.0\n")


def test_cfg_job_prints_the_composed_config_without_training(mlexp, tmp_path):
    result = mlexp("train", "--cfg", "job", "optimizer=sgd", "model.hidden_units=[256,128]")
    assert result.code == 0
    cfg = yaml.safe_load(result.out)
    assert cfg["optimizer"] == {"name": "sgd", "learning_rate": 0.01, "momentum": 0.0, "nesterov": False,
                                "gradient_accumulation_steps": None, "schedule": None}  # fmt: skip
    assert cfg["model"]["hidden_units"] == [256, 128]
    assert cfg["dataset"]["name"] == "digits"
    assert not (tmp_path / "outputs").exists()


def test_train_help_shows_groups_options_and_examples(mlexp):
    result = mlexp("train", "--help")
    assert result.code == 0
    assert "optimizer: adadelta, adagrad, adam, adamw, nadam, rmsprop, sgd" in result.out
    assert "model: backbone, cnn, cnn_bn, cnn_deep, mlp, sequential" in result.out
    assert "experiment: cifar10_cnn_deep_aug, cifar10_transfer, cifar10_tuner, dense_base," in result.out
    assert (
        "hparams_search: optuna" in result.out and "search_space: cifar_notebook, digits_small, mnist_lab" in result.out
    )
    assert "sweep: base_vs_improved, cifar_augmentation," in result.out
    assert "regularizer: l1, l1_l2, l2, none" in result.out
    assert "callbacks: default, early_stopping" in result.out
    assert "mlexp train -m model.activation=sigmoid,relu" in result.out


HEAVY = ("tensorflow", "keras", "sklearn", "pandas", "matplotlib", "numpy")
FAST_PATHS = [
    (["--help"], 0, ""),
    (["train", "--help"], 0, "== Config groups"),
    (["tune", "--help"], 0, "mlexp tune: search hyper-parameters"),
    (["train", "--cfg", "job"], 0, "seed: 0"),
    (["train", "model.dropout=1.5"], 2, "Config error at model.dropout: got 1.5; expected a number in [0, 1)."),
    (["tune", "model.dropout=1.5"], 2, "Config error at model.dropout: got 1.5; expected a number in [0, 1)."),
    (["check", "model.dropout=1.5"], 2, "Config error at model.dropout: got 1.5; expected a number in [0, 1)."),
    (["data", "model.dropout=1.5"], 2, "Config error at model.dropout: got 1.5; expected a number in [0, 1)."),
    (["rerun", "RUN", "model.dropout=1.5"], 2, "Config error at model.dropout: got 1.5; expected a number in [0, 1)."),
    (["train", "dataset.name=7"], 2, "Config error at dataset.name: got 7; expected a non-empty string."),
]


@pytest.mark.parametrize(("argv", "code", "says"), FAST_PATHS, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_help_cfg_and_config_errors_import_nothing_heavy(mlexp, tmp_path, argv, code, says):
    """A config error, --help and --cfg job cost a Hydra composition, not NumPy, pandas, scikit-learn or Keras."""
    if "RUN" in argv:
        assert mlexp("train", *TINY, "hydra.run.dir=outputs/one").code == 0
        argv = [str(tmp_path / "outputs/one") if a == "RUN" else a for a in argv]
    code_seen, loaded, proc = fresh_process(argv, tmp_path, HEAVY)
    assert (code_seen, loaded) == (code, []), proc.stderr
    assert says in proc.stdout + proc.stderr


def test_compare_does_not_import_tensorflow(mlexp, tmp_path):
    assert mlexp("train", *TINY, "hydra.run.dir=outputs/one").code == 0
    assert fresh_process(["compare", "outputs"], tmp_path)[:2] == (0, [])


def test_quick_help_is_hydras_own_help(mlexp, monkeypatch):
    """mlexp's one-composition --help prints what Hydra's slower help printed, to the letter."""
    from mlexp import hydra_app

    fast = mlexp("train", "--help", "model=cnn")
    monkeypatch.setattr(hydra_app, "quick_help", lambda argv, name: None)
    slow = mlexp("train", "--help", "model=cnn")
    assert fast.code == slow.code == 0
    assert fast.out == slow.out
    assert "  filters:\n" in fast.out


def test_mlexps_own_overrides_join_the_users_so_flags_after_overrides_still_work(mlexp):
    from mlexp.hydra_app import with_overrides

    assert with_overrides(["a=1", "--cfg", "job"], ["x=2"]) == ["a=1", "x=2", "--cfg", "job"]
    assert with_overrides(["--info", "defaults"], ["x=2"]) == ["x=2", "--info", "defaults"]
    assert with_overrides(["-m", "--cfg", "job", "seed=1,2"], ["x=2"]) == ["-m", "--cfg", "job", "seed=1,2", "x=2"]
    result = mlexp("train", "model.hidden_units=[7]", "--cfg", "job")
    assert result.code == 0, result.err
    assert "hidden_units:\n  - 7\n" in result.out


def test_output_cut_short_by_the_reader_is_not_an_error(tmp_path):
    import subprocess
    import sys

    command = f"{sys.executable} -m mlexp init {tmp_path / 'project'} | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True)
    assert proc.stdout == f"{tmp_path / 'project'}/README.md\n"
    assert proc.stderr == "" and proc.returncode in (0, 141)  # 141: the reader left first (SIGPIPE's code)
    assert (tmp_path / "project/pyproject.toml").is_file()
