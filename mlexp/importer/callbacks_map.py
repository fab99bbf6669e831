"""Keras callbacks and ImageDataGenerator settings as mlexp's callbacks and augmentation sections."""

from __future__ import annotations

import ast
from typing import Any

from mlexp.importer.values import Function, KerasObject

# Keras' own defaults, written out: mlexp's callback defaults differ (early stopping restores the best weights)
KERAS_DEFAULTS = {
    "EarlyStopping": ("early_stopping", {"monitor": "val_loss", "min_delta": 0.0, "patience": 0, "mode": "auto",
                                         "baseline": None, "restore_best_weights": False, "start_from_epoch": 0}),
    "ReduceLROnPlateau": ("reduce_lr_on_plateau", {"monitor": "val_loss", "factor": 0.1, "patience": 10,
                                                   "mode": "auto", "min_delta": 0.0001, "cooldown": 0, "min_lr": 0.0}),
    "ModelCheckpoint": ("model_checkpoint", {"monitor": "val_loss", "mode": "auto", "save_best_only": False}),
    "TensorBoard": ("tensorboard", {"histogram_freq": 0, "write_graph": True, "update_freq": "epoch"}),
    "CSVLogger": ("csv_logger", {}),
    "TerminateOnNaN": ("terminate_on_nan", {}),
}  # fmt: skip


def callbacks_section(found, given: Any) -> None:
    items = given if isinstance(given, list | tuple) else ([] if given is None else [given])
    section: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, KerasObject):
            found.approximations.append(f"a callback not imported ({getattr(item, 'why', item)})")
        elif item.source is not None:
            found.code = [*found.code, ("callback", item)]
            section[item.cls.lower()] = {"_target_": item.cls}
        elif item.cls in KERAS_DEFAULTS:
            name, defaults = KERAS_DEFAULTS[item.cls]
            entry = {"enabled": True}
            for key, default in defaults.items():
                value = item.args.get(key, default)
                if key == "monitor" and value in ("acc", "val_acc"):  # Keras names the metric as compile did
                    value = value.replace("acc", "accuracy")
                entry[key] = (
                    float(value) if key in ("min_delta", "min_lr", "factor") and isinstance(value, int) else value
                )
            dropped = sorted(set(item.args) - set(defaults) - {"verbose", "filepath", "log_dir", "filename"})
            if dropped:
                found.approximations.append(f"{item.cls} arguments {dropped} not imported")
            if item.cls in ("ModelCheckpoint", "TensorBoard", "CSVLogger"):
                found.approximations.append(f"{item.cls} writes inside the run folder, not where the notebook said")
            section[name] = entry
        elif item.cls == "LearningRateScheduler":
            scheduler(found, section, item)
        else:
            found.approximations.append(f"callback {item.cls}: mlexp has no equivalent; not imported")
    if section:
        found.config["callbacks"] = section


def scheduler(found, section: dict, item: KerasObject) -> None:
    """`if epoch < N: return lr; else: return lr * exp(-k)` is mlexp's exponential schedule from epoch N."""
    function = item.args.get("schedule")
    pattern = _exponential(function.node) if isinstance(function, Function) else None
    if pattern is None:
        found.approximations.append("LearningRateScheduler with a schedule the import cannot read: not imported; "
                                    "see callbacks.lr_scheduler (exponential, cosine)")  # fmt: skip
        return
    start, rate = pattern
    section["lr_scheduler"] = {"enabled": True, "schedule": "exponential", "start_epoch": start, "rate": rate}


def _exponential(node: ast.FunctionDef) -> tuple[int, float] | None:
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.If) or len(node.args.args) < 2:
        return None
    test = body[0].test
    if not (isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.Lt) and isinstance(test.comparators[0],
                                                                                           ast.Constant)):  # fmt: skip
        return None
    text = ast.unparse(body[0].orelse[0]) if body[0].orelse else ""
    lr = node.args.args[1].arg
    for form in (f"return {lr} * tf.math.exp(", f"return {lr} * math.exp(", f"return {lr} * np.exp("):
        if text.startswith(form) and text.endswith(")"):
            try:
                exponent = float(ast.literal_eval(text[len(form) : -1]))
            except (ValueError, SyntaxError):
                return None
            return int(test.comparators[0].value), -exponent
    return None


def augmentation_section(found, generator: KerasObject) -> None:
    """ImageDataGenerator's arguments as Keras preprocessing layers (conf/augmentation/images.yaml)."""
    if generator.family == "layers":  # a Sequential of Random* layers mapped over the data
        entries = [{"layer": x.cls, **{k: list(v) if isinstance(v, tuple) else v for k, v in x.args.items()}}
                   for x in generator.args["layers"]]  # fmt: skip
        found.config["defaults"]["augmentation"] = "none"
        found.config["augmentation"] = {"name": generator.cls, "layers": entries}
        return
    args, layers = generator.args, []
    fill = (
        {"fill_mode": args["fill_mode"]} if args.get("fill_mode") in ("reflect", "wrap", "constant", "nearest") else {}
    )
    if args.get("rotation_range"):
        layers.append({"layer": "RandomRotation", "factor": round(args["rotation_range"] / 360, 4), **fill})
    if args.get("width_shift_range") or args.get("height_shift_range"):
        layers.append({"layer": "RandomTranslation", "height_factor": args.get("height_shift_range", 0.0),
                       "width_factor": args.get("width_shift_range", 0.0), **fill})  # fmt: skip
    if args.get("shear_range"):
        layers.append(
            {"layer": "RandomShear", "x_factor": args["shear_range"], "y_factor": args["shear_range"], **fill}
        )
        found.approximations.append("shear_range is an angle in ImageDataGenerator, a fraction in RandomShear")
    if args.get("zoom_range"):
        layers.append({"layer": "RandomZoom", "height_factor": args["zoom_range"], **fill})
    flips = [m for m in ("horizontal", "vertical") if args.get(f"{m}_flip")]
    if flips:
        layers.append({"layer": "RandomFlip", "mode": "_and_".join(flips)})
    rest = sorted(set(args) - {"rotation_range", "width_shift_range", "height_shift_range", "shear_range",
                               "zoom_range", "horizontal_flip", "vertical_flip", "fill_mode"})  # fmt: skip
    if rest:
        found.approximations.append(f"ImageDataGenerator arguments {rest} not imported")
    found.approximations.append("ImageDataGenerator as Keras preprocessing layers applied to training batches")
    found.config["defaults"]["augmentation"] = "none"
    found.config["augmentation"] = {"name": "imported", "layers": layers}
