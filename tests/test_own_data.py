"""Own data: image folders, tables, text folders; tasks beyond multiclass; checks of what a loader read."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import read_metrics

FAST = ["trainer.verbose=0", "model=mlp", "model.hidden_units=[16]"]
COLOURS = ("blue", "green", "red")


def _written(result) -> Path:
    line = next(line for line in result.out.splitlines() if line.startswith("Predictions: "))
    return Path(line.removeprefix("Predictions: "))


def write_images(root: Path, per_class: int = 12, size=(20, 24), seed: int = 0) -> Path:
    """A real folder of PNG, JPEG and BMP files: one class per colour channel, learnable in a few epochs."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for channel, name in enumerate(COLOURS):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (*size, 3)).astype(np.uint8)
            pixels[..., 2 - channel] += 180  # blue, green, red: channels 2, 1, 0
            Image.fromarray(pixels).save(folder / f"{i}.{('png', 'jpg', 'bmp')[i % 3]}")
    return root


@pytest.fixture
def images(tmp_path) -> Path:
    return write_images(tmp_path / "images")


def test_image_folder_trains_from_class_subfolders_and_predicts_like_training(mlexp, images, tmp_path):
    args = ["dataset=image_folder", f"dataset.path={images}", "dataset.image_size=[8,8]", "trainer.epochs=15", *FAST]
    result = mlexp("train", *args, "optimizer.learning_rate=0.01", "hydra.run.dir=outputs/img")
    assert result.code == 0, result.err
    run = tmp_path / "outputs/img"
    metrics = read_metrics(run)
    assert metrics["task"] == "multiclass" and metrics["samples"]["test"] == 8  # 20% of 36, stratified
    assert metrics["test_accuracy"] == 1.0
    info = json.loads((run / "preprocessing.json").read_text())
    assert info["class_names"] == list(COLOURS) and info["input_shape"] == [8, 8, 3]
    assert info["image_reader"] == {"image_size": [8, 8], "channels": 3, "interpolation": "bilinear"}
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["data"]["files"] == 36 and len(manifest["data"]["digest"]) == 32
    result = mlexp("predict", str(run), str(images / "red/0.png"), str(images / "blue/1.jpg"))
    assert result.code == 0, result.err
    table = pd.read_csv(_written(result))
    assert table["input"].tolist() == ["0.png", "1.jpg"]
    assert table["class_1"].tolist() == ["red", "blue"]


def test_image_folder_split_folders_validate_on_val(mlexp, tmp_path):
    for split, n in (("train", 9), ("val", 3), ("test", 3)):
        write_images(tmp_path / "layout" / split, per_class=n, seed=len(split))
    args = ["dataset=image_folder", f"dataset.path={tmp_path / 'layout'}", "dataset.image_size=[8,8]"]
    result = mlexp("train", *args, "trainer.epochs=1", *FAST, "hydra.run.dir=outputs/layout")
    assert result.code == 0, result.err
    metrics = read_metrics(tmp_path / "outputs/layout")
    assert metrics["samples"] == {"train": 27, "val": 9, "test": 9}
    assert metrics["validation_source"] == "file"


@pytest.mark.parametrize(
    "damage,expected",
    [
        (lambda p: p.write_text("name,value\n1,2\n"), "not a PNG, JPEG, BMP or GIF image"),
        (lambda p: p.write_bytes(b""), "an empty file"),
    ],
    ids=["text-named-png", "empty"],
)
def test_image_folder_refuses_a_file_that_is_no_image_before_training(mlexp, images, damage, expected):
    damage(images / "green/3.png")
    result = mlexp("train", "dataset=image_folder", f"dataset.path={images}", *FAST, "hydra.run.dir=outputs/bad")
    assert result.code == 2
    assert f"{images / 'green/3.png'}: {expected}" in result.err
    assert "Traceback" not in result.err


def test_image_folder_names_a_truncated_image_that_fails_while_training(mlexp, images, tmp_path):
    path = images / "red/3.png"
    path.write_bytes(path.read_bytes()[:40])  # a PNG header, then nothing
    args = ["dataset=image_folder", f"dataset.path={images}", "dataset.image_size=[8,8]", "trainer.epochs=1", *FAST]
    result = mlexp("train", *args, "hydra.run.dir=outputs/cut")
    assert result.code == 2, result.err
    assert f"{path} is truncated or not a PNG image; expected a complete image file" in result.err
    assert not (tmp_path / "outputs/cut").exists()  # found while the data were read: no run was started


def test_image_folder_path_errors_say_what_is_there(mlexp, tmp_path):
    (tmp_path / "table.csv").write_text("a,b\n1,2\n")
    result = mlexp("train", "dataset=image_folder", f"dataset.path={tmp_path / 'table.csv'}", *FAST)
    assert result.code == 2
    assert "is a text table, likely a CSV" in result.err and "expected a folder of class subfolders" in result.err
    (tmp_path / "flat").mkdir()
    result = mlexp("train", "dataset=image_folder", f"dataset.path={tmp_path / 'flat'}", *FAST)
    assert result.code == 2 and "has no class subfolders" in result.err


def test_streamed_batches_repeat_for_a_seed_and_change_with_the_epoch(images):
    import tensorflow as tf

    from mlexp.data import images as image_data
    from mlexp.data.pipeline import EpochOrder, training_dataset

    paths = np.array(sorted(str(p) for p in images.rglob("*.png")))
    labels = np.arange(len(paths), dtype=np.int32)
    reader = image_data.ImageReader((4, 4), 3)

    def first_epochs(seed):
        order = EpochOrder(seed)
        ds = training_dataset(paths, labels, 4, order=order, decode=reader.decode)
        out = []
        for epoch in (0, 1):
            order.clock.epoch.assign(epoch)
            out.append(np.concatenate([y.numpy() for _, y in ds]))
        return out

    a, b = first_epochs(3), first_epochs(3)
    assert all((x == y).all() for x, y in zip(a, b, strict=True))
    assert sorted(a[0]) == list(labels) and not (a[0] == a[1]).all()
    assert tf.reduce_max(next(iter(training_dataset(paths, labels, 2, decode=reader.decode)))[0]) > 1.0


def write_table(path: Path, rows: int = 240, seed: int = 0) -> Path:
    """Numbers, categories (strings), free text and missing values; a class target and a numeric one."""
    rng = np.random.default_rng(seed)
    size = rng.normal(10, 3, rows)
    colour = rng.choice(["red", "green", "blue"], rows)
    notes = rng.choice(["great fresh tasty", "awful stale", "fine ok", "sweet ripe"], rows)
    known = size.copy()
    size[rng.random(rows) < 0.1] = np.nan
    frame = pd.DataFrame({
        "size": size, "colour": colour, "notes": notes,
        "label": np.where(known > 10, "big", "small"),
        "price": 2 * known + (colour == "red") * 5 + rng.normal(0, 0.3, rows),
    })  # fmt: skip
    frame.to_csv(path, index=False)
    return path


def test_csv_classifies_with_an_encoding_fitted_on_training_rows_and_predicts_new_rows(mlexp, tmp_path):
    table = write_table(tmp_path / "fruit.csv")
    args = ["dataset=csv", f"dataset.path={table}", "dataset.target=label", "dataset.columns={price: ignore}"]
    result = mlexp("train", *args, "trainer.epochs=30", *FAST, "hydra.run.dir=outputs/csv")
    assert result.code == 0, result.err
    run = tmp_path / "outputs/csv"
    metrics = read_metrics(run)
    assert metrics["task"] == "binary" and metrics["test_accuracy"] >= 0.8
    info = json.loads((run / "preprocessing.json").read_text())
    assert info["class_names"] == ["big", "small"]
    kinds = [["size", "numeric"], ["colour", "categorical"], ["notes", "categorical"], ["price", "ignore"]]
    assert info["table"]["columns"] == kinds  # in the table's order: the order of the encoded features
    size = info["table"]["stats"]["size"]
    assert size["missing_flag"] is True and 9 < size["mean"] < 11  # fitted on training rows, not the test
    new = pd.DataFrame({"size": [15.0, 4.0, None], "colour": ["red", "blue", "purple"], "notes": ["ok", "x", None]})
    new.to_csv(tmp_path / "new.csv", index=False)
    result = mlexp("predict", str(run), str(tmp_path / "new.csv"))
    assert result.code == 0, result.err
    predicted = pd.read_csv(_written(result))
    assert predicted["input"].tolist() == ["new.csv[0]", "new.csv[1]", "new.csv[2]"]
    assert predicted["class_1"][:2].tolist() == ["big", "small"]
    new.drop(columns="colour").to_csv(tmp_path / "short.csv", index=False)
    result = mlexp("predict", str(run), str(tmp_path / "short.csv"))
    assert result.code == 1 and "lacks the column(s) ['colour']" in result.err


def test_csv_regression_reports_errors_in_the_targets_units_and_sweeps_rank_by_mae(mlexp, tmp_path):
    table = write_table(tmp_path / "fruit.csv")
    args = ["dataset=csv", f"dataset.path={table}", "dataset.target=price", "dataset.columns={label: ignore}"]
    result = mlexp("train", "-m", *args, "trainer.epochs=3,40", "optimizer.learning_rate=0.01", *FAST,
                   "hydra.sweep.dir=outputs/sweep")  # fmt: skip
    assert result.code == 0, result.err
    short, long = (read_metrics(tmp_path / f"outputs/sweep/{i}") for i in (0, 1))
    assert long["task"] == "regression"
    assert {"test_mae", "test_rmse", "test_r2", "best_val_mae", "best_val_r2"} <= set(long)
    assert long["test_mae"] < short["test_mae"] and long["test_r2"] > 0.8 and long["test_mae"] < 3.0
    assert long["best_val_mae"] == min(pd.read_csv(tmp_path / "outputs/sweep/1/history.csv")["val_mae"])
    summary = pd.read_csv(tmp_path / "outputs/sweep/summary.csv")
    assert summary["best_val_mae"].notna().all() and "test_mae" in summary
    report = (tmp_path / "outputs/sweep/comparison.md").read_text()
    assert "Sorted by best_val_mae (lower is better)" in report
    assert (tmp_path / "outputs/sweep/1/plots/predicted_vs_true.png").is_file()
    assert (tmp_path / "outputs/sweep/plots/test_mae.png").is_file()


def test_csv_errors_name_the_column_and_the_file(mlexp, tmp_path):
    table = write_table(tmp_path / "fruit.csv")
    result = mlexp("train", "dataset=csv", f"dataset.path={table}", "dataset.target=weight", *FAST)
    assert result.code == 2 and "dataset.target: got ['weight']; expected a column of" in result.err
    result = mlexp("train", "dataset=csv", f"dataset.path={table}", "dataset.target=label",
                   "dataset.columns={colour: text, shape: numeric}", *FAST)  # fmt: skip
    assert result.code == 2 and "dataset.columns: ['shape'] are not columns of the table" in result.err
    result = mlexp("train", "dataset=npz", f"dataset.path={table}", *FAST)
    assert result.code == 2 and "is a text table, likely a CSV" in result.err and "dataset=csv reads it" in result.err


def write_texts(root: Path, per_class: int = 30, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    common = "the movie film plot actor scene was and it".split()
    words = {"neg": "awful boring hated terrible dull".split(), "pos": "great wonderful loved excellent fun".split()}
    for name, own in words.items():
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            (root / name / f"{i}.txt").write_text(" ".join(rng.choice(common + own, 12)))
    return root


def test_text_folder_vectorizes_on_training_texts_and_predicts_text_files(mlexp, tmp_path):
    texts = write_texts(tmp_path / "texts")
    result = mlexp("train", "dataset=text_folder", f"dataset.path={texts}", "dataset.output_mode=tf_idf",
                   "trainer.epochs=20", "optimizer.learning_rate=0.01", *FAST, "hydra.run.dir=outputs/txt")  # fmt: skip
    assert result.code == 0, result.err
    run = tmp_path / "outputs/txt"
    assert read_metrics(run)["test_accuracy"] >= 0.8
    info = json.loads((run / "preprocessing.json").read_text())
    assert info["text"]["output_mode"] == "tf_idf" and "terrible" in info["text"]["vocabulary"]
    (tmp_path / "review.txt").write_text("a wonderful film, loved it, great fun")
    result = mlexp("predict", str(run), str(tmp_path / "review.txt"))
    assert result.code == 0, result.err
    assert pd.read_csv(_written(result))["class_1"].tolist() == ["pos"]


def test_multilabel_npz_trains_with_per_label_metrics_and_predicts_label_sets(mlexp, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((300, 6)).astype(np.float32)
    y = np.stack([x[:, 0] > 0.5, x[:, 1] > 0.5, x[:, 2] + x[:, 3] > 1.0], axis=1).astype(np.int64)
    np.savez(tmp_path / "tags.npz", x_train=x[:240], y_train=y[:240], x_test=x[240:], y_test=y[240:],
             class_names=np.array(["a", "b", "c"]))  # fmt: skip
    result = mlexp("train", "dataset=npz", f"dataset.path={tmp_path / 'tags.npz'}", "trainer.epochs=40",
                   "optimizer.learning_rate=0.01", *FAST, "hydra.run.dir=outputs/ml")  # fmt: skip
    assert result.code == 0, result.err
    run = tmp_path / "outputs/ml"
    metrics = read_metrics(run)
    assert metrics["task"] == "multilabel"
    assert {"test_auc", "test_precision", "test_recall", "test_accuracy"} <= set(metrics)
    assert metrics["test_auc"] > 0.85
    per_label = pd.read_csv(run / "classification_report.csv", index_col=0)
    assert list(per_label.index) == ["a", "b", "c"] and {"precision", "recall", "f1"} <= set(per_label.columns)
    result = mlexp("predict", str(run), "--from-test", "0:3")
    assert result.code == 0, result.err
    table = pd.read_csv(_written(result), keep_default_na=False)
    assert list(table.columns) == ["input", "true", "labels", "p_a", "p_b", "p_c"]
    assert table["true"].tolist() == ["|".join(n for n, v in zip("abc", row, strict=True) if v) for row in y[240:243]]


def test_rerun_warns_when_the_data_changed(mlexp, tmp_path):
    table = write_table(tmp_path / "fruit.csv")
    args = ["dataset=csv", f"dataset.path={table}", "dataset.target=label", "trainer.epochs=1", *FAST]
    assert mlexp("train", *args, "hydra.run.dir=outputs/a").code == 0
    write_table(table, seed=1)
    result = mlexp("rerun", "outputs/a")
    assert "warning: the data differ from the original run's: 1 files" in result.err
    assert result.code == 1  # and the numbers differ, which the rerun reports


def test_predict_from_test_and_its_errors(mlexp, images, tmp_path):
    args = ["dataset=image_folder", f"dataset.path={images}", "dataset.image_size=[8,8]", "trainer.epochs=1", *FAST]
    assert mlexp("train", *args, "hydra.run.dir=outputs/p").code == 0
    result = mlexp("predict", "outputs/p", "--from-test", "2:4")
    assert result.code == 0, result.err
    table = pd.read_csv(_written(result))
    assert table["input"].tolist() == ["test[2]", "test[3]"] and set(table["true"]) <= set(COLOURS)
    for bad in ("4:2", "x", "100:101"):
        result = mlexp("predict", "outputs/p", "--from-test", bad)
        assert result.code == 1 and f"predict --from-test: got {bad!r}" in result.err
    result = mlexp("predict", "outputs/p")
    assert result.code == 1 and "expected input files, or --from-test START:STOP" in result.err


def test_data_verb_describes_splits_and_draws_samples_and_augmentations(mlexp, images, tmp_path):
    result = mlexp("data", "dataset=image_folder", f"dataset.path={images}", "dataset.image_size=[8,8]",
                   "augmentation=flip_shift", "--out", "view", "--per-class", "2")  # fmt: skip
    assert result.code == 0, result.err
    summary = json.loads((tmp_path / "view/summary.json").read_text())
    assert summary["class_counts"] == {"train": [7, 7, 8], "val": [2, 2, 2], "test": [3, 3, 2]}  # 36 files, stratified
    assert summary["imbalance"] == 8 / 7 and summary["task"] == "multiclass" and summary["input_shape"] == [8, 8, 3]
    assert 0.0 <= summary["input_range"][0] < summary["input_range"][1] <= 1.0  # after scale=unit
    for name in ("samples.png", "augmented.png", "class_counts.png"):
        assert (tmp_path / "view" / name).stat().st_size > 1000, name
    assert (
        "blue         7       2       3" in result.out
        and "Imbalance (largest / smallest training class): 1.14" in result.out
    )
    assert not (tmp_path / "outputs").exists()  # nothing trained, no run folder


def test_data_verb_names_missing_classes_and_table_targets(mlexp, tmp_path):
    x = np.zeros((40, 3), np.float32)
    y = np.repeat([0, 1, 2, 3], 10)  # sorted labels: validation=head takes only class 0
    np.savez(tmp_path / "sorted.npz", x_train=x, y_train=y, x_test=x[:8], y_test=y[::5])
    result = mlexp("data", "dataset=npz", f"dataset.path={tmp_path / 'sorted.npz'}", "trainer.validation=head",
                   "trainer.validation_size=10", "--out", "v")  # fmt: skip
    assert result.code == 0, result.err
    assert "Warning: the val split has no sample of 1, 2, 3" in result.out
    table = write_table(tmp_path / "fruit.csv")
    result = mlexp("data", "dataset=csv", f"dataset.path={table}", "dataset.target=price", "--out", "t")
    assert result.code == 0, result.err
    target = json.loads((tmp_path / "t/summary.json").read_text())["target"]
    assert 0 < target["min"] < target["mean"] < target["max"]


def write_tfds(data_dir: Path) -> Path:
    """A small data set in TFDS' own prepared format (TFRecords + dataset_info.json), built offline."""
    tfds = pytest.importorskip("tensorflow_datasets")

    class TinyShades(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            features = {"image": tfds.features.Image(shape=(8, 8, 1)),
                        "label": tfds.features.ClassLabel(names=["dark", "light"])}  # fmt: skip
            return tfds.core.DatasetInfo(
                builder=self, features=tfds.features.FeaturesDict(features), supervised_keys=("image", "label")
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(60, 0), "test": self._generate_examples(20, 1)}

        def _generate_examples(self, n, seed):
            rng = np.random.default_rng(seed)
            for i in range(n):
                image = rng.integers(0, 100, (8, 8, 1)) + 150 * (i % 2)
                yield i, {"image": image.astype(np.uint8), "label": i % 2}

    TinyShades(data_dir=str(data_dir)).download_and_prepare()
    return data_dir


def test_tfds_reads_a_prepared_data_set_offline_with_split_slicing(mlexp, tmp_path):
    data_dir = write_tfds(tmp_path / "tfds")
    args = ["dataset=tfds", "dataset.tfds_name=tiny_shades", f"dataset.data_dir={data_dir}", *FAST]
    result = mlexp("train", *args, "dataset.split_train='train[:50%]'", "trainer.epochs=40",
                   "optimizer.learning_rate=0.01", "hydra.run.dir=outputs/tfds")  # fmt: skip
    assert result.code == 0, result.err
    metrics = read_metrics(tmp_path / "outputs/tfds")
    assert metrics["samples"] == {"train": 24, "val": 6, "test": 20} and metrics["test_accuracy"] >= 0.9
    info = json.loads((tmp_path / "outputs/tfds/preprocessing.json").read_text())
    assert info["class_names"] == ["dark", "light"] and info["input_shape"] == [8, 8, 1]
    result = mlexp("train", "dataset=tfds", "dataset.tfds_name=tiny_shades", f"dataset.data_dir={tmp_path / 'none'}",
                   *FAST)  # fmt: skip
    # Registered in this process by the builder above, so "not prepared"; a fresh process says "not found".
    assert result.code == 2 and "dataset.tfds_name: 'tiny_shades' is not prepared in" in result.err
    assert "dataset.download=false; expected a prepared copy (dataset.data_dir=FOLDER)" in result.err
    result = mlexp("train", *args, "dataset.split_test=holdout")
    assert result.code == 2 and "dataset split 'holdout' of tiny_shades" in result.err and "train, test" in result.err


def test_image_folder_resumed_after_sigterm_matches_an_uninterrupted_run(mlexp, images, tmp_path, monkeypatch):
    import os
    import signal

    import keras

    from mlexp import callbacks

    args = ["dataset=image_folder", f"dataset.path={images}", "dataset.image_size=[8,8]", "trainer.epochs=3",
            "trainer.deterministic=true", "trainer.batch_size=8", "augmentation=flip_shift", *FAST]  # fmt: skip
    assert mlexp("train", *args, "hydra.run.dir=outputs/full").code == 0

    class TerminateAfterEpoch1(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                os.kill(os.getpid(), signal.SIGTERM)

    original = callbacks.from_config
    monkeypatch.setattr(callbacks, "from_config", lambda *a: [*original(*a), TerminateAfterEpoch1()])
    assert mlexp("train", *args, "hydra.run.dir=outputs/cut").code == 130
    monkeypatch.undo()
    resumed = mlexp("resume", str(tmp_path / "outputs/cut"))  # undo() also undid the fixture's chdir
    assert resumed.code == 0, resumed.err
    full, cut = (pd.read_csv(tmp_path / f"outputs/{name}/history.csv") for name in ("full", "cut"))
    pd.testing.assert_frame_equal(cut, full)  # the same batches, the same augmentation, after the resume


def test_image_cache_decodes_once_gives_the_same_history_and_follows_file_changes(mlexp, images, tmp_path):
    args = ["dataset=image_folder", f"dataset.path={images}", "dataset.image_size=[8,8]", "trainer.epochs=2",
            "trainer.deterministic=true", *FAST]  # fmt: skip
    cache = tmp_path / "cache"
    first = mlexp("train", *args, f"dataset.cache={cache}", "hydra.run.dir=outputs/c1")
    assert first.code == 0, first.err
    assert f"Caching 36 decoded images in {cache}/images-" in first.out
    (built,) = cache.glob("images-*.npy")
    assert np.load(built, mmap_mode="r").shape == (36, 8, 8, 3)
    second = mlexp("train", *args, f"dataset.cache={cache}", "hydra.run.dir=outputs/c2")
    assert second.code == 0 and "Caching" not in second.out  # read from the file, not decoded again
    assert mlexp("train", *args, "hydra.run.dir=outputs/plain").code == 0
    histories = [pd.read_csv(tmp_path / f"outputs/{name}/history.csv") for name in ("c1", "c2", "plain")]
    pd.testing.assert_frame_equal(histories[0], histories[2])
    pd.testing.assert_frame_equal(histories[1], histories[2])
    os.utime(images / "red/0.png", ns=(1, 1))  # a changed file: a new cache, not stale pixels
    assert mlexp("train", *args, f"dataset.cache={cache}", "hydra.run.dir=outputs/c3").code == 0
    assert len(list(cache.glob("images-*.npy"))) == 2


def test_compare_shows_when_runs_read_different_data(mlexp, tmp_path):
    table = write_table(tmp_path / "fruit.csv")
    args = ["dataset=csv", f"dataset.path={table}", "dataset.target=label", "trainer.epochs=1", *FAST]
    assert mlexp("train", *args, "hydra.run.dir=outputs/a").code == 0
    assert mlexp("train", *args, "hydra.run.dir=outputs/b").code == 0
    write_table(table, seed=1)
    assert mlexp("train", *args, "hydra.run.dir=outputs/c").code == 0
    result = mlexp("compare", "outputs/a", "outputs/b", "outputs/c", "--out", "cmp")
    assert result.code == 0, result.err
    summary = pd.read_csv(tmp_path / "cmp/summary.csv")
    digests = summary["data"].tolist()
    assert digests[0] == digests[1] != digests[2] and all(len(d) == 8 for d in digests)
    result = mlexp("compare", "outputs/a", "outputs/b", "--out", "same")
    assert "data" not in pd.read_csv(tmp_path / "same/summary.csv").columns  # same data: no column
