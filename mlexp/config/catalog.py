"""What each config group accepts: component names and their Keras-named arguments.

Kept free of TensorFlow so that a bad config is reported in well under a second. The Keras name
lists below are checked against Keras itself by tests/test_catalog.py.
"""

from __future__ import annotations

from mlexp.config.rules import Rule, boolean, choice, int_list, integer, number, optional

ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu",
    "linear", "log_sigmoid", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "softplus",
    "softsign", "swish", "tanh",
)  # fmt: skip
INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
    "ones", "orthogonal", "random_normal", "random_uniform", "truncated_normal", "zeros",
)  # fmt: skip

POSITIVE = number(0, lo_open=True)
NON_NEGATIVE = number(0)
FRACTION_OPEN = number(0, 1, lo_open=True, hi_open=True)
DROPOUT = number(0, 1, hi_open=True)
BETA = number(0, 1, hi_open=True)

_SPLIT = {"test_split": FRACTION_OPEN, "split_seed": integer(0)}

DATASETS: dict[str, dict[str, Rule]] = {
    "digits": dict(_SPLIT),
    "synthetic": {
        "samples": integer(20),
        "classes": integer(2),
        "image_size": integer(1),
        "noise": NON_NEGATIVE,
        **_SPLIT,
    },
}

MODELS: dict[str, dict[str, Rule]] = {
    "mlp": {
        "hidden_units": int_list(1),
        "activation": choice(ACTIVATIONS, "a Keras activation:"),
        "kernel_initializer": choice(INITIALIZERS, "a Keras initializer:"),
        "bias_initializer": choice(INITIALIZERS, "a Keras initializer:"),
        "dropout": DROPOUT,
        "batch_norm": boolean(),
    },
}
REQUIRED = {("model", "mlp"): ("hidden_units",)}

_OPTIMIZER_COMMON = {
    "learning_rate": POSITIVE,
    "weight_decay": optional(NON_NEGATIVE),
    "clipnorm": optional(POSITIVE),
    "clipvalue": optional(POSITIVE),
    "global_clipnorm": optional(POSITIVE),
}
OPTIMIZERS: dict[str, dict[str, Rule]] = {
    "adam": {"beta_1": BETA, "beta_2": BETA, "epsilon": POSITIVE, "amsgrad": boolean(), **_OPTIMIZER_COMMON},
    "sgd": {"momentum": number(0, 1, hi_open=True), "nesterov": boolean(), **_OPTIMIZER_COMMON},
    "rmsprop": {
        "rho": BETA,
        "momentum": number(0, 1, hi_open=True),
        "epsilon": POSITIVE,
        "centered": boolean(),
        **_OPTIMIZER_COMMON,
    },
    "adagrad": {"initial_accumulator_value": NON_NEGATIVE, "epsilon": POSITIVE, **_OPTIMIZER_COMMON},
}

REGULARIZERS: dict[str, dict[str, Rule]] = {
    "none": {},
    "l1": {"l1": NON_NEGATIVE},
    "l2": {"l2": NON_NEGATIVE},
    "l1_l2": {"l1": NON_NEGATIVE, "l2": NON_NEGATIVE},
}

AUGMENTATIONS: dict[str, dict[str, Rule]] = {"none": {}}

# Groups whose config is one component: `name:` plus arguments.
COMPONENTS = {
    "dataset": DATASETS,
    "model": MODELS,
    "optimizer": OPTIMIZERS,
    "regularizer": REGULARIZERS,
    "augmentation": AUGMENTATIONS,
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
}

TRAINER: dict[str, Rule] = {
    "epochs": integer(1),
    "batch_size": integer(1),
    "validation_split": FRACTION_OPEN,
    "shuffle": boolean(),
    "verbose": choice((0, 1, 2, "auto")),
}

TOP_LEVEL = (*COMPONENTS, "callbacks", "trainer", "seed")
SEED = integer(0)
