"""Deliberately broken configs, each with the finding the doctor must raise (the notebooks' mistakes).

(overrides, finding code, severity, when: "preflight" or "diagnosis")
"""

from __future__ import annotations

SMALL = ["trainer.verbose=0", "trainer.epochs=6"]

BROKEN = [
    (["model.kernel_initializer=zeros", "model.bias_initializer=zeros"], "constant_initializer", "warning",
     "preflight"),
    (["dataset.scale=none"], "unscaled_inputs", "warning", "preflight"),
    (["trainer.validation=test"], "validating_on_test", "warning", "preflight"),
    (["model.activation=sigmoid", "model.hidden_units=[32,32,32,32]"], "saturating_activation", "warning", "preflight"),
    (["optimizer.learning_rate=10"], "learning_rate_too_high", "warning", "preflight"),
    (["optimizer.learning_rate=10"], "not_learning", "error", "diagnosis"),
    (
        ["model=sequential", "model.logits=true",
         "model.layers=[{layer: Flatten}, {layer: Dense, units: 10, activation: softmax}]"],
        "output_layer_in_body", "error", "preflight",
    ),
    # 60 epochs: in the slow suite
    (["model.hidden_units=[512,512]", "dataset.test_split=0.8", "trainer.epochs=60"], "overfitting", "warning",
     "diagnosis"),
]  # fmt: skip
