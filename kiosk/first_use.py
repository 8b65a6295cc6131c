"""Provides ModuleOnFirstUse: a module imported when a name is first read from it, not when its user is imported.

The kiosk's first screen waits for every module imported on the way to it; a module that only the
first event, the first visit or a technician needs is better loaded after that screen is up. Where a
module's names are used at call time only, `ev = ModuleOnFirstUse("kiosk.session.events")` (with the
plain import under TYPE_CHECKING, for the type checkers) puts its import off until `ev.Begin` is read.
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType


class ModuleOnFirstUse:
    """Stands for the module `name`; the first name read from it imports it, every later one is read from it.

    Two threads reading the first name at once are both answered from the one module: the import
    system's per-module lock makes the second wait for the first's import.
    """

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        """The module itself (imported now if it was not yet)."""
        module = self._module
        if module is None:
            module = self._module = import_module(self._name)
        return module

    def __getattr__(self, attribute: str) -> object:
        return getattr(self.module, attribute)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<module {self._name!r} on first use, {state}>"
