"""Pre-flight on the built model, layer by layer, whatever config wrote it (mlp, cnn, sequential, your own).

What is checked is what Keras built: the activation of every Dense and Conv layer and of Activation
and Softmax layers before mlexp's head.
"""

from __future__ import annotations

from mlexp.doctor import Finding

# Sigmoid's slope is at most 0.25: every sigmoid layer shrinks the gradient fourfold or more, so from
# three stacked ones the first layers barely learn. tanh (slope 1 at 0) trains at these depths.
SIGMOID_DEPTH = 3
HEAD = "head"


def check(cfg, spec, model) -> list[Finding]:
    if HEAD not in [layer.name for layer in model.layers]:
        return []  # the user's own model brings its own output layer
    body = _body(model)  # features of rank > 2 never get here: models.build refuses them (user.check_features)
    return [*_probabilities_in_body(body, model), *_sigmoid_stack(body)]


def _body(model) -> list:
    """The layers before mlexp's head, in order (nested models count as one layer)."""
    names = [layer.name for layer in model.layers]
    return [layer for layer in model.layers[: names.index(HEAD)] if type(layer).__name__ != "InputLayer"]


def _activation(layer) -> str | None:
    """The activation a layer applies: its `activation` argument, or the function of an Activation/Softmax layer."""
    kind = type(layer).__name__
    if kind == "Softmax":
        return "softmax"
    function = getattr(layer, "activation", None)
    name = getattr(function, "__name__", None) if function is not None else None
    return name if name != "linear" else None


def _weighted(layer) -> bool:
    return type(layer).__name__ in ("Dense", "EinsumDense") or type(layer).__name__.startswith(("Conv", "Depthwise"))


def _probabilities_in_body(body, model) -> list[Finding]:
    """A softmax anywhere in the body, or a last hidden layer shaped like the output (its units, sigmoid)."""
    head = model.get_layer(HEAD)
    found = []
    for i, layer in enumerate(body):
        activation = _activation(layer)
        units = getattr(layer, "units", None)
        last = i == len(body) - 1 or all(type(after).__name__ in ("Dropout", "Flatten") for after in body[i + 1 :])
        output_like = last and activation == "sigmoid" and units == head.units
        if activation == "softmax" or output_like:
            found.append(
                Finding(
                    "output_layer_in_body", "error",
                    f"{layer.name} ({type(layer).__name__}, {units or '-'} units, {activation}) already outputs "
                    f"probabilities before mlexp's head ({head.units} units): the layers after it see a squashed "
                    "signal (and with model.logits=true, probabilities would go to a from_logits loss).",
                    f"drop {layer.name} from model.layers (mlexp adds the output layer)",
                    {"layer": layer.name, "units": units, "activation": activation, "head_units": head.units},
                )
            )  # fmt: skip
    return found


def _sigmoid_stack(body) -> list[Finding]:
    """Sigmoid in SIGMOID_DEPTH or more weight layers, with no batch normalization to keep them in range."""
    if any(type(layer).__name__ == "BatchNormalization" for layer in body):
        return []
    stack = [layer for i, layer in enumerate(body) if _weighted(layer) and _sigmoid_after(body, i)]
    if len(stack) < SIGMOID_DEPTH:
        return []
    return [
        Finding(
            "saturating_activation", "warning",
            f"sigmoid in {len(stack)} stacked layers ({', '.join(layer.name for layer in stack)}): its slope is at "
            "most 0.25, so the gradient shrinks at least fourfold per layer and the first layers barely learn.",
            "model.activation=relu (or model.batch_norm=true)",
            {"activation": "sigmoid", "layers": [layer.name for layer in stack]},
        )
    ]  # fmt: skip


def _sigmoid_after(body, i: int) -> bool:
    """Layer i applies sigmoid itself, or through an Activation layer right after it."""
    if _activation(body[i]) == "sigmoid":
        return True
    following = body[i + 1] if i + 1 < len(body) else None
    return following is not None and type(following).__name__ == "Activation" and _activation(following) == "sigmoid"
