"""The learning tasks mlexp trains, and the metric each is judged by (imports nothing heavy)."""

TASKS = ("multiclass", "binary", "multilabel", "regression")
# The metric sweeps, reports, the doctor and the logs rank a run by; errors go down, the rest up.
SCORE = {"multiclass": "accuracy", "binary": "accuracy", "multilabel": "accuracy", "regression": "mae"}


def score(metrics: dict) -> str:
    """The score metric of a run, from its metrics.json (runs from before tasks existed classify)."""
    return SCORE[metrics.get("task", "multiclass")]


def lower_is_better(metric: str) -> bool:
    """Losses and errors go down (val_loss, best_val_mae, test_rmse); accuracy, AUC and R² go up."""
    return metric.removesuffix("_epoch").endswith(("loss", "mae", "rmse", "mse"))
