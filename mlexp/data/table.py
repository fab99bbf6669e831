"""A table (CSV, TSV or Parquet): a target column and typed feature columns, encoded to numbers.

Columns are typed automatically (numbers: numeric; strings with few distinct values: categorical;
other strings: text) with per-column overrides in `dataset.columns`. The encoding is fitted on the
training split only and saved in the run directory (preprocessing.json), so `mlexp predict` encodes
a CSV of new rows the same way:
- numeric: missing values filled with the training median (plus a 0/1 "was missing" column), then
  standardized with the training mean and std;
- categorical: one-hot over the training values, plus one column for unseen or missing values;
- text: multi-hot over the training split's most frequent words.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mlexp.config.catalog import OWN_TEST_SPLIT, SOURCE, TASK
from mlexp.config.rules import Rule, integer, optional, string
from mlexp.data.labels import MANY_VALUES
from mlexp.data.raw import Raw
from mlexp.data.sources import DataError, damaged, describe_path
from mlexp.data.splits import stratified_split
from mlexp.errors import first_line
from mlexp.lazy import lazy
from mlexp.registry import DATASETS
from mlexp.tasks import MULTILABEL, REGRESSION, SINGLE_LABEL

np = lazy("numpy")
pd = lazy("pandas")

log = logging.getLogger(__name__)

KINDS = ("numeric", "categorical", "text", "ignore")
READERS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet"}
WORD = re.compile(r"[^\W_]+")


def read(path: Path, what: str = "dataset.path") -> pd.DataFrame:
    """A CSV, TSV or Parquet file as a DataFrame; anything else is named and refused."""
    kind = READERS.get(path.suffix.lower())
    if not path.is_file() or kind is None:
        raise DataError(f"{what}: {path} {describe_path(path)}; expected a .csv, .tsv or .parquet file")
    try:
        table = pd.read_parquet(path) if kind == "parquet" else pd.read_csv(path, sep="\t" if kind == "tsv" else ",")
    except Exception as exc:  # pandas' parser errors have many types; each is one line about the file
        if kind == "parquet" or isinstance(exc, (UnicodeDecodeError, EOFError)) or "EOF inside" in str(exc):
            raise damaged(path, exc, what) from None
        raise DataError(f"{what}: cannot read {path} as {kind} ({type(exc).__name__}: {first_line(exc)})") from None
    if table.empty:
        columns = ", ".join(map(str, table.columns)) or "none"
        raise DataError(f"{what}: {path} is empty (columns {columns}, no rows); expected at least one row")
    return table


@dataclass
class TableEncoder:
    """Column types and the encoding fitted on the training rows; saved as JSON for predict."""

    kinds: dict[str, str]
    max_words: int = 1000
    stats: dict[str, dict] = field(default_factory=dict)

    def fit(self, frame: pd.DataFrame) -> TableEncoder:
        for name, kind in self.kinds.items():
            column = frame[name]
            missing = int(column.isna().sum())
            if missing:
                log.warning("Column %r: %d of %d training values missing (%.1f%%)", name, missing, len(column),
                            100 * missing / max(len(column), 1))  # fmt: skip
            if kind == "numeric":
                values = pd.to_numeric(column, errors="coerce")
                fill = float(values.median()) if values.notna().any() else 0.0
                filled = values.fillna(fill)
                self.stats[name] = {
                    "fill": fill, "mean": float(filled.mean()), "std": float(filled.std(ddof=0)) or 1.0,
                    "missing_flag": bool(values.isna().any()),
                }  # fmt: skip
            elif kind == "categorical":
                counts = column.dropna().astype(str).value_counts()
                self.stats[name] = {"values": sorted(counts.index)}
            elif kind == "text":
                words = Counter(w for text in column.fillna("").astype(str) for w in set(_words(text)))
                self.stats[name] = {"words": sorted(w for w, _ in words.most_common(self.max_words))}
        return self

    def transform(self, frame: pd.DataFrame, what: str = "the table") -> np.ndarray:
        absent = [name for name in self.kinds if name not in frame and self.kinds[name] != "ignore"]
        if absent:
            raise DataError(f"{what}: lacks the column(s) {absent}; the model was trained on {self.columns()}")
        parts = []
        for name, kind in self.kinds.items():
            column, stats = frame[name] if name in frame else None, self.stats.get(name)
            if kind == "numeric":
                values = pd.to_numeric(column, errors="coerce")
                bad = column.notna() & values.isna()
                if bad.any():
                    raise DataError(f"{what}: column {name!r} holds {column[bad].iloc[0]!r}; expected numbers")
                parts.append(((values.fillna(stats["fill"]) - stats["mean"]) / stats["std"]).to_numpy()[:, None])
                if stats["missing_flag"]:
                    parts.append(values.isna().to_numpy()[:, None])
            elif kind == "categorical":
                parts.append(_one_hot(column, stats["values"]))
            elif kind == "text":
                index = {w: i for i, w in enumerate(stats["words"])}
                hot = np.zeros((len(frame), len(index)), np.float32)
                for row, text in enumerate(column.fillna("").astype(str)):
                    hot[row, [index[w] for w in _words(text) if w in index]] = 1.0
                parts.append(hot)
        return np.concatenate(parts, axis=1).astype(np.float32) if parts else np.zeros((len(frame), 0), np.float32)

    def columns(self) -> list[str]:
        return [name for name, kind in self.kinds.items() if kind != "ignore"]

    def state(self) -> dict:
        # A list, not a mapping: JSON files are written with sorted keys, and the column order is the encoding.
        return {"columns": [[name, kind] for name, kind in self.kinds.items()], "max_words": self.max_words,
                "stats": self.stats}  # fmt: skip

    @classmethod
    def from_state(cls, state: dict) -> TableEncoder:
        return cls({name: kind for name, kind in state["columns"]}, state["max_words"], dict(state["stats"]))


def _one_hot(column: pd.Series, values: list[str]) -> np.ndarray:
    """One column per training value, and a last one for unseen or missing values."""
    index = {v: i for i, v in enumerate(values)}
    codes = [index.get(str(v), len(index)) if pd.notna(v) else len(index) for v in column]
    return np.eye(len(index) + 1, dtype=np.float32)[np.asarray(codes, dtype=int)]


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def column_kinds(frame: pd.DataFrame, targets: list[str], overrides: dict, max_categories: int) -> dict[str, str]:
    """Each feature column's kind: the override, else numbers numeric, few distinct strings categorical, text."""
    unknown = sorted(set(overrides) - set(frame.columns))
    if unknown:
        raise DataError(f"dataset.columns: {unknown} are not columns of the table; it has {list(frame.columns)}")
    kinds = {}
    for name in frame.columns:
        if name in targets:
            continue
        kind = overrides.get(name)
        if kind is None:
            if pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name]):
                kind = "numeric"
            else:
                kind = "categorical" if frame[name].nunique() <= max_categories else "text"
        kinds[name] = kind
    log.info("Columns: %s", ", ".join(f"{n} ({k})" for n, k in kinds.items()))
    return kinds


def _names(value) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) and v for v in value)
    return isinstance(value, str) and bool(value)


RULES = {
    **SOURCE,
    **OWN_TEST_SPLIT,
    **TASK,
    "target": Rule("a column name, or a list of 0/1 columns (multilabel)", _names),
    "test_path": optional(string()),
    "columns": Rule(
        "null, or a mapping of column name to numeric, categorical, text or ignore",
        lambda v: v is None or (isinstance(v, dict) and all(kind in KINDS for kind in v.values())),
    ),
    "max_categories": integer(1),
    "max_words": integer(1),
}


@DATASETS.register("csv", RULES, required=("path", "target"))
def load(cfg) -> Raw:
    path = Path(cfg.path).expanduser()
    frame = read(path)
    targets = [cfg.target] if isinstance(cfg.target, str) else list(cfg.target)
    missing = [t for t in targets if t not in frame]
    if missing:
        raise DataError(f"dataset.target: got {missing}; expected a column of {path}: {list(frame.columns)}")
    test = read(Path(cfg.test_path).expanduser(), "dataset.test_path") if cfg.get("test_path") else None
    frame = _drop_unlabelled(frame, targets, path)
    kinds = column_kinds(frame, targets, dict(cfg.get("columns") or {}), cfg.max_categories)
    if not any(kind != "ignore" for kind in kinds.values()):
        raise DataError(f"dataset.path: {path} has no feature column besides the target {targets}")
    task = cfg.get("task", "auto")
    y, class_names, task = _targets(frame, targets, task, path)
    rows = np.arange(len(frame))
    if test is None:
        stratify = task in ("auto", *SINGLE_LABEL)
        (train_rows, y_train), (test_rows, y_test) = stratified_split(
            rows, y, cfg.test_split, cfg.split_seed, stratify=stratify
        )
        table = frame
    else:
        test = _drop_unlabelled(test, targets, Path(cfg.test_path))
        y_test = _targets(test, targets, task, Path(cfg.test_path), class_names)[0]
        table = pd.concat([frame, test], ignore_index=True)
        train_rows, y_train, test_rows = rows, y, np.arange(len(frame), len(table))
    encoder = TableEncoder(kinds, cfg.max_words)
    return Raw(
        train_rows, y_train, test_rows, y_test, class_names, max_value=1.0, origin=f"dataset.path {path}",
        encoder=RowEncoder(table, encoder), files=(str(path),) + ((str(cfg.test_path),) if test is not None else ()),
        task=task,
    )  # fmt: skip


def _drop_unlabelled(frame: pd.DataFrame, targets: list[str], path: Path) -> pd.DataFrame:
    unlabelled = frame[targets].isna().any(axis=1)
    if unlabelled.all():
        raise DataError(f"dataset.target: every row of {path} lacks a value in {targets}; expected labelled rows")
    if unlabelled.any():
        log.warning("%s: %d rows without a target value are left out", path, int(unlabelled.sum()))
    return frame[~unlabelled].reset_index(drop=True)


def _targets(frame, targets: list[str], task: str, path: Path, class_names=None):
    """Labels as the task needs them: several 0/1 columns (multilabel), numbers, or class values."""
    if len(targets) > 1:
        return frame[targets].to_numpy(), targets, MULTILABEL if task == "auto" else task
    column = frame[targets[0]]
    numeric = pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    if task == REGRESSION or (task == "auto" and numeric and column.nunique() > MANY_VALUES):
        return column.to_numpy(), [targets[0]], REGRESSION
    names = class_names or [str(v) for v in sorted(column.unique())]
    index = {name: i for i, name in enumerate(names)}
    unknown = sorted({str(v) for v in column} - set(index))
    if unknown:
        raise DataError(f"{path}: target values {unknown[:5]} are not among the training classes {names}")
    return column.astype(str).map(index).to_numpy(dtype=np.int32), names, task


@dataclass
class RowEncoder:
    """The table's rows, encoded once the training rows are known (x holds row numbers until then)."""

    table: pd.DataFrame
    encoder: TableEncoder

    def fit(self, train_rows: np.ndarray) -> dict:
        self.encoder.fit(self.table.iloc[train_rows])
        return {"table": self.encoder.state()}

    def transform(self, rows: np.ndarray) -> np.ndarray:
        return self.encoder.transform(self.table.iloc[rows].reset_index(drop=True))
