"""Modules imported on first use.

The data and model modules register their kinds (and the rules of their keys) at import, and a config
is checked by importing them; NumPy, pandas and scikit-learn would add over a second to every config
error. A module-level `np = lazy("numpy")` keeps them out until a function really uses them.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> LazyModule:
    return LazyModule(name)
