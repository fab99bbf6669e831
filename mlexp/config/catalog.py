"""What each table group accepts (optimizers, regularizers, augmentation, callbacks, trainer) and the rules
that model and dataset kinds share; each model and dataset kind registers its own rules (mlexp.registry).

Kept free of TensorFlow so that a bad config is reported in well under a second. The Keras name
lists below are checked against Keras itself by tests/test_catalog.py.
"""

from __future__ import annotations

from mlexp.config.layers import layer_list
from mlexp.config.rules import (
    Rule,
    boolean,
    choice,
    int_list,
    integer,
    mapping,
    number,
    optional,
    string,
    string_list,
)  # fmt: skip
from mlexp.schedules import BATCH_SCHEDULES
from mlexp.tasks import TASKS

ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu",
    "linear", "log_sigmoid", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "softplus",
    "softsign", "swish", "tanh",
)  # fmt: skip
INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal", "zeros",
)  # fmt: skip
AUGMENTATION_LAYERS = (
    "RandomRotation", "RandomTranslation", "RandomShear", "RandomZoom", "RandomFlip", "RandomBrightness",
    "RandomContrast", "RandomCrop", "RandomErasing", "GaussianNoise",
)  # fmt: skip

POSITIVE = number(0, lo_open=True)
NON_NEGATIVE = number(0)
FRACTION_OPEN = number(0, 1, lo_open=True, hi_open=True)
DROPOUT = number(0, 1, hi_open=True)
BETA = number(0, 1, hi_open=True)

SOURCE = {
    "path": optional(string()),
    "download": boolean(),
    "scale": choice(("unit", "standardize", "none")),
    "split_seed": integer(0),
}
OWN_TEST_SPLIT = {"test_split": FRACTION_OPEN}
TASK = {"task": choice(("auto", *TASKS))}  # auto: inferred from the labels
HEAD_SOFTMAX = (
    "it belongs to the output layer, which mlexp adds for the data's classes: softmax for 3+ classes, sigmoid for 2"
)
UNITS = {
    "activation": choice(ACTIVATIONS, "a Keras activation:", {"softmax": HEAD_SOFTMAX}),
    "kernel_initializer": choice(INITIALIZERS, "a Keras initializer:"),
    "bias_initializer": choice(INITIALIZERS, "a Keras initializer:"),
    "batch_norm": boolean(),
}
HEAD = {"logits": boolean()}  # true: a linear head and a loss built with from_logits=True
OWN_OUTPUT = {"head": boolean(), "loss": optional(string())}  # head=false: the model's last layer is its output
_OPTIMIZER_COMMON = {
    "learning_rate": POSITIVE,
    "weight_decay": optional(NON_NEGATIVE),
    "clipnorm": optional(POSITIVE),
    "clipvalue": optional(POSITIVE),
    "global_clipnorm": optional(POSITIVE),
    "gradient_accumulation_steps": optional(integer(2)),  # Keras 3: update every N batches, gradients averaged
    "schedule": optional(
        mapping(
            {
                "name": choice(BATCH_SCHEDULES, "a per-batch schedule:"),
                "warmup_epochs": NON_NEGATIVE,
                "final_fraction": number(0, 1),
            }
        )
    ),  # fmt: skip
}
_ADAM = {"beta_1": BETA, "beta_2": BETA, "epsilon": POSITIVE}
OPTIMIZERS: dict[str, dict[str, Rule]] = {
    "adam": {**_ADAM, "amsgrad": boolean(), **_OPTIMIZER_COMMON},
    "adamw": {**_ADAM, "amsgrad": boolean(), **_OPTIMIZER_COMMON},
    "nadam": {**_ADAM, **_OPTIMIZER_COMMON},
    "sgd": {"momentum": number(0, 1, hi_open=True), "nesterov": boolean(), **_OPTIMIZER_COMMON},
    "rmsprop": {
        "rho": BETA,
        "momentum": number(0, 1, hi_open=True),
        "epsilon": POSITIVE,
        "centered": boolean(),
        **_OPTIMIZER_COMMON,
    },
    "adagrad": {"initial_accumulator_value": NON_NEGATIVE, "epsilon": POSITIVE, **_OPTIMIZER_COMMON},
    "adadelta": {"rho": BETA, "epsilon": POSITIVE, **_OPTIMIZER_COMMON},
}

REGULARIZERS: dict[str, dict[str, Rule]] = {
    "none": {},
    "l1": {"l1": NON_NEGATIVE},
    "l2": {"l2": NON_NEGATIVE},
    "l1_l2": {"l1": NON_NEGATIVE, "l2": NON_NEGATIVE},
}

# Keras preprocessing layers, applied in order to training batches only.
_AUGMENT = {"layers": layer_list(AUGMENTATION_LAYERS, min_len=0)}
AUGMENTATIONS: dict[str, dict[str, Rule]] = {
    name: dict(_AUGMENT) for name in ("none", "images", "images_brightness", "noise", "erasing", "flip_shift")
}
# Groups whose presets are plain YAML: `name` is a label, any name; the keys follow these rules.
PLAIN_PRESETS: dict[str, dict[str, Rule]] = {"augmentation": dict(_AUGMENT)}

LOGGERS: dict[str, dict[str, Rule]] = {
    "none": {},
    "mlflow": {"tracking_uri": optional(string()), "experiment": string(), "log_artifacts": boolean()},
}

# Groups whose config is one component named by `name:` (a Keras name), plus arguments. Model and
# dataset choose their code with `kind:` from mlexp.registry.
COMPONENTS = {
    "optimizer": OPTIMIZERS,
    "regularizer": REGULARIZERS,
    "augmentation": AUGMENTATIONS,
    "logger": LOGGERS,
}

MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
_MONITOR = {"monitor": choice(MONITORS, "a logged metric:"), "mode": choice(("auto", "min", "max"))}

# The callbacks group is a dict of named entries, each switched by `enabled`.
CALLBACKS: dict[str, dict[str, Rule]] = {
    "early_stopping": {
        "enabled": boolean(),
        **_MONITOR,
        "patience": integer(0),
        "min_delta": NON_NEGATIVE,
        "restore_best_weights": boolean(),
        "start_from_epoch": integer(0),
        "baseline": optional(number()),
    },
    "reduce_lr_on_plateau": {
        "enabled": boolean(),
        **_MONITOR,
        "factor": FRACTION_OPEN,
        "patience": integer(0),
        "min_delta": NON_NEGATIVE,
        "cooldown": integer(0),
        "min_lr": NON_NEGATIVE,
    },
    "lr_scheduler": {
        "enabled": boolean(),
        "schedule": choice(("constant", "exponential", "cosine")),
        "start_epoch": integer(0),  # epochs at the initial rate before decay starts
        "rate": NON_NEGATIVE,  # exponential: multiply by exp(-rate) each epoch
        "alpha": number(0, 1),  # cosine: final rate as a fraction of the initial one
        "decay_epochs": optional(integer(1)),  # cosine: length of the decay; null = to the last epoch
    },
    "model_checkpoint": {"enabled": boolean(), **_MONITOR, "save_best_only": boolean()},
    "tensorboard": {
        "enabled": boolean(),
        "histogram_freq": integer(0),
        "write_graph": boolean(),
        "update_freq": choice(("epoch", "batch")),
    },
    "csv_logger": {"enabled": boolean()},
    "terminate_on_nan": {"enabled": boolean()},
    "stop_at_threshold": {
        "enabled": boolean(),
        "monitor": choice(MONITORS, "a logged metric:"),
        "threshold": number(),
        "mode": choice(("min", "max")),  # min: stop once value <= threshold; max: once value >= threshold
    },
}

TRAINER: dict[str, Rule] = {
    "epochs": integer(1),
    "batch_size": integer(1),
    "validation": choice(("split", "head", "file", "test", "none")),
    "validation_split": FRACTION_OPEN,
    "validation_size": optional(integer(1)),
    "shuffle": boolean(),
    "deterministic": boolean(),
    "train_samples": optional(integer(1)),  # use only the first N training samples (debug presets)
    "run_eagerly": boolean(),
    "eval_batch_size": optional(integer(1)),  # null: max(batch_size, 512)
    "jit_compile": choice(("auto", True, False)),  # auto: Keras' choice (XLA on JAX and on TF with a GPU)
    "steps_per_execution": integer(1),
    "distribution": choice(("none", "mirrored", "data_parallel")),
    "devices": optional(string_list()),
    "overfit_check": boolean(),
    "class_weight": optional(choice(("balanced",))),  # weight classes by their inverse frequency (imbalance)
    "precision": choice(("float32", "mixed_float16", "mixed_bfloat16")),  # Keras' mixed-precision policy
    "backend": choice(("tensorflow", "jax", "torch")),  # Keras 3's backend, set before Keras is imported
    "verbose": choice((0, 1, 2, "auto")),
    "continue_from": optional(string()),  # a completed run of this config with fewer epochs (runs/continuation)
}

# Groups whose code a user may bring with `_target_`: mlexp's own keys there, their defaults, and what
# mlexp passes to the user's callable itself (a model function gets the input shape).
USER_COMPONENTS: dict[str, dict[str, Rule]] = {
    "model": {"name": string(), "logits": boolean(), "head": boolean(), "loss": optional(string())},
    "dataset": {"name": string(), "scale": SOURCE["scale"], "split_seed": SOURCE["split_seed"], **TASK},
}
USER_DEFAULTS = {
    "model": {"logits": False, "head": True},
    "dataset": {"scale": "unit", "split_seed": 0, "task": "auto"},
}
USER_PASSED = {"model": ("input_shape",), "dataset": ()}
CALLBACK_ENABLED = boolean()

TOP_LEVEL = ("dataset", "model", *COMPONENTS, "callbacks", "trainer", "seed")
SEARCH_KEYS = ("tuner", "search_space", "hparams_search")  # what a search adds; never part of a run config
# A sweep's own settings (conf/train.yaml): checked with the run config, never part of it.
SWEEP_SETTINGS: dict[str, dict[str, Rule]] = {
    "sweep": {"seeds": integer(1, 1000)},
    "race": {
        "min_seeds": integer(2, 1000),
        "max_seeds": integer(2, 1000),
        "epochs": optional(int_list(1, min_len=2)),  # budget stages: every config short first, survivors on
        "keep": number(0, 1, lo_open=True),  # the share of configs (rounded up) that goes on to the next stage
    },
    "compare": {"confidence": number(0.5, 1, lo_open=True, hi_open=True), "min_difference": number(0)},
}
SWEEP_DEFAULTS = {  # as conf/train.yaml sets them, for configs composed without them (a user's own primary)
    "sweep": {"seeds": 1},
    "race": {"min_seeds": 3, "max_seeds": 10, "epochs": None, "keep": 0.5},
    "compare": {"confidence": 0.95, "min_difference": 0.0},
}
SEED = integer(0, 2**32 - 1)  # NumPy's seed range (keras.utils.set_random_seed seeds NumPy too)
