"""A finished run's diagnosis, debug figures and report.md: written after training and by `mlexp report`."""

from __future__ import annotations

import logging
from pathlib import Path

from mlexp import doctor, runs
from mlexp.doctor import Finding
from mlexp.doctor.diagnose import diagnose, markdown

log = logging.getLogger(__name__)


def write_run_report(run: runs.RunDir, cfg, rows, metrics, splits, val_pred, test_pred, checks=()) -> list[Finding]:
    from mlexp.reporting import debug

    findings = diagnose(rows, cfg.optimizer.learning_rate, val_pred, splits.y_val, splits.spec.num_classes)
    if cfg.trainer.get("overfit_check"):
        findings.append(_overfit_verdict(rows))
    runs.write_json(run.file(doctor.DIAGNOSIS), {"healthy": not findings, "findings": [f.as_dict() for f in findings]})
    names = splits.spec.class_names
    figures = debug.write(run.file("plots"), splits.y_test, test_pred, names, splits.x_test)
    table = debug.classification_table(splits.y_test, test_pred, names)
    text = markdown(findings, metrics, list(checks))
    text += "\n## Per-class precision and recall (test)\n\n" + _table(table) + "\n"
    text += "\n" + "\n".join(f"![{f.stem}]({f.relative_to(run.path).as_posix()})" for f in figures) + "\n"
    runs.write_text(run.file(doctor.REPORT), text)
    for finding in findings:
        log.warning("Diagnosis %s", finding.line())
    if not findings:
        log.info("Diagnosis: healthy, no finding")
    return findings


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


def _table(frame) -> str:
    header = "| class | precision | recall | f1 | support |\n|---|---|---|---|---|\n"
    rows = [
        f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {int(row['support'])} |"
        for name, row in frame.iterrows()
        if name != "accuracy"
    ]
    return header + "\n".join(rows)


def regenerate(run_dir: Path) -> list[Finding]:
    """mlexp report: the diagnosis and figures of a finished run, again, from its files and its data."""

    from mlexp import data
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
    model = runs.load_model(run.file(runs.MODEL), keras)
    head = Head(splits.spec.num_classes, cfg.model.logits)
    val_pred = head.classes(model.predict(splits.x_val, verbose=0))
    test_pred = head.classes(model.predict(splits.x_test, verbose=0))
    rows = run.read_history()
    checks = [Finding(**f) for f in run.read_json(doctor.PREFLIGHT).get("findings", [])]
    return write_run_report(run, cfg, rows, run.read_json(runs.METRICS), splits, val_pred, test_pred, checks)
