"""The one place a model is built: train, sweeps and the tuner all call build()."""

from __future__ import annotations

import logging

from mlexp.models import user
from mlexp.models.components import build_optimizer, regularizer_factory
from mlexp.models.head import Head
from mlexp.registry import MODELS

log = logging.getLogger(__name__)


def steps_per_epoch(cfg, spec) -> int:
    """Batches per epoch, as the training pipeline makes them: every sample once."""
    import math

    return max(math.ceil(spec.sizes.get("train", 0) / cfg.trainer.batch_size), 1)


def build(cfg, spec):
    """A compiled keras.Model for the validated run config `cfg` and the data's DatasetSpec."""
    import keras

    kernel_regularizer = regularizer_factory(cfg.regularizer)
    log.info("Building model %r (%s) for input %s", cfg.model.name, cfg.model.get("kind", "yours"), spec.input_shape)
    inputs = keras.Input(shape=spec.input_shape, name="inputs")
    if user.TARGET in cfg.model:
        hidden = user.body(inputs, cfg.model)
    else:
        # a kind's builder: body(inputs, cfg_model, kernel_regularizer, spec) -> the last hidden tensor
        hidden = MODELS[MODELS.kind_of(cfg.model)].builder(inputs, cfg.model, kernel_regularizer, spec)
    if cfg.model.get("head", True):
        user.check_features(hidden, cfg.model)
        outputs, loss, metrics = Head.for_spec(spec, cfg.model.logits).build(hidden, kernel_regularizer)
    else:  # the user's model brings its own output layer and names its loss
        outputs, loss, metrics = hidden, cfg.model.loss, ["accuracy"]
    model = keras.Model(inputs, outputs, name=cfg.model.name)
    model.compile(
        optimizer=build_optimizer(cfg.optimizer, steps_per_epoch(cfg, spec), cfg.trainer.epochs),
        loss=loss,
        metrics=metrics,
        run_eagerly=cfg.trainer.run_eagerly,
        jit_compile=cfg.trainer.jit_compile,
        steps_per_execution=cfg.trainer.steps_per_execution,
    )
    return model


def summary(model) -> str:
    """model.summary() as text (summary.txt, mlexp check)."""
    lines: list[str] = []
    model.summary(print_fn=lambda text, **_: lines.append(text))
    return "\n".join(lines) + "\n"


def load(path, keras, **kwargs):
    """keras.models.load_model, with a damaged file as an MlexpError naming it instead of Keras' words."""
    from mlexp.runs import UnreadableModel, archive_damage

    problem = archive_damage(path)
    if problem:
        raise UnreadableModel(path, problem)
    from mlexp.errors import first_line
    from mlexp.models.backbone import preprocessing_layer
    from mlexp.schedules import register as register_schedules

    preprocessing_layer()  # registers mlexp's own layer, so backbone models load (in safe mode too)
    register_schedules()  # and its per-batch learning-rate schedules
    try:
        return keras.models.load_model(path, **kwargs)
    except Exception as exc:  # a whole archive whose content Keras refuses: any of its loader's errors
        raise UnreadableModel(path, first_line(exc)) from None
