"""mlexp check: compose and validate a config, load the data description, build the model, run the
pre-flight checks; no training."""

from __future__ import annotations

from mlexp import doctor
from mlexp.errors import MlexpError


def backbone_lines(cfg, model, spec) -> str:
    """The backbone, its weights, input size, preprocessing, and frozen and trainable parameter counts."""
    from mlexp.models import backbone

    arch, size = backbone.ARCHS[cfg.model.arch], backbone.input_size(cfg.model)
    count = lambda weights: sum(int(w.numpy().size) for w in weights)  # noqa: E731
    frozen, trainable = count(model.non_trainable_weights), count(model.trainable_weights)
    shape = "x".join(str(d) for d in spec.input_shape)
    preprocessing = "off (model.preprocess=false)"
    if cfg.model.preprocess:
        preprocessing = f"{arch.module}.preprocess_input ({backbone.PREPROCESSING[arch.module]}) after "
        preprocessing += f"dataset.scale={spec.preprocessing.get('scale')} is undone"
    why = f" (the backbone, for fine_tune.freeze_epochs={cfg.model.fine_tune.freeze_epochs})" if backbone.frozen(
        model) else ""  # fmt: skip
    return (
        f"Backbone:     {cfg.model.arch} (weights {cfg.model.weights or 'null'}), "
        f"input {size[0]}x{size[1]} from {shape}\n"
        f"              preprocessing: {preprocessing}\n"
        f"Parameters:   frozen {frozen:,}{why}, trainable {trainable:,}\n"
    )


def check(overrides: list[str]) -> int:
    from mlexp.hydra_app import compose_validated

    cfg = compose_validated(overrides)

    from mlexp import distribution, models
    from mlexp.doctor import preflight
    from mlexp.run_setup import prepare
    from mlexp.training import model_summary

    distribution.check(cfg.trainer)
    _, splits = prepare(cfg)
    try:
        model = models.build(cfg, splits.spec)
    except MlexpError:
        raise
    except Exception as exc:  # Keras refusing an argument: a message, not a traceback
        raise MlexpError(f"building the model failed: {type(exc).__name__}: {exc}") from None
    print(model_summary(model), end="")
    spec = splits.spec
    print(f"Input shape:  {tuple(model.input_shape)}  ({spec.name}: {spec.sizes['train']} train, "
          f"{spec.sizes['val']} validation ({spec.validation_source}), {spec.sizes['test']} test)")  # fmt: skip
    what = {"regression": "value", "multilabel": "labels"}.get(spec.task, "classes")
    print(f"Output shape: {tuple(model.output_shape)}  ({spec.task}, {spec.num_classes} {what}: "
          f"{', '.join(spec.class_names[:10])}{', ...' if len(spec.class_names) > 10 else ''})")  # fmt: skip
    if cfg.model.get("kind") == "backbone":
        print(backbone_lines(cfg, model, spec), end="")
    else:
        print(f"Parameters:   {model.count_params():,}")
    findings = preflight.check(cfg, splits, model)
    print("Pre-flight:   " + ("no finding" if not findings else f"{len(findings)} finding(s)"))
    for finding in findings:
        print(f"  {finding.line()}")
    return 2 if doctor.errors(findings) else 0
