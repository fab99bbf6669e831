"""mlexp check: compose and validate a config, load the data description, build the model, run the
pre-flight checks; no training."""

from __future__ import annotations

from mlexp import doctor
from mlexp.errors import MlexpError
from mlexp.tasks import MULTILABEL, REGRESSION


def check(overrides: list[str]) -> int:
    from mlexp.hydra_app import compose_validated

    cfg = compose_validated(overrides)

    from mlexp import distribution, models
    from mlexp.doctor import preflight
    from mlexp.run_setup import prepare

    distribution.check(cfg.trainer)
    _, splits = prepare(cfg)
    try:
        model = models.build(cfg, splits.spec)
    except MlexpError:
        raise
    except Exception as exc:  # Keras refusing an argument: a message, not a traceback
        raise MlexpError(f"building the model failed: {type(exc).__name__}: {exc}") from None
    print(models.summary(model), end="")
    spec = splits.spec
    print(f"Input shape:  {tuple(model.input_shape)}  ({spec.name}: {spec.sizes['train']} train, "
          f"{spec.sizes['val']} validation ({spec.validation_source}), {spec.sizes['test']} test)")  # fmt: skip
    what = {REGRESSION: "value", MULTILABEL: "labels"}.get(spec.task, "classes")
    print(f"Output shape: {tuple(model.output_shape)}  ({spec.task}, {spec.num_classes} {what}: "
          f"{', '.join(spec.class_names[:10])}{', ...' if len(spec.class_names) > 10 else ''})")  # fmt: skip
    from mlexp.registry import MODELS

    print(MODELS.phases(cfg.model).describe(cfg, model, spec) or f"Parameters:   {model.count_params():,}\n", end="")
    findings = preflight.check(cfg, splits, model)
    print("Pre-flight:   " + ("no finding" if not findings else f"{len(findings)} finding(s)"))
    for finding in findings:
        print(f"  {finding.line()}")
    return 2 if doctor.errors(findings) else 0
