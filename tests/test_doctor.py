"""The training doctor on a catalogue of broken configs, and silence on the healthy default."""

from __future__ import annotations

import json

import numpy as np
import pytest
from broken_configs import BROKEN, DATA, HEALTHY, SMALL
from conftest import run_dirs

from mlexp.doctor.diagnose import diagnose


def findings(run, name):
    return {f["code"]: f for f in json.loads((run / name).read_text())["findings"]}


CASES = [pytest.param(*b[:4], b[4] if len(b) > 4 else None, marks=[pytest.mark.slow] if b[1] == "overfitting" else [])
         for b in BROKEN]  # fmt: skip


def with_data(overrides: list[str], folder) -> list[str]:
    """`dataset.path={data:NAME}` becomes a file that broken_configs.DATA[NAME] writes."""
    out = []
    for item in overrides:
        if "{data:" in item:
            name = item.split("{data:")[1].rstrip("}")
            item = f"dataset.path={DATA[name](folder / f'{name}.npz')}"
        out.append(item)
    return out


@pytest.mark.parametrize("overrides,code,severity,when,advice", CASES,
                         ids=[f"{b[1]}-{b[3]}-{i}" for i, b in enumerate(BROKEN)])  # fmt: skip
def test_each_broken_config_gets_its_finding(mlexp, tmp_path, overrides, code, severity, when, advice):
    result = mlexp("train", *SMALL, *with_data(overrides, tmp_path))
    [run] = run_dirs(tmp_path / "outputs")
    found = findings(run, "preflight.json" if when == "preflight" else "diagnosis.json")
    assert code in found, found
    assert found[code]["severity"] == severity
    assert found[code]["suggestion"] and found[code]["evidence"]
    if advice:
        assert found[code]["suggestion"] == advice
    if when == "preflight" and severity == "error":
        assert result.code == 2 and "pre-flight check failed, nothing was trained" in result.err
        assert not (run / "history.csv").exists()
    else:
        assert result.code == 0, result.err
        assert code in (run / "report.md").read_text()


@pytest.mark.parametrize("overrides", HEALTHY, ids=[" ".join(h)[:60] or "default" for h in HEALTHY])
def test_healthy_configs_stay_clean(mlexp, tmp_path, overrides):
    result = mlexp("train", "trainer.verbose=0", *with_data(overrides, tmp_path))
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    assert findings(run, "preflight.json") == {}
    assert findings(run, "diagnosis.json") == {}


def test_healthy_default_run_has_no_finding(mlexp, tmp_path):
    assert mlexp("train", "trainer.verbose=0").code == 0
    [run] = run_dirs(tmp_path / "outputs")
    assert findings(run, "preflight.json") == {}
    assert json.loads((run / "diagnosis.json").read_text()) == {"healthy": True, "findings": []}
    assert "Healthy: no finding." in (run / "report.md").read_text()


def test_labels_beyond_the_class_names_stop_the_run(mlexp, tmp_path):
    """The exercise sheet's 5 output units for 10 classes: here, 5 class names for labels 0..9."""
    path = tmp_path / "five.npz"
    rng = np.random.default_rng(0)
    labels = np.arange(60) % 10
    np.savez(path, x_train=rng.random((60, 4)), y_train=labels, x_test=rng.random((20, 4)), y_test=labels[:20],
             class_names=np.array(["a", "b", "c", "d", "e"]))  # fmt: skip
    result = mlexp("train", "dataset=npz", f"dataset.path={path}", "trainer.verbose=0")
    assert result.code == 2
    assert "ERROR [labels_out_of_range] labels run from 0 to 9, but the head has outputs for 5 classes" in result.err
    [run] = run_dirs(tmp_path / "outputs")
    assert json.loads((run / "metrics.json").read_text())["status"] == "failed"


def test_nan_in_data_is_an_error(mlexp, tmp_path):
    path = tmp_path / "nan.npz"
    x = np.ones((40, 3))
    x[3, 1] = np.nan
    np.savez(path, x_train=x, y_train=np.arange(40) % 2, x_test=np.ones((10, 3)), y_test=np.arange(10) % 2)
    result = mlexp("check", "dataset=npz", f"dataset.path={path}")
    assert result.code == 2
    assert "ERROR [non_finite_data] x_" in result.out


def test_check_prints_layers_shapes_parameters_and_findings(mlexp):
    result = mlexp("check", "model.kernel_initializer=zeros")
    assert result.code == 0
    assert "Input shape:  (None, 8, 8, 1)  (digits: 1149 train, 288 validation (split), 360 test)" in result.out
    assert "Output shape: (None, 10)  (multiclass, 10 classes: 0, 1, 2," in result.out
    assert "Parameters:   17,226" in result.out and "dense_1 (Dense)" in result.out
    assert "Pre-flight:   1 finding(s)\n  WARNING [constant_initializer]" in result.out


def test_divergence_and_oscillation_on_known_curves():
    rows = [{"epoch": i + 1, "loss": v, "val_loss": v, "accuracy": 0.5, "val_accuracy": 0.5}
            for i, v in enumerate([1.0, 0.8, float("nan")])]  # fmt: skip
    [finding] = diagnose(rows, 0.5, np.array([0, 1]), np.array([0, 1]), 2)
    assert (finding.code, finding.severity, finding.evidence["epoch"]) == ("divergence", "error", 3)
    assert finding.suggestion == "optimizer.learning_rate=0.05"
    losses = [1.0, 0.7, 0.9, 0.6, 0.8, 0.5, 0.7, 0.45]
    rows = [{"epoch": i + 1, "loss": v, "val_loss": v, "accuracy": 0.9, "val_accuracy": 0.88}
            for i, v in enumerate(losses)]  # fmt: skip
    codes = [f.code for f in diagnose(rows, 0.01, np.array([0, 1, 2]), np.array([0, 1, 2]), 3)]
    assert codes == ["oscillation"]


@pytest.mark.parametrize("rates", [[1e-3] * 8, [1e-3] * 4 + [5e-4, 2.5e-4, 1e-5, 1e-5]], ids=["constant", "lowered"])
def test_plateau_advice_follows_the_learning_rate(rates):
    """Lowering the rate is advised only where nothing lowered it already (history.csv's learning_rate)."""
    losses = [0.5, 0.4, 0.3, 0.3, 0.299, 0.299, 0.298, 0.298]
    rows = [{"epoch": i + 1, "loss": v, "val_loss": v, "accuracy": 0.89, "val_accuracy": 0.9, "learning_rate": r}
            for i, (v, r) in enumerate(zip(losses, rates, strict=True))]  # fmt: skip
    [finding] = diagnose(rows, 1e-3, np.array([0, 1]), np.array([0, 1]), 2)
    assert finding.code == "plateau"
    if rates[-1] == rates[0]:
        assert finding.suggestion == "callbacks.reduce_lr_on_plateau.enabled=true, or a bigger model"
        assert finding.message.endswith("at training accuracy 0.890.")
    else:
        assert finding.suggestion.startswith("a bigger model, or less regularization (model.dropout")
        assert finding.message.endswith("; the learning rate was already lowered from 0.001 to 1e-05.")
        assert finding.evidence["last_learning_rate"] == 1e-5


@pytest.mark.slow
def test_overfit_batch_preset_reports_that_the_model_fits(mlexp, tmp_path):
    assert mlexp("train", "debug=overfit_batch").code == 0
    [run] = run_dirs(tmp_path / "outputs")
    found = findings(run, "diagnosis.json")
    assert found["overfit_batch"]["severity"] == "info" and found["overfit_batch"]["evidence"]["final_accuracy"] >= 0.99
    assert set(found) == {"overfit_batch"}  # the verdict only: no finding about generalization
    assert json.loads((run / "metrics.json").read_text())["validation_source"] == "none"
    history = (run / "history.csv").read_text().splitlines()
    assert 2 <= len(history) <= 151  # stops once the batch is memorised
    assert "val_loss" not in history[0]  # no validation pass per epoch: fast


def test_overfit_batch_that_cannot_fit_is_an_error(mlexp, tmp_path):
    args = ["debug=overfit_batch", "trainer.epochs=2", "model.kernel_initializer=zeros", "optimizer=sgd"]
    assert mlexp("train", *args).code == 0
    [run] = run_dirs(tmp_path / "outputs")
    found = findings(run, "diagnosis.json")
    assert found["cannot_overfit"]["severity"] == "error" and set(found) == {"cannot_overfit"}


def test_smoke_and_eager_presets(mlexp, tmp_path):
    assert mlexp("train", "debug=smoke", "trainer.verbose=0", "hydra.run.dir=outputs/smoke").code == 0
    smoke = tmp_path / "outputs" / "smoke"
    assert json.loads((smoke / "metrics.json").read_text())["epochs_run"] == 1
    assert "256 train" in (smoke / "train.log").read_text()
    assert mlexp("train", "debug=eager", *SMALL, "trainer.epochs=1", "hydra.run.dir=outputs/eager").code == 0
    assert "run_eagerly: true" in (tmp_path / "outputs" / "eager" / "resolved_config.yaml").read_text()


def test_debug_figures_and_report_regenerate(mlexp, tmp_path):
    import pandas as pd

    assert mlexp("train", *SMALL).code == 0
    [run] = run_dirs(tmp_path / "outputs")
    figures = ["predicted_classes.png", "confusion_matrix.png", "misclassified.png", "learning_curves.png"]
    assert all((run / "plots" / f).read_bytes()[:4] == b"\x89PNG" for f in figures)
    table = pd.read_csv(run / "classification_report.csv", index_col=0)
    assert list(table.index[:10]) == [str(i) for i in range(10)] and {"precision", "recall", "f1"} <= set(table.columns)
    before = (run / "diagnosis.json").read_text()
    for f in figures[:3]:
        (run / "plots" / f).unlink()
    (run / "report.md").unlink()
    result = mlexp("report", str(run))
    assert result.code == 0, result.err
    assert result.out.strip().splitlines()[-1] == f"Report: {run}/report.md (0 finding(s))"
    assert all((run / "plots" / f).is_file() for f in figures)
    assert (run / "diagnosis.json").read_text() == before
    report = (run / "report.md").read_text()
    assert "## Per-class precision and recall (test)" in report
    assert "![confusion_matrix](plots/confusion_matrix.png)" in report


def test_report_needs_a_finished_run(mlexp, tmp_path):
    (tmp_path / "half").mkdir()
    result = mlexp("report", str(tmp_path / "half"))
    assert result.code == 1
    assert result.err == f"mlexp report: {tmp_path}/half has no finished run (model.keras and history.csv are needed)\n"


def _rows(train_acc, val_acc, val_loss):
    epochs = enumerate(zip(train_acc, val_acc, val_loss, strict=True))
    return [{"epoch": i + 1, "loss": 1.0 / (i + 1), "accuracy": a, "val_accuracy": v, "val_loss": vl,
             "learning_rate": 1e-3} for i, (a, v, vl) in epochs]  # fmt: skip


def test_a_one_epoch_dip_on_a_small_validation_set_is_not_overfitting():
    val_loss = [0.9, 0.6, 0.45, 0.3, 0.42, 0.31, 0.3, 0.29]  # one noisy epoch (5): 40% above the minimum
    train = [0.6, 0.7, 0.8, 0.85, 0.86, 0.87, 0.88, 0.88]
    rows = _rows(train, [0.6, 0.7, 0.8, 0.86, 0.8, 0.86, 0.87, 0.87], val_loss)
    labels = np.arange(50) % 2
    assert diagnose(rows, 1e-3, labels, labels, 2) == []


def test_a_large_stable_gap_at_full_training_accuracy_is_a_finding_of_its_own():
    rows = _rows(
        [0.9, 0.97, 0.99, 1.0, 1.0, 1.0], [0.8, 0.82, 0.83, 0.83, 0.83, 0.83], [0.5, 0.45, 0.44, 0.44, 0.44, 0.44]
    )
    labels = np.arange(400) % 4
    [finding] = diagnose(rows, 1e-3, labels, labels, 4)
    assert finding.code == "generalization_gap" and finding.severity == "warning"
    assert finding.evidence["gap"] == pytest.approx(0.17)
    assert finding.evidence["noise_limit"] == pytest.approx(3 * (0.83 * 0.17 / 400) ** 0.5)  # 3 standard errors
    small = np.arange(20) % 4  # 20 validation samples: a 0.17 gap is within 3 standard errors (0.25)
    assert diagnose(rows, 1e-3, small, small, 4) == []


def test_imbalanced_labels_judged_by_balanced_accuracy():
    """95% of one class: a model that learned the rare class is no `not_learning`, one that ignores it is."""
    labels = np.array([0] * 190 + [1] * 10)
    flat = _rows([0.95] * 6, [0.95] * 6, [0.2] * 6)
    learned = labels.copy()
    learned[:5] = 1  # a few mistakes, but the rare class is found
    assert [f.code for f in diagnose(flat, 1e-3, learned, labels, 2)] != ["not_learning"]
    ignores = np.zeros_like(labels)
    assert "not_learning" in [f.code for f in diagnose(flat, 1e-3, ignores, labels, 2)]


ADVISED = [b for b in BROKEN if len(b) > 4 and all("=" in word for word in b[4].split())]  # plain overrides


@pytest.mark.parametrize("overrides,code,severity,when,advice", ADVISED, ids=[b[4] for b in ADVISED])
def test_applying_the_advice_clears_the_finding(mlexp, tmp_path, overrides, code, severity, when, advice):
    result = mlexp("train", *SMALL, *with_data(overrides, tmp_path), *advice.split())
    assert result.code == 0, result.err
    [run] = run_dirs(tmp_path / "outputs")
    assert code not in findings(run, "preflight.json" if when == "preflight" else "diagnosis.json")


def test_equal_rows_count_as_copies_only_when_rows_are_wide():
    """Table rows of a few coded columns collide by chance; 64-pixel images that repeat are copies."""
    from types import SimpleNamespace

    from mlexp.doctor import data_checks

    def splits(width):
        x = np.repeat(np.eye(4, width, dtype=np.float32), 10, axis=0)  # 4 distinct rows, each 10 times
        return SimpleNamespace(x_train=x, x_val=x[:0], x_test=x[:8], reader=None)

    assert data_checks._duplicates(splits(8)) == []
    [finding] = data_checks._duplicates(splits(64))
    assert finding.code == "duplicates_across_splits" and finding.evidence["shared"] == 1


def _curves(train: list[float], val: list[float]) -> list[dict]:
    losses = np.linspace(2.3, 1.0, len(train))
    return [
        {
            "epoch": i + 1,
            "loss": float(loss),
            "accuracy": a,
            "val_loss": 2.3 + 0.1 * i - 2 * (v - 0.1),
            "val_accuracy": v,
        }
        for i, (loss, a, v) in enumerate(zip(losses, train, val, strict=True))
    ]


def test_labels_without_signal_are_told_apart_from_overfitting():
    """Validation at chance from the first epoch while training climbs: the labels, not the capacity."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 500)
    train = list(np.linspace(0.1, 0.9, 12))
    at_chance = diagnose(_curves(train, [0.1] * 12), 1e-3, rng.integers(0, 10, 500), labels, 10)
    assert [f.code for f in at_chance] == ["labels_without_signal"]
    assert at_chance[0].message.startswith("validation accuracy never rose above chance (best 0.100")
    assert "shuffled labels, or labels misaligned with the inputs?" in at_chance[0].message
    # The same training curve with validation that rose to 0.6 and fell back: learning happened, then overfitting.
    rose = [0.1, 0.3, 0.5, 0.6, 0.6, 0.58, 0.55, 0.5, 0.45, 0.42, 0.4, 0.4]
    predicted = np.where(rng.random(500) < 0.4, labels, rng.integers(0, 10, 500))
    codes = [f.code for f in diagnose(_curves(train, rose), 1e-3, predicted, labels, 10)]
    assert "labels_without_signal" not in codes and "overfitting" in codes


def test_a_hint_puts_only_what_can_be_typed_in_code_spans():
    from mlexp.doctor.diagnose import code_spans

    assert code_spans("trainer.epochs=4, or more units (model.hidden_units)") == (
        "`trainer.epochs=4`, or more units (`model.hidden_units`)"
    )
    assert code_spans("optimizer.learning_rate=0.01 optimizer.momentum=0.9") == (
        "`optimizer.learning_rate=0.01 optimizer.momentum=0.9`"  # one span: copied whole
    )
    assert code_spans("store the labels as 0..9 (y - 1)") == "store the labels as 0..9 (y - 1)"


def test_a_regressions_findings_speak_of_its_own_metric():
    """An overfitting regression: the gap is in MAE (lower is better), never a 0.000 accuracy gap."""
    rows = [
        {"epoch": i + 1, "loss": 1.0 / (i + 1), "mae": 0.8 / (i + 1), "val_loss": 0.5 + abs(i - 3) * 0.15,
         "val_mae": 0.5 + abs(i - 3) * 0.1}
        for i in range(12)
    ]  # fmt: skip
    [finding] = diagnose(rows, 1e-3, np.array([]), np.array([0.0] * 50), 1, classifies=False)
    assert finding.code == "overfitting"
    assert "accuracy" not in finding.message
    assert finding.message.endswith("; the train/validation mae gap grew from 0.440 to 1.233.")


KINDS = {
    "mlp": ["model.dropout=0.6", "regularizer=l2", "regularizer.l2=0.5"],
    "cnn": ["model=cnn", "augmentation=flip_shift"],
    "sequential": ["model=sequential", "model.layers=[{layer: Flatten}, {layer: Dense, units: 8}]"],
    "backbone": ["model=backbone", "model.arch=MobileNetV2", "model.input_size=32", "model.weights=null"],
}


def _story_rows() -> dict[str, list[dict]]:
    """History shapes that make each of the doctor's rules speak."""
    n = 12
    flat = [{"epoch": i + 1, "loss": 2.3, "accuracy": 0.1, "val_loss": 2.3, "val_accuracy": 0.1} for i in range(n)]
    return {
        "diverged": [{**flat[0], "loss": float("nan")}],
        "not learning": flat,
        "no signal": _curves(list(np.linspace(0.1, 0.9, n)), [0.1] * n),
        "overfitting": _curves(list(np.linspace(0.3, 0.99, n)), [0.3, 0.5, 0.6, 0.62, 0.6, 0.55, *[0.5] * 6]),
        "oscillating": [
            {**r, "loss": 1.0 + 0.3 * (i % 2), "accuracy": 0.6, "val_accuracy": 0.6} for i, r in enumerate(flat)
        ],  # fmt: skip
        "underfitting": [
            {**r, "loss": 2.0 - 0.05 * i, "accuracy": 0.4, "val_accuracy": 0.6} for i, r in enumerate(flat)
        ],  # fmt: skip
        "plateau": [
            {**r, "loss": 1.0, "accuracy": 0.5, "val_accuracy": 0.5, "learning_rate": 1e-3 / (i + 1)}
            for i, r in enumerate(flat)
        ],  # fmt: skip
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_advice_composes_onto_the_runs_own_model_kind(kind):
    """A suggested override that the run's config refuses cannot be followed: each one must compose and validate."""
    from mlexp.doctor import advice
    from mlexp.doctor.preflight import _transfer
    from mlexp.hydra_app import compose_validated

    cfg = compose_validated(KINDS[kind])
    labels = np.arange(200) % 10
    findings = []
    for rows in _story_rows().values():
        for predicted in (labels, np.zeros(200, int)):  # learning, and collapsed onto one class
            findings += diagnose(rows, cfg.optimizer.learning_rate, predicted, labels, 10, cfg=cfg)
    findings += _transfer(cfg, None)
    assert len({f.code for f in findings}) >= 6
    overrides = {
        o for f in advice.with_followable_advice(findings, cfg) for o in advice._OVERRIDE.findall(f.suggestion)
    }
    assert overrides
    for override in sorted(overrides):
        compose_validated([*KINDS[kind], override])  # raises on an override this config cannot take


def test_a_backbone_is_not_told_to_change_an_initializer_it_does_not_have():
    from mlexp.doctor import advice
    from mlexp.hydra_app import compose_validated

    cfg = compose_validated(KINDS["backbone"])
    suggestion = "model.kernel_initializer=glorot_uniform or a lower optimizer.learning_rate"
    assert advice.followable(cfg, suggestion) == "a lower optimizer.learning_rate"
    assert advice.followable(compose_validated([]), suggestion) == suggestion


def test_a_frozen_backbone_with_random_weights_is_named_before_training():
    from mlexp.doctor.preflight import _transfer
    from mlexp.hydra_app import compose_validated

    cfg = compose_validated([*KINDS["backbone"], "model.fine_tune.freeze_epochs=2"])
    [finding] = [f for f in _transfer(cfg, None) if f.code == "frozen_random_backbone"]
    assert finding.message.startswith("MobileNetV2 has random weights (model.weights=null) and stays frozen for 2")
    assert finding.suggestion.startswith("model.weights=imagenet, or model.fine_tune.freeze_epochs=0")
