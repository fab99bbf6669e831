"""Bad config input: exit code 2, one exact message, no traceback, no run folder left behind."""

from __future__ import annotations

import json

import pytest
from conftest import TINY

CASES = [
    ("model.dropout=1.5", "Config error at model.dropout: got 1.5; expected a number in [0, 1)."),
    ("model.dropout=-0.1", "Config error at model.dropout: got -0.1; expected a number in [0, 1)."),
    (
        "optimizer.learning_rate=-0.1",
        "Config error at optimizer.learning_rate: got -0.1; expected a number > 0.",
    ),
    (
        "optimizer.name=adamm",
        "Config error at optimizer.name: got 'adamm'; expected a known optimizer: adam, adamw, nadam, sgd, "
        "rmsprop, adagrad, adadelta. Did you mean 'adam'?",
    ),
    (
        "model.hidden_units=[]",
        "Config error at model.hidden_units: got []; expected a non-empty list of integers >= 1, e.g. [128, 64].",
    ),
    (
        "model.hidden_units=[64,0]",
        "Config error at model.hidden_units: got [64, 0]; expected a non-empty list of integers >= 1, e.g. [128, 64].",
    ),
    (
        "trainer.validation_split=1.0",
        "Config error at trainer.validation_split: got 1.0; expected a number in (0, 1).",
    ),
    (
        "trainer.validation_split=0",
        "Config error at trainer.validation_split: got 0; expected a number in (0, 1).",
    ),
    ("trainer.epochs=0", "Config error at trainer.epochs: got 0; expected an integer >= 1."),
    ("trainer.epochs=abc", "Config error at trainer.epochs: got 'abc'; expected an integer >= 1."),
    ("trainer.epochs=2.5", "Config error at trainer.epochs: got 2.5; expected an integer >= 1."),
    ("trainer.batch_size=0", "Config error at trainer.batch_size: got 0; expected an integer >= 1."),
    ("seed=-1", "Config error at seed: got -1; expected an integer in [0, 4294967295]."),
    ("seed=4294967296", "Config error at seed: got 4294967296; expected an integer in [0, 4294967295]."),
    ("model.batch_norm=maybe", "Config error at model.batch_norm: got 'maybe'; expected true or false."),
    (
        "optimizer=sgd optimizer.momentum=1.5",
        "Config error at optimizer.momentum: got 1.5; expected a number in [0, 1).",
    ),
    (
        "regularizer=l2 regularizer.l2=-1",
        "Config error at regularizer.l2: got -1; expected a number >= 0.",
    ),
    (
        "callbacks.early_stopping.monitor=val_acc",
        "Config error at callbacks.early_stopping.monitor: got 'val_acc'; expected a logged metric: "
        "val_loss, val_accuracy, loss, accuracy. Did you mean 'val_accuracy'?",
    ),
    (
        "callbacks.reduce_lr_on_plateau.factor=1.0",
        "Config error at callbacks.reduce_lr_on_plateau.factor: got 1.0; expected a number in (0, 1).",
    ),
    (
        "+optimizer.momentum=0.9",
        "Config error at optimizer.momentum: got 0.9; expected a key that optimizer 'adam' takes: "
        "amsgrad, beta_1, beta_2, clipnorm, clipvalue, epsilon, global_clipnorm, gradient_accumulation_steps, "
        "learning_rate, schedule, weight_decay.",
    ),
    (
        "+model.dropuot=0.2",
        "Config error at model.dropuot: got 0.2; expected a key that model 'mlp' takes: activation, "
        "batch_norm, bias_initializer, dropout, hidden_units, kernel_initializer, logits. Did you mean 'dropout'?",
    ),
    (
        "+callbacks.checkpoint.enabled=true",
        "Config error at callbacks.checkpoint: got {'enabled': True}; expected a key that callbacks takes: "
        "csv_logger, early_stopping, lr_scheduler, model_checkpoint, reduce_lr_on_plateau, stop_at_threshold, "
        "tensorboard, terminate_on_nan. Did you mean 'model_checkpoint'?",
    ),
    (
        "trainer.validation=head",
        "Config error at trainer.validation_size: got null; expected an integer >= 1 with "
        "trainer.validation=head (e.g. 10000).",
    ),
    (
        "trainer.validation=holdout",
        "Config error at trainer.validation: got 'holdout'; expected one of split, head, file, test, none.",
    ),
    (
        "model=cnn model.block_dropout=[0.1]",
        "Config error at model.block_dropout: got [0.1]; expected one rate per block of model.filters (2), or [].",
    ),
    (
        "dataset=npz",
        "Config error at dataset.path: got '???'; expected a value (it is mandatory).",
    ),
    (
        "dataset=imdb dataset.num_words=2",
        "Config error at dataset.num_words: got 2; expected an integer >= 4.",
    ),
    (
        "dataset.scale=minmax",
        "Config error at dataset.scale: got 'minmax'; expected one of unit, standardize, none.",
    ),
    (
        "callbacks.stop_at_threshold.mode=auto",
        "Config error at callbacks.stop_at_threshold.mode: got 'auto'; expected one of min, max.",
    ),
    (
        "augmentation=images augmentation.layers.0.layer=RandomSpin",
        "Config error at augmentation.layers[0].layer: got 'RandomSpin'; expected one of RandomRotation, "
        "RandomTranslation, RandomShear, RandomZoom, RandomFlip, RandomBrightness, RandomContrast, RandomCrop, "
        "RandomErasing, GaussianNoise. Did you mean 'RandomFlip'?",
    ),
    (
        "model=sequential model.layers=[{units:3}]",
        "Config error at model.layers[0]: got {'units': 3}; expected a mapping like {layer: ClassName, arg: value}.",
    ),
    (
        "model=sequential model.layers=[]",
        "Config error at model.layers: got []; expected a non-empty list of mappings like "
        "{layer: ClassName, arg: value}.",
    ),
    (
        "+seeed=3",
        "Config error at seeed: got 3; expected a key that the run config takes: augmentation, callbacks, "
        "dataset, logger, model, optimizer, regularizer, seed, trainer. Did you mean 'seed'?",
    ),
    (
        "model.activation=softmax",
        "Config error at model.activation: got 'softmax'; expected a Keras activation: celu, elu, exponential, gelu, "
        "hard_sigmoid, hard_silu, hard_swish, leaky_relu, linear, log_sigmoid, mish, relu, relu6, selu, sigmoid, "
        "silu, softplus, softsign, swish, tanh (softmax is not among them: it belongs to the output layer, which "
        "mlexp adds for the data's classes: softmax for 3+ classes, sigmoid for 2).",
    ),
    (
        "~model.hidden_units",
        "Config error at model.hidden_units: got null; expected a value (model 'mlp' needs it).",
    ),
]


@pytest.mark.parametrize("overrides,message", CASES, ids=[c[0] for c in CASES])
def test_config_error_exact_message(mlexp, tmp_path, overrides, message):
    result = mlexp("train", *overrides.split())
    assert result.code == 2
    assert result.err == f"mlexp train: {message}\n"
    assert "Traceback" not in result.out + result.err
    assert not (tmp_path / "outputs").exists() or not any((tmp_path / "outputs").rglob("*.yaml"))


def test_activation_typo_suggests_the_keras_name(mlexp):
    result = mlexp("train", "model.activation=rellu")
    assert result.code == 2
    assert result.err.startswith(
        "mlexp train: Config error at model.activation: got 'rellu'; expected a Keras activation: "
    )
    assert "relu, relu6" in result.err
    assert result.err.endswith("Did you mean 'relu'?\n")


def test_initializer_typo_suggests_the_keras_name(mlexp):
    result = mlexp("train", "model.kernel_initializer=glorot")
    assert result.code == 2
    assert "expected a Keras initializer: glorot_normal, glorot_uniform," in result.err
    assert "Did you mean 'glorot_normal'?" in result.err


def test_unknown_group_option_keeps_hydras_message(mlexp):
    result = mlexp("train", "model=transformer")
    assert result.code == 2
    assert result.err == (
        "mlexp train: In 'train': Could not find 'model/transformer'\n\n"
        "Available options in 'model':\n\tbackbone\n\tcnn\n\tcnn_bn\n\tcnn_deep\n\tmlp\n\tsequential\n"
    )


def test_unknown_key_without_plus_lists_the_known_keys(mlexp):
    result = mlexp("train", "optimizer.lr=0.1")
    assert result.code == 2
    assert result.err == (
        "mlexp train: Could not override 'optimizer.lr'.\n"
        "To append to your config use +optimizer.lr=0.1\n"
        "Known keys there: amsgrad, beta_1, beta_2, epsilon, gradient_accumulation_steps, learning_rate, name, "
        "schedule.\n"
    )


def test_override_syntax_error_is_a_usage_error(mlexp):
    result = mlexp("train", "model.hidden_units=[1,")
    assert result.code == 2
    assert result.err.startswith("mlexp train: Error parsing override 'model.hidden_units=[1,'")
    assert "Traceback" not in result.err


def test_config_error_in_a_sweep_fails_only_that_job(mlexp, tmp_path):
    result = mlexp("train", "-m", *TINY, "model.dropout=0.2,1.5")
    assert result.code == 1
    assert "Config error at model.dropout: got 1.5" in result.err
    statuses = {
        p.parent.name: json.loads(p.read_text())["status"] for p in (tmp_path / "outputs").rglob("metrics.json")
    }
    assert statuses == {"0": "completed", "1": "failed"}
