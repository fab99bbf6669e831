"""mlexp predict and mlexp export: use a finished run's model on new data, or write it out for serving."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from mlexp import runs
from mlexp.errors import MlexpError, first_line
from mlexp.tasks import MULTICLASS, MULTILABEL, REGRESSION

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def _finished(run_dir: Path) -> runs.RunDir:
    run = runs.RunDir(run_dir)
    for name in (runs.MODEL, runs.PREPROCESSING):
        if not run.file(name).is_file():
            raise MlexpError(f"{run_dir} has no {name}; expected the directory of a finished run")
    return run


def load_inputs(
    paths: list[Path], input_shape: tuple[int, ...], max_value: float, image_reader: dict | None = None
) -> tuple[np.ndarray, list[str]]:
    """Arrays (.npy, .npz: x, x_test or the only array) in the dataset's raw units, or image files
    converted to the model's height, width and channels and to the dataset's pixel range (read as in
    training when the run read an image folder: `image_reader`)."""
    arrays, names = [], []
    for path in map(Path, paths):
        if not path.is_file():
            raise MlexpError(f"predict: no file {path}; expected .npy, .npz or an image ({', '.join(IMAGE_SUFFIXES)})")
        suffix = path.suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            array = _image(path, input_shape, max_value, image_reader)[np.newaxis]
        elif suffix in (".npy", ".npz"):
            array = _array(path)
        else:
            raise MlexpError(
                f"predict: {path} has suffix {suffix!r}; expected .npy, .npz or {', '.join(IMAGE_SUFFIXES)}"
            )
        if array.ndim == 0 or len(array) == 0:
            raise MlexpError(f"predict: {path} holds no samples (shape {array.shape}); expected at least one")
        if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
            raise MlexpError(f"predict: {path} holds {array.dtype} values; expected numbers")
        expected = input_shape[:-1] if len(input_shape) == 3 and input_shape[-1] == 1 else input_shape
        if tuple(array.shape[1:]) not in (tuple(input_shape), tuple(expected)):
            raise MlexpError(
                f"predict: {path} holds samples of shape {tuple(array.shape[1:])}; the model takes {tuple(input_shape)}"
            )
        arrays.append(array.reshape((-1, *input_shape)))
        names += [path.name] if suffix in IMAGE_SUFFIXES else [f"{path.name}[{i}]" for i in range(len(array))]
    return np.concatenate(arrays), names


def _array(path: Path) -> np.ndarray:
    try:
        return _read_array(path)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise MlexpError(
                f"predict: {path} holds Python objects (a pickle), which mlexp does not load; "
                "expected a numeric array (np.save of a number array)"
            ) from None
        raise MlexpError(f"predict: {path} is not a readable {path.suffix} array ({first_line(exc)})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise MlexpError(f"predict: {path} is not a readable {path.suffix} array ({first_line(exc)})") from None


def _read_array(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        return np.load(path, allow_pickle=False)
    with np.load(path, allow_pickle=False) as f:
        for key in ("x", "x_test"):
            if key in f.files:
                return f[key]
        if len(f.files) == 1:
            return f[f.files[0]]
        raise MlexpError(f"predict: {path} has arrays {', '.join(f.files)}; expected one named x (or x_test)")


def _image(path: Path, input_shape: tuple[int, ...], max_value: float, image_reader: dict | None) -> np.ndarray:
    from PIL import Image

    if len(input_shape) != 3:
        raise MlexpError(f"predict: {path} is an image, but the model takes samples of shape {tuple(input_shape)}")
    if image_reader:
        from mlexp.data.images import ImageReader

        return ImageReader.from_state(image_reader).load([path])[0]
    height, width, channels = input_shape
    try:
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB").resize((width, height))
            pixels = np.asarray(image, dtype=np.float32)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError is an OSError
        raise MlexpError(f"predict: {path} is not a readable image ({first_line(exc)})") from None
    pixels = pixels / 255.0 * max_value  # into the dataset's own units, then training's preprocessing applies
    return pixels[..., np.newaxis] if channels == 1 else pixels


def default_out(run: runs.RunDir) -> Path:
    """Predictions go into the run directory, one new file per call: nothing in the current folder is overwritten."""
    import time

    stem = f"predictions/predictions-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = run.file(f"{stem}.csv"), 1
    while path.exists():
        path, n = run.file(f"{stem}-{n}.csv"), n + 1
    return path


def predict(
    run_dir: Path, inputs: list[Path], top_k: int, out: Path | None = None, from_test: str | None = None
) -> tuple[pd.DataFrame, Path]:
    """Predictions of a finished run's model for `inputs` (files) or test samples `from_test` ("0:5");
    returns the table and the CSV it was written to."""
    from mlexp import models
    from mlexp.models.head import Head
    from mlexp.tf_runtime import import_keras

    run = _finished(Path(run_dir))
    out = out or default_out(run)
    if out.is_dir():
        raise MlexpError(f"predict --out: got {out}, a folder; expected a CSV file path, e.g. {out}/predictions.csv")
    if out.exists() and runs.holds_results(out.parent):
        raise MlexpError(f"predict --out: got {out}, a file of a run's results; expected a new CSV file path")
    info = run.read_json(runs.PREPROCESSING)
    missing = [key for key in ("input_shape", "class_names", "max_value") if key not in info]
    if missing:
        lacking = ", ".join(missing)
        raise MlexpError(f"predict: {run.file(runs.PREPROCESSING)} lacks {lacking}; the run folder is damaged")
    names = info["class_names"]
    truth = None
    if from_test is not None:
        x, labels, truth = _test_samples(run, from_test)
    else:
        x, labels = _inputs(inputs, info)
    keras = import_keras()
    model = models.load(run.file(runs.MODEL), keras, safe_mode=True)
    outputs = model.predict(x, verbose=0)
    logits = bool(run.read_config().get("model", {}).get("logits"))
    head = Head(len(names) or 1, logits, info.get("task", MULTICLASS))
    table = pd.DataFrame(_rows(head, outputs, labels, names, top_k))
    if truth is not None:
        table.insert(1, "true", [_truth(head, t, names) for t in truth])
    out.parent.mkdir(parents=True, exist_ok=True)
    with runs.atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
    return table, out


def _inputs(paths: list[Path], info: dict) -> tuple[np.ndarray, list[str]]:
    """Files as model inputs, preprocessed as in training: a table encoded by the run's own encoder."""
    from mlexp.data import apply

    if "table" in info:
        return _table_rows(paths, info)
    if "text" in info:
        return _texts(paths, info)
    x, labels = load_inputs(paths, tuple(info["input_shape"]), info["max_value"], info.get("image_reader"))
    return apply(info, x), labels


def _table_rows(paths: list[Path], info: dict) -> tuple[np.ndarray, list[str]]:
    from mlexp.data import apply
    from mlexp.data.table import TableEncoder, read
    from mlexp.errors import MlexpError as _Error

    encoder, arrays, labels = TableEncoder.from_state(info["table"]), [], []
    for path in map(Path, paths):
        try:
            frame = read(path, "predict")
            arrays.append(encoder.transform(frame, f"predict: {path}"))
        except _Error as exc:
            raise MlexpError(str(exc)) from None
        labels += [f"{path.name}[{i}]" for i in range(len(frame))]
    return apply(info, np.concatenate(arrays)), labels


def _texts(paths: list[Path], info: dict) -> tuple[np.ndarray, list[str]]:
    from mlexp.data.text import TextEncoder

    texts = []
    for path in map(Path, paths):
        if not path.is_file():
            raise MlexpError(f"predict: no file {path}; expected text files (.txt) for this run")
        texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return TextEncoder.from_state(info["text"]).transform(np.array(texts, dtype=object)), [p.name for p in paths]


def _test_samples(run: runs.RunDir, rows: str) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Test samples `rows` ("0:5", "7") of the run's own data, with their true labels."""
    from mlexp import data
    from mlexp.config.saved import load_config

    start, _, stop = rows.partition(":")
    try:
        chosen = slice(int(start or 0), int(stop) if stop else int(start) + 1) if ":" in rows or start else None
    except ValueError:
        chosen = None
    if chosen is None or chosen.start < 0 or chosen.stop <= chosen.start:
        raise MlexpError(f"predict --from-test: got {rows!r}; expected START:STOP (e.g. 0:5) or one index")
    cfg = load_config(run.path)
    splits = data.load(cfg.dataset, cfg.trainer)
    if chosen.start >= len(splits.y_test):
        raise MlexpError(f"predict --from-test: got {rows!r}; the test split has {len(splits.y_test)} samples")
    x = splits.take("x_test", chosen)
    indices = range(chosen.start, min(chosen.stop, len(splits.y_test)))
    return x, [f"test[{i}]" for i in indices], splits.y_test[chosen]


def _rows(head, outputs: np.ndarray, labels: list[str], names: list[str], top_k: int) -> list[dict]:
    """One row per input: the value (regression), the label set (multilabel) or the top-k classes."""
    rows = []
    if head.task == REGRESSION:
        return [
            {"input": label, "prediction": round(float(v), 6)} for label, v in zip(labels, outputs[:, 0], strict=True)
        ]
    probabilities = head.probabilities(outputs)
    for label, p in zip(labels, probabilities, strict=True):
        row = {"input": label}
        if head.task == MULTILABEL:
            row["labels"] = "|".join(name for name, q in zip(names, p, strict=True) if q >= head.threshold)
            row.update({f"p_{name}": round(float(q), 6) for name, q in zip(names, p, strict=True)})
        else:
            for rank, c in enumerate(np.argsort(-p)[: min(top_k, len(names))], start=1):
                row[f"class_{rank}"], row[f"probability_{rank}"] = names[c], round(float(p[c]), 6)
        rows.append(row)
    return rows


def _truth(head, value, names: list[str]):
    if head.task == REGRESSION:
        return float(value)
    if head.task == MULTILABEL:
        return "|".join(name for name, v in zip(names, value, strict=True) if v)
    return names[int(value)]


FORMATS = ("keras", "savedmodel", "tflite")


def _check_export_folder(run: runs.RunDir, out: Path) -> None:
    """--out must be a folder of its own: not a file, not below a file, not the run folder itself."""
    if out.resolve() == run.path.resolve():
        raise MlexpError(
            f"export --out: got {out}, the run folder itself; expected another folder "
            f"(default: {run.path}/export/FORMAT)"
        )
    if runs.holds_results(out):
        raise MlexpError(f"export --out: got {out}, which holds a run's results; expected another folder")
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            raise MlexpError(f"export --out: got {out}, but {folder} is a file; expected a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MlexpError(
            f"export --out: cannot create {out} ({exc.strerror or exc}); choose a folder you can write"
        ) from None


def export(run_dir: Path, fmt: str, out: Path) -> Path:
    """The model in `fmt`, with resolved_config.yaml, metrics.json and preprocessing.json beside it."""
    from mlexp import models
    from mlexp.tf_runtime import import_keras

    if fmt not in FORMATS:
        raise MlexpError(f"export --format: got {fmt!r}; expected one of {', '.join(FORMATS)}")
    run = _finished(Path(run_dir))
    _check_export_folder(run, Path(out))
    keras = import_keras()
    model = models.load(run.file(runs.MODEL), keras, safe_mode=True)
    if fmt == "keras":
        target = out / "model.keras"
        with runs.atomic_path(target) as tmp:
            model.save(tmp)
    elif fmt == "savedmodel":
        target = out / "saved_model"
        staging = out / ".saved_model.partial"
        shutil.rmtree(staging, ignore_errors=True)
        model.export(str(staging), format="tf_saved_model", verbose=False)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    else:
        from mlexp.tf_runtime import import_tensorflow

        tf = import_tensorflow()

        staging = out / ".saved_model.tflite-source"
        shutil.rmtree(staging, ignore_errors=True)
        model.export(str(staging), format="tf_saved_model", verbose=False)
        converted = tf.lite.TFLiteConverter.from_saved_model(str(staging)).convert()
        shutil.rmtree(staging, ignore_errors=True)
        target = out / "model.tflite"
        with runs.atomic_path(target) as tmp:
            tmp.write_bytes(converted)
    for name in (runs.CONFIG, runs.METRICS, runs.PREPROCESSING):
        shutil.copyfile(run.file(name), out / name)
    return target
