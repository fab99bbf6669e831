"""TensorBoard HParams summaries, read back with TensorBoard's own reader."""

from __future__ import annotations

from conftest import TINY, read_metrics, run_dirs


def read_hparams(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2
    from tensorboard.util import tensor_util

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    content = events.PluginTagToContent("hparams")
    data = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    params = {}
    for key, value in data.session_start_info.hparams.items():
        kind = value.WhichOneof("kind")
        params[key] = getattr(value, kind)
    tags = [tag for tag in events.Tags()["tensors"] if not tag.startswith("_hparams_")]
    scalars = {tag: float(tensor_util.make_ndarray(events.Tensors(tag)[-1].tensor_proto)) for tag in tags}
    return data.session_start_info.group_name, params, scalars


def test_every_sweep_job_writes_its_hparams_and_metrics(mlexp, tmp_path):
    assert mlexp("train", "-m", *TINY, "model.activation=sigmoid,relu", "optimizer.learning_rate=0.01").code == 0
    runs = run_dirs(tmp_path / "outputs")
    for run, activation in zip(runs, ("sigmoid", "relu"), strict=True):
        group, params, scalars = read_hparams(run / "tensorboard" / "hparams")
        assert group == run.name
        assert params["model.activation"] == activation
        assert params["optimizer.learning_rate"] == 0.01 and params["model.hidden_units"] == "[8]"
        assert params["dataset.name"] == "synthetic" and params["seed"] == 0
        metrics = read_metrics(run)
        assert abs(scalars["test_accuracy"] - metrics["test_accuracy"]) < 1e-6
        assert abs(scalars["best_val_loss"] - metrics["best_val_loss"]) < 1e-6
