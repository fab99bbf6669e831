"""The learning tasks mlexp trains, and the metric each is judged by (imports nothing heavy).

A new task is added here (its name, its score, whether it is single-label) and in the head that
predicts it (models/head.py); the rest of mlexp asks these names and helpers.
"""

MULTICLASS, BINARY, MULTILABEL, REGRESSION = "multiclass", "binary", "multilabel", "regression"
TASKS = (MULTICLASS, BINARY, MULTILABEL, REGRESSION)
# One class per sample: confusion matrices, stratified splits, class weights and label checks apply.
SINGLE_LABEL = (MULTICLASS, BINARY)
# The metric sweeps, reports, the doctor and the logs rank a run by; errors go down, the rest up.
SCORE = {MULTICLASS: "accuracy", BINARY: "accuracy", MULTILABEL: "accuracy", REGRESSION: "mae"}


def score(metrics: dict) -> str:
    """The score metric of a run, from its metrics.json (runs from before tasks existed classify)."""
    return SCORE[metrics.get("task", MULTICLASS)]


def lower_is_better(metric: str) -> bool:
    """Losses and errors go down (val_loss, best_val_mae, test_rmse); accuracy, AUC and R² go up."""
    return metric.removesuffix("_epoch").endswith(("loss", "mae", "rmse", "mse"))
