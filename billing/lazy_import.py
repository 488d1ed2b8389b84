"""A module loaded when it is first used, not when the module naming it is imported.

The desk names every part of billing it drives, but the first screen needs almost none of
them (the engine, emails, receipts and reconciliation pull in the email package, zoneinfo and
more): they are loaded when a screen first asks for one.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """Stands for the module `name`; the first attribute read imports it (the import
    system's own lock makes that safe from several threads at once)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> object:
        module: ModuleType = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, loaded on first use>"
