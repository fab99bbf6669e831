"""mlexp check: compose and validate a config, load the data description, build the model, run the
pre-flight checks; no training."""

from __future__ import annotations

from mlexp import doctor
from mlexp.errors import MlexpError


def check(overrides: list[str]) -> int:
    from mlexp.hydra_app import compose_validated

    cfg = compose_validated(overrides)

    from mlexp import data, models
    from mlexp.doctor import preflight
    from mlexp.tf_runtime import import_keras
    from mlexp.training import check_devices, model_summary

    check_devices(cfg.trainer)
    keras = import_keras()
    keras.utils.set_random_seed(cfg.seed)
    splits = data.load(cfg.dataset, cfg.trainer)
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
    print(f"Parameters:   {model.count_params():,}")
    findings = preflight.check(cfg, splits, model)
    print("Pre-flight:   " + ("no finding" if not findings else f"{len(findings)} finding(s)"))
    for finding in findings:
        print(f"  {finding.line()}")
    return 2 if doctor.errors(findings) else 0
