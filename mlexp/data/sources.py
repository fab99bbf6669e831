"""Find a dataset's files offline: dataset.path, the Keras cache, system copies, then Keras' download."""

from __future__ import annotations

import functools
import logging
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from mlexp.errors import MlexpError, first_line

log = logging.getLogger(__name__)


class DataError(MlexpError):
    """A dataset that cannot be found or read."""

    exit_code = 2


@dataclass(frozen=True)
class Source:
    dataset: str
    keras_names: tuple[str, ...]  # file or folder names inside the Keras cache, newest layout first
    files: tuple[str, ...] = ()  # for a folder: the files it must hold; empty for a single file
    system_dirs: tuple[str, ...] = ()
    keras_module: str | None = None  # keras.datasets.<module>.load_data() downloads into the cache


def keras_cache() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser() / "datasets"


def _complete(source: Source, path: Path) -> bool:
    if not source.files:
        return path.is_file()
    return path.is_dir() and all((path / name).is_file() for name in source.files)


def _candidates(source: Source, explicit: str | None) -> list[Path]:
    found: list[Path] = []
    if explicit:
        base = Path(explicit).expanduser()
        found += [base, *(base / name for name in source.keras_names)]
    found += [keras_cache() / name for name in source.keras_names]
    found += [Path(d) for d in source.system_dirs]
    return found


def locate(source: Source, explicit: str | None, download: bool) -> Path:
    """The first complete copy of the dataset, in mlexp's search order."""
    tried = _candidates(source, explicit)
    for path in tried:
        if _complete(source, path):
            log.info("Dataset %r from %s", source.dataset, path)
            return path
    failure = "not attempted (dataset.download=false)"
    if download and source.keras_module:
        failure = _download(source)
        for path in _candidates(source, None):
            if _complete(source, path):
                return path
    what = f"the files {', '.join(source.files)}" if source.files else f"the file {source.keras_names[0]}"
    looked = "\n".join(f"  - {p}" for p in tried)
    raise DataError(
        f"dataset {source.dataset!r} not found. Looked for {what} in:\n{looked}\n"
        f"  - Keras download: {failure}\n"
        f"Provide it with dataset.path=FILE_OR_FOLDER, or put it in {keras_cache()} under Keras' own name "
        f"({source.keras_names[0]})."
    )


def _download(source: Source) -> str:
    from mlexp.tf_runtime import import_keras

    keras = import_keras()
    log.info("Dataset %r not found offline; trying Keras' download", source.dataset)
    try:
        getattr(keras.datasets, source.keras_module).load_data()
    except Exception as exc:  # any network or archive failure: reported in the one message
        return f"failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return "done"


SIGNATURES = {
    b"PK\x03\x04": "a zip archive (an .npz file is one)",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"PAR1": "a Parquet file (dataset=csv reads it)",
    b"\x1f\x8b": "a gzip-compressed file",
    b"\x93NUMPY": "a single .npy array",
}


# What a cut-short or corrupted file raises while it is decoded (gzip.BadGzipFile is an OSError).
DAMAGED = (EOFError, zlib.error, zipfile.BadZipFile, OSError, ValueError, IndexError, KeyError)


def damaged(path: Path, exc: BaseException, what: str = "dataset.path") -> BaseException:
    """The one message for a data file that exists but cannot be decoded. An OSError with an errno (no
    permission, a folder, a full disk) is the system's, not the file's content: it is returned as it is,
    for the CLI's own line about it."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc
    return DataError(
        f"{what}: {path} is truncated or damaged ({type(exc).__name__}: {first_line(exc)}); "
        "expected a complete file: copy or download it again"
    )


def reads_file(reader):
    """Decorator for a reader whose first argument is a file: decoding errors become `damaged(path)`."""

    @functools.wraps(reader)
    def read(path, *args, **kwargs):
        try:
            return reader(path, *args, **kwargs)
        except MlexpError:
            raise
        except FileNotFoundError:
            raise DataError(f"dataset.path: {path} does not exist; expected the dataset's file there") from None
        except DAMAGED as exc:
            raise damaged(path, exc) from None

    return read


def describe_path(path: Path) -> str:
    """What is at `path`, in words, for messages that must say why a file was not what was expected."""
    if not path.exists():
        return "does not exist"
    if path.is_dir():
        return "is a folder (dataset=image_folder or dataset=text_folder read folders)"
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head:
        return "is an empty file"
    for magic, what in SIGNATURES.items():
        if head.startswith(magic):
            if magic == b"PK\x03\x04" and not zipfile.is_zipfile(path):
                return "is a truncated or damaged zip archive (copy or download it again)"
            return f"is {what}"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "is a binary file of unknown format"
    first = text.splitlines()[0] if text.splitlines() else ""
    if "," in first or "\t" in first or ";" in first:
        return f"is a text table, likely a CSV (first line {first[:60]!r}; dataset=csv reads it)"
    return "is a text file"
