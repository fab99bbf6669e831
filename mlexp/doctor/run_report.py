"""A finished run's diagnosis, debug figures and report.md: written after training and by `mlexp report`."""

from __future__ import annotations

import logging
from pathlib import Path

from mlexp import doctor, runs
from mlexp.doctor import Finding, advice
from mlexp.doctor.diagnose import diagnose, markdown
from mlexp.tasks import MULTILABEL, REGRESSION, SCORE, SINGLE_LABEL

log = logging.getLogger(__name__)


def write_run_report(run: runs.RunDir, cfg, rows, metrics, splits, val_pred, test_pred, checks=()) -> list[Finding]:
    from mlexp.reporting import debug, run_figures

    task = splits.spec.task
    classifies = task in SINGLE_LABEL
    findings = diagnose(
        rows,
        cfg.optimizer.learning_rate,
        val_pred,
        splits.y_val,
        splits.spec.num_classes,
        classifies=classifies,
        cfg=cfg,
    )
    findings = advice.with_followable_advice(findings, cfg)
    if cfg.trainer.get("overfit_check"):
        findings.append(_overfit_verdict(rows))
    runs.write_json(run.file(doctor.DIAGNOSIS), {"healthy": not findings, "findings": [f.as_dict() for f in findings]})
    names = splits.spec.class_names
    text = markdown(findings, metrics, list(checks))
    images = None
    if task in SINGLE_LABEL:
        images = LazyInputs(splits, "x_test") if splits.reader is not None else splits.x_test
    figures, arrays = debug.plan(task, splits.y_test, test_pred, images)
    if task == REGRESSION:
        table = debug.regression_table(splits.y_test, test_pred)
        table.to_csv(run.path / debug.REGRESSION_REPORT)
        text += "\n## Test errors, in the target's units\n\n| metric | value |\n|---|---|\n"
        text += "\n".join(f"| {name} | {row['value']:.4g} |" for name, row in table.iterrows()) + "\n"
    elif task == MULTILABEL:
        table = debug.label_table(splits.y_test, test_pred, names)
        table.to_csv(run.path / debug.CLASS_REPORT)
        text += "\n## Per-label precision and recall (test)\n\n" + _table(table, "label") + "\n"
    else:
        table = debug.classification_table(splits.y_test, test_pred, names)
        table.to_csv(run.path / debug.CLASS_REPORT, index=True)
        text += "\n## Per-class precision and recall (test)\n\n" + _table(table) + "\n"
    text += "\n" + "\n".join(f"![{Path(f).stem}](plots/{f})" for f in figures) + "\n"
    runs.write_text(run.file(doctor.REPORT), text)
    meta = {"rows": rows, "title": f"{cfg.model.name} on {cfg.dataset.name}", "score": SCORE[task], "task": task,
            "class_names": list(names)}  # fmt: skip
    run_figures.defer(run, meta, arrays)  # drawn now, or in the background while a sweep trains on
    for finding in findings:
        log.warning("Diagnosis %s", finding.line())
    if not findings:
        log.info("Diagnosis: healthy, no finding")
    return findings


def _inputs(splits, name: str, cfg):
    """A split as model input: the arrays, or a tf.data pipeline that decodes its files."""
    from mlexp import data
    from mlexp.data.pipeline import eval_batch_size, evaluation_dataset

    if splits.reader is None:
        return getattr(splits, name)
    labels = getattr(splits, "y" + name[1:])
    return evaluation_dataset(getattr(splits, name), labels, eval_batch_size(cfg.trainer), data.decoder(splits))


def _overfit_verdict(rows) -> Finding:
    final = rows[-1].get("accuracy", 0.0) if rows else 0.0
    if final >= 0.99:
        return Finding(
            "overfit_batch", "info", f"the model fits the small batch: training accuracy {final:.3f}.",
            "train on the full data (drop debug=overfit_batch)", {"final_accuracy": final},
        )  # fmt: skip
    return Finding(
        "cannot_overfit", "error",
        f"training accuracy reached only {final:.3f} on one small batch; a healthy model reaches about 1.0. "
        "Look for wrong labels, a broken head, or a learning rate far off.",
        "optimizer.learning_rate=0.001 model.kernel_initializer=glorot_uniform", {"final_accuracy": final},
    )  # fmt: skip


class LazyInputs:
    """The inputs of a split read from files, decoded one at a time when a figure asks for one."""

    def __init__(self, splits, name: str):
        self.splits, self.name = splits, name
        self.shape = (len(getattr(splits, name)), *splits.spec.input_shape)
        self.ndim = len(self.shape)

    def __getitem__(self, i):
        return self.splits.take(self.name, [i])[0]


def _table(frame, what: str = "class") -> str:
    header = f"| {what} | precision | recall | f1 | support |\n|---|---|---|---|---|\n"
    rows = [
        f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {int(row['support'])} |"
        for name, row in frame.iterrows()
        if name != "accuracy"
    ]
    return header + "\n".join(rows)


def regenerate(run_dir: Path) -> list[Finding]:
    """mlexp report: the diagnosis and figures of a finished run, again, from its files and its data."""

    from mlexp import data, models
    from mlexp.config.saved import load_config
    from mlexp.errors import MlexpError
    from mlexp.models.head import Head
    from mlexp.tf_runtime import import_keras

    run = runs.RunDir(run_dir)
    if not run.file(runs.MODEL).is_file() or not run.file(runs.HISTORY).is_file():
        raise MlexpError(f"report: {run_dir} has no finished run ({runs.MODEL} and {runs.HISTORY} are needed)")
    cfg = load_config(Path(run_dir))
    keras = import_keras()
    splits = data.load(cfg.dataset, cfg.trainer)
    model = models.load(run.file(runs.MODEL), keras)
    head = Head.for_spec(splits.spec, cfg.model.logits)
    val_pred = head.predictions(model.predict(_inputs(splits, "x_val", cfg), verbose=0))
    test_pred = head.predictions(model.predict(_inputs(splits, "x_test", cfg), verbose=0))
    rows = run.read_history()
    checks = [Finding(**f) for f in run.read_json(doctor.PREFLIGHT).get("findings", [])]
    return write_run_report(run, cfg, rows, run.read_json(runs.METRICS), splits, val_pred, test_pred, checks)
