"""model=backbone: a keras.applications network, its own preprocessing inside the model, mlexp's head.

The data arrive scaled by dataset.scale; the model first turns them back into 0-255 pixels (one
Rescaling), resizes them to a size the architecture accepts, repeats a grey channel to three, and
applies the architecture's preprocess_input: the CIFAR notebook's mistake (32x32 images, no
preprocessing) cannot be written. The backbone's batch normalization stays in inference mode when it
is unfrozen (Keras' transfer-learning guide): called with training=False, and its layers kept
non-trainable, which survives saving (a resumed run).

Weights: `model.weights=PATH`, else `imagenet` from Keras' cache (~/.keras/models, Keras' own file
names), else Keras' download unless model.download=false; one message lists every place looked.
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from mlexp.config.catalog import DROPOUT, HEAD, POSITIVE, UNITS
from mlexp.config.rules import Rule, boolean, choice, int_list, integer, mapping, optional, size_2d, string
from mlexp.errors import ConfigError, MlexpError, first_line
from mlexp.registry import MODELS, Phases

log = logging.getLogger(__name__)

LAYER = "backbone"  # the backbone's layer name inside the built model


@dataclass(frozen=True)
class Arch:
    module: str  # keras.applications.<module>.preprocess_input
    size: int = 224  # input side with ImageNet weights
    minimum: int = 32  # smallest side Keras builds


ARCHS = {
    **{f"ResNet{n}": Arch("resnet") for n in (50, 101, 152)},
    **{f"ResNet{n}V2": Arch("resnet_v2") for n in (50, 101, 152)},
    "MobileNet": Arch("mobilenet"),
    "MobileNetV2": Arch("mobilenet_v2"),
    "MobileNetV3Small": Arch("mobilenet_v3"),
    "MobileNetV3Large": Arch("mobilenet_v3"),
    **{f"EfficientNetB{n}": Arch("efficientnet") for n in range(8)},
    **{f"EfficientNetV2B{n}": Arch("efficientnet_v2") for n in range(4)},
    **{f"ConvNeXt{n}": Arch("convnext") for n in ("Tiny", "Small", "Base")},
    **{f"DenseNet{n}": Arch("densenet") for n in (121, 169, 201)},
    "VGG16": Arch("vgg16"),
    "VGG19": Arch("vgg19"),
    "Xception": Arch("xception", 299, 71),
    "InceptionV3": Arch("inception_v3", 299, 75),
    "InceptionResNetV2": Arch("inception_resnet_v2", 299, 75),
    "NASNetMobile": Arch("nasnet"),
}
# What each module's preprocess_input does to 0-255 RGB pixels (printed by mlexp check).
PREPROCESSING = {
    **dict.fromkeys(("resnet", "vgg16", "vgg19"), "caffe: RGB to BGR, ImageNet channel means subtracted"),
    **dict.fromkeys(
        ("resnet_v2", "mobilenet", "mobilenet_v2", "xception", "inception_v3", "inception_resnet_v2", "nasnet"),
        "tf: scaled to [-1, 1]",
    ),  # fmt: skip
    "densenet": "torch: scaled to [0, 1], then ImageNet mean and std per channel",
    **dict.fromkeys(
        ("efficientnet", "efficientnet_v2", "convnext", "mobilenet_v3"),
        "inside the network itself (it takes 0-255 pixels)",
    ),  # fmt: skip
}


RULES = {
    "arch": choice(tuple(ARCHS), "a keras.applications network:"),
    "weights": optional(string()),
    "download": boolean(),
    "input_size": optional(size_2d()),  # 96, or [height, width] as Keras' input_shape takes it
    "preprocess": boolean(),
    "pooling": choice(("avg", "max")),
    "arch_args": Rule("null or a mapping of constructor arguments", lambda v: v is None or isinstance(v, dict)),
    "dense_units": int_list(1, min_len=0),
    "activation": UNITS["activation"],
    "dropout": DROPOUT,
    "fine_tune": mapping({"freeze_epochs": integer(0), "unfreeze_layers": optional(integer(1)), "lr_factor": POSITIVE}),
    **HEAD,
}


def check(model: dict) -> None:
    arch = ARCHS[model["arch"]]
    size = model.get("input_size")
    if size is not None and min(size if isinstance(size, list) else [size]) < arch.minimum:
        raise ConfigError(
            "model.input_size", size,
            f"null, an integer or [height, width] each >= {arch.minimum} ({model['arch']}'s smallest input; its "
            f"ImageNet weights were trained at {arch.size})",
        )  # fmt: skip


class WeightsNotFound(MlexpError):
    exit_code = 2


def input_size(cfg_model) -> tuple[int, int]:
    """(height, width) the backbone sees: model.input_size (one number: a square), else the arch's own."""
    size = cfg_model.input_size or ARCHS[cfg_model.arch].size
    return (int(size), int(size)) if isinstance(size, int) else (int(size[0]), int(size[1]))


def pixel_rescaling(stats: dict) -> tuple[float, float]:
    """(scale, offset) turning data preprocessed by dataset.scale back into 0-255 pixels."""
    peak = stats.get("max_value", 255.0)
    if stats.get("scale") == "unit":
        return 255.0, 0.0
    if stats.get("scale") == "standardize":
        return stats["std"] * 255.0 / peak, stats["mean"] * 255.0 / peak
    return 255.0 / peak, 0.0


class FineTuning(Phases):
    """A pretrained backbone with model.fine_tune.freeze_epochs trains frozen (the head learns), then
    fine-tunes (the backbone unfrozen, at a lower rate), in one run."""

    def plan(self, cfg) -> list[tuple[str | None, int]]:
        freeze, epochs = cfg.model.get("fine_tune", {}).get("freeze_epochs", 0), cfg.trainer.epochs
        if not freeze or freeze >= epochs:
            return [("frozen" if freeze else None, epochs)]
        return [("frozen", freeze), ("fine_tune", epochs)]

    def enter(self, phase, model, cfg) -> None:
        if phase == "fine_tune" and frozen(model):
            unfreeze(model, cfg)

    def describe(self, cfg, model, spec) -> str:
        """The backbone, its weights, input size, preprocessing, and frozen and trainable parameter counts."""
        arch, size = ARCHS[cfg.model.arch], input_size(cfg.model)
        count = lambda weights: sum(int(w.numpy().size) for w in weights)  # noqa: E731
        shape = "x".join(str(d) for d in spec.input_shape)
        preprocessing = "off (model.preprocess=false)"
        if cfg.model.preprocess:
            preprocessing = f"{arch.module}.preprocess_input ({PREPROCESSING[arch.module]}) after "
            preprocessing += f"dataset.scale={spec.preprocessing.get('scale')} is undone"
        why = f" (the backbone, for fine_tune.freeze_epochs={cfg.model.fine_tune.freeze_epochs})" if frozen(
            model) else ""  # fmt: skip
        return (
            f"Backbone:     {cfg.model.arch} (weights {cfg.model.weights or 'null'}), "
            f"input {size[0]}x{size[1]} from {shape}\n"
            f"              preprocessing: {preprocessing}\n"
            f"Parameters:   frozen {count(model.non_trainable_weights):,}{why}, "
            f"trainable {count(model.trainable_weights):,}\n"
        )

    def findings(self, cfg, splits) -> list[dict]:
        from mlexp.models.transfer_checks import findings

        return findings(cfg)


@MODELS.register("backbone", RULES, required=("arch",), check=check, phases=FineTuning())
def body(inputs, cfg, kernel_regularizer, spec=None):
    import keras

    arch = ARCHS[cfg.arch]
    size = input_size(cfg)
    x = inputs
    if cfg.preprocess:
        scale, offset = pixel_rescaling(spec.preprocessing if spec else {})
        if (scale, offset) != (1.0, 0.0):
            x = keras.layers.Rescaling(scale, offset=offset, name="to_pixels")(x)
            log.info(
                "dataset.scale=%s: the model turns inputs back into 0-255 pixels (x %.4g + %.4g) before %s's own "
                "preprocessing, so nothing is scaled twice", (spec.preprocessing if spec else {}).get("scale"),
                scale, offset, cfg.arch,
            )  # fmt: skip
    if tuple(inputs.shape[1:3]) != size:
        x = keras.layers.Resizing(*size, name="resize")(x)
    if inputs.shape[-1] == 1:
        x = keras.layers.Concatenate(name="grey_to_rgb")([x, x, x])
    if cfg.preprocess:
        x = preprocessing_layer()(arch.module, name="preprocess_input")(x)
    network = build_network(cfg, size)
    x = network(x, training=False)  # batch normalization in inference mode, frozen or not
    for i, units in enumerate(cfg.dense_units):
        x = keras.layers.Dense(units, activation=cfg.activation, kernel_regularizer=kernel_regularizer(),
                               name=f"dense_{i}")(x)  # fmt: skip
    if cfg.dropout:
        x = keras.layers.Dropout(cfg.dropout, name="head_dropout")(x)
    return x


def build_network(cfg, size: tuple[int, int]):
    """The keras.applications network without its top, with the configured weights, frozen if asked."""
    import keras

    constructor = getattr(keras.applications, cfg.arch)
    args = {"include_top": False, "input_shape": (*size, 3), "pooling": cfg.pooling, **(cfg.arch_args or {})}
    weights = cfg.weights
    explicit = weights not in (None, "imagenet")
    if explicit and not Path(str(weights)).expanduser().is_file():
        raise WeightsNotFound(f"model.weights: no file at {weights}; expected a weights file saved for {cfg.arch}")
    with offline_weights(cfg.arch, bool(cfg.download)):
        try:
            network = constructor(weights=None if explicit else weights, **args)
        except WeightsNotFound:
            raise
        except (ValueError, TypeError) as exc:
            raise MlexpError(f"model.arch: {cfg.arch} refused {args}: {first_line(exc)}") from None
    if explicit:
        try:
            network.load_weights(str(Path(str(weights)).expanduser()))
        except Exception as exc:  # a file of another architecture or size: Keras' loader has many errors
            raise WeightsNotFound(f"model.weights: {weights} does not fit {cfg.arch}: {first_line(exc)}") from None
    network.name = LAYER
    network.trainable = not cfg.fine_tune.freeze_epochs
    _keep_batch_norm_frozen(network)
    log.info("Backbone %s (weights %s), input %dx%d, %s", cfg.arch, weights, *size,
             "frozen for the first epochs" if cfg.fine_tune.freeze_epochs else "trainable")  # fmt: skip
    return network


@contextlib.contextmanager
def offline_weights(arch: str, download: bool):
    """Keras' get_file, looked up in the cache first; with download=false a missing file is one message."""
    from mlexp.compat import replaced_get_file

    def lookup(original, fname=None, origin=None, *args, cache_subdir="datasets", cache_dir=None, **kwargs):
        home = Path(cache_dir or os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()
        cached = home / cache_subdir / fname
        if cached.is_file():
            return str(cached)
        failure = "not attempted (model.download=false)"
        if download:
            try:
                return original(fname, origin, *args, cache_subdir=cache_subdir, cache_dir=cache_dir, **kwargs)
            except Exception as exc:  # network or disk: reported in the one message below
                failure = f"failed ({type(exc).__name__}: {first_line(exc)})"
        raise WeightsNotFound(
            f"model.weights: the imagenet weights of {arch} were not found. Looked in:\n"
            f"  - model.weights: not a file path (imagenet)\n  - Keras' cache: {cached}\n"
            f"  - Keras' download from {origin}: {failure}\n"
            f"Put the file there under Keras' name ({fname}), give model.weights=PATH, or model.weights=null"
        )

    with replaced_get_file(lookup):
        yield


_PREPROCESSING_LAYER = None


def preprocessing_layer():
    """keras.applications' preprocess_input as a registered layer: saved models load in safe mode."""
    global _PREPROCESSING_LAYER
    if _PREPROCESSING_LAYER is None:
        import keras

        @keras.saving.register_keras_serializable(package="mlexp")
        class PreprocessInput(keras.layers.Layer):
            def __init__(self, module: str, **kwargs):
                super().__init__(**kwargs)
                self.module = module

            def call(self, x):
                return getattr(keras.applications, self.module).preprocess_input(x)

            def get_config(self):
                return {**super().get_config(), "module": self.module}

        _PREPROCESSING_LAYER = PreprocessInput
    return _PREPROCESSING_LAYER


def find(model):
    """The backbone network inside a built model, or None."""
    return next((layer for layer in model.layers if layer.name == LAYER), None)


def unfreeze(model, cfg) -> None:
    """The fine-tuning phase: unfreeze the backbone (all of it, or its last N layers) and recompile with
    the learning rate times fine_tune.lr_factor (a fresh optimizer, as Keras' guide does)."""
    from omegaconf import OmegaConf

    from mlexp.models.components import build_optimizer, recompile

    network = find(model)
    network.trainable = True
    last = cfg.model.fine_tune.unfreeze_layers
    for layer in network.layers[:-last] if last else ():
        layer.trainable = False
    _keep_batch_norm_frozen(network)
    lr = cfg.optimizer.learning_rate * cfg.model.fine_tune.lr_factor
    recompile(model, build_optimizer(OmegaConf.merge(cfg.optimizer, {"learning_rate": lr})))
    trainable = sum(int(w.numpy().size) for w in network.trainable_weights)
    log.info("Fine-tuning from here: %s of the backbone unfrozen (%s weights), learning rate %g",
             f"the last {last} layers" if last else "all", f"{trainable:,}", lr)  # fmt: skip


def _keep_batch_norm_frozen(network) -> None:
    """Batch normalization stays in inference mode (Keras' guide). A non-trainable BatchNormalization runs
    in inference mode whatever `training` says, and, unlike the call argument, that survives save and load
    (a resumed run)."""
    import keras

    for layer in network.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False


def frozen(model) -> bool:
    network = find(model)
    return network is not None and not network.trainable
