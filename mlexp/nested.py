"""Nested configs as flat dotted keys (`trainer.epochs`): the one flattening that reports, the run
continuation check and the notebook importer share. Standard library only (config validation uses it)."""

from __future__ import annotations

from typing import Any


def flatten(tree: Any, prefix: str = "", lists: bool = False) -> dict[str, Any]:
    """Nested mappings to dotted keys; an empty mapping stays a value. Lists stay values, or with
    lists=True become `key.length` and `key.0.inner`, ... (two layer lists compared entry by entry)."""
    if isinstance(tree, dict) and (tree or not prefix):
        flat: dict[str, Any] = {}
        for key, value in tree.items():
            flat.update(flatten(value, f"{prefix}{key}.", lists))
        return flat
    if lists and isinstance(tree, list):
        flat = {f"{prefix}length": len(tree)}
        for i, value in enumerate(tree):
            flat.update(flatten(value, f"{prefix}{i}.", lists))
        return flat
    return {prefix.rstrip("."): tree}
