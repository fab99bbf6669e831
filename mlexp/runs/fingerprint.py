"""A fingerprint of the data files a run read: count, bytes and one content digest over all of them.

Each file's hash is cached by (path, size, modification time) in ~/.cache/mlexp/fingerprints.json
(or $MLEXP_CACHE_DIR), so a folder of 20,000 images is hashed once, not at every run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

LISTED = 20  # up to this many files are listed by name in the manifest


def cache_dir() -> Path:
    """mlexp's cache folder: $MLEXP_CACHE_DIR, else ~/.cache/mlexp."""
    return Path(os.environ.get("MLEXP_CACHE_DIR") or Path.home() / ".cache" / "mlexp").expanduser()


def cache_file() -> Path:
    return cache_dir() / "fingerprints.json"


def _file_hash(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(files: list[str] | tuple[str, ...]) -> dict | None:
    """{"files", "bytes", "digest"} (and the files themselves when few); None when no file was read."""
    if not files:
        return None
    cache = _read_cache()
    combined, total, entries = hashlib.blake2b(digest_size=16), 0, {}
    for name in sorted(files):
        path = Path(name).resolve()
        stat = path.stat()
        key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
        digest = cache.get(key) or _file_hash(path)
        cache[key] = digest
        combined.update(f"{path.name}:{digest}\n".encode())
        total += stat.st_size
        entries[str(path)] = {"bytes": stat.st_size, "hash": digest}
    _write_cache(cache)
    out = {"files": len(entries), "bytes": total, "digest": combined.hexdigest()}
    if len(entries) <= LISTED:
        out["listed"] = entries
    return out


def _read_cache() -> dict:
    try:
        return json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: hashes are recomputed


def _write_cache(cache: dict) -> None:
    path = cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home only costs re-hashing next time
        log.warning("Fingerprint cache not written (%s): %s", path, exc.strerror or exc)


def changes(recorded: dict | None, current: dict | None) -> str | None:
    """A sentence saying how the data differ from a run's record, or None when they are the same."""
    if not recorded or not current or recorded.get("digest") == current.get("digest"):
        return None
    size = lambda r: f"{r['files']} files, {r['bytes']:,} bytes"  # noqa: E731
    text = f"{size(recorded)} -> {size(current)}"
    old, new = recorded.get("listed") or {}, current.get("listed") or {}
    changed = sorted(
        name for name in set(old) | set(new) if old.get(name, {}).get("hash") != new.get(name, {}).get("hash")
    )
    if changed:
        text += f" (changed: {', '.join(Path(n).name for n in changed[:5])})"
    return text
