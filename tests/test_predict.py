"""mlexp predict and mlexp export on a finished run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY


@pytest.fixture
def digits_run(mlexp, tmp_path):
    assert mlexp("train", "trainer.verbose=0", "trainer.epochs=5", "hydra.run.dir=outputs/r").code == 0
    return tmp_path / "outputs" / "r"


def _written(result) -> Path:
    """The CSV that `mlexp predict` says it wrote (by default a new file in RUN/predictions/)."""
    line = next(line for line in result.out.splitlines() if line.startswith("Predictions: "))
    path = Path(line.removeprefix("Predictions: "))
    assert path.is_file(), path
    return path


def test_predict_arrays_and_images_with_the_runs_preprocessing(mlexp, tmp_path, digits_run):
    import keras
    from PIL import Image
    from sklearn.datasets import load_digits

    images = load_digits().images[:6]  # raw 0..16, the dataset's own units
    np.save(tmp_path / "x.npy", images)
    Image.fromarray((images[0] * 255 / 16).astype("uint8")).resize((32, 32)).save(tmp_path / "first.png")
    result = mlexp("predict", str(digits_run), str(tmp_path / "x.npy"), str(tmp_path / "first.png"), "--top-k", "2")
    assert result.code == 0, result.err
    written = _written(result)
    assert written.parent == digits_run / "predictions" and not (tmp_path / "predictions.csv").exists()
    table = pd.read_csv(written, dtype={"class_1": str, "class_2": str})
    assert list(table.columns) == ["input", "class_1", "probability_1", "class_2", "probability_2"]
    assert table["input"].tolist() == [f"x.npy[{i}]" for i in range(6)] + ["first.png"]
    model = keras.models.load_model(digits_run / "model.keras")
    expected = model.predict((images / 16.0)[..., None].astype("float32"), verbose=0).argmax(axis=1)
    assert table["class_1"][:6].tolist() == [str(c) for c in expected]
    assert (table["probability_1"] >= table["probability_2"]).all()


def test_predict_logits_run_gives_probabilities(mlexp, tmp_path):
    assert mlexp("train", *TINY, "model.logits=true", "hydra.run.dir=outputs/logits").code == 0
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((3, 4, 4), dtype=np.float32))
    result = mlexp("predict", str(tmp_path / "outputs/logits"), str(tmp_path / "x.npy"), "--top-k", "3")
    assert result.code == 0, result.err
    table = pd.read_csv(_written(result))
    sums = table[["probability_1", "probability_2", "probability_3"]].sum(axis=1)
    assert np.allclose(sums, 1.0, atol=1e-5)


def test_predict_bad_input(mlexp, tmp_path, digits_run):
    np.save(tmp_path / "wrong.npy", np.zeros((2, 5, 5)))
    result = mlexp("predict", str(digits_run), str(tmp_path / "wrong.npy"))
    assert result.code == 1
    assert (
        result.err == f"mlexp predict: {tmp_path}/wrong.npy holds samples of shape (5, 5); the model takes (8, 8, 1)\n"
    )
    (tmp_path / "notes.txt").write_text("x")
    assert "has suffix '.txt'" in mlexp("predict", str(digits_run), str(tmp_path / "notes.txt")).err
    assert "has no model.keras" in mlexp("predict", str(tmp_path), str(tmp_path / "wrong.npy")).err


def test_export_every_format_with_config_and_metrics(mlexp, tmp_path, digits_run):
    import tensorflow as tf

    for fmt, name in (("keras", "model.keras"), ("savedmodel", "saved_model"), ("tflite", "model.tflite")):
        result = mlexp("export", str(digits_run), "--format", fmt)
        folder = digits_run / "export" / fmt
        assert result.code == 0, result.err
        assert result.out.strip() == f"Exported: {folder / name}"
        for side in ("resolved_config.yaml", "metrics.json", "preprocessing.json"):
            assert (folder / side).read_text() == (digits_run / side).read_text()
    interpreter = tf.lite.Interpreter(model_path=str(digits_run / "export/tflite/model.tflite"))
    interpreter.allocate_tensors()
    x = np.random.default_rng(0).random((1, 8, 8, 1), dtype=np.float32)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    lite = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    import keras

    reference = keras.models.load_model(digits_run / "model.keras").predict(x, verbose=0)
    np.testing.assert_allclose(lite, reference, atol=1e-5)
    bad = mlexp("export", str(digits_run), "--format", "onnx")
    assert (bad.code, bad.err) == (
        1,
        "mlexp export: export --format: got 'onnx'; expected one of keras, savedmodel, tflite\n",
    )
