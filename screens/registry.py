"""Provides screen_for: the one screen that presents each step of the session, each imported when first shown.

The screen of a step lives in `screens/<step>.py` (READING and REGISTERING share `screens/reading.py`),
so a new step is one screen file, and the kiosk's first screen does not wait for the others.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from kiosk.session import SessionView, Step
from screens.base import StepScreen

_SHARED_MODULES = {Step.REGISTERING: "reading"}
"""Steps whose screen lives in another step's module."""


class ScreensByStep(Mapping[Step, type[StepScreen]]):
    """Step -> the StepScreen class that presents it; its module is imported on first look-up."""

    def __init__(self) -> None:
        self._found: dict[Step, type[StepScreen]] = {}

    def __getitem__(self, step: Step) -> type[StepScreen]:
        found = self._found.get(step)
        if found is None:
            name = f"screens.{_SHARED_MODULES.get(step, step.value)}"
            module = import_module(name)
            classes = [value for value in vars(module).values()
                       if isinstance(value, type) and issubclass(value, StepScreen) and value.__module__ == name
                       and step in value.steps]
            if len(classes) != 1:
                raise LookupError(f"{name} must define one StepScreen for step {step.value}; it has {len(classes)}")
            found = self._found[step] = classes[0]
        return found

    def __iter__(self) -> Iterator[Step]:
        return iter(Step)

    def __len__(self) -> int:
        return len(Step)


SCREEN_FOR_STEP = ScreensByStep()


def _child_pick() -> type[StepScreen]:
    from screens.child_pick import ChildPickScreen

    return ChildPickScreen


_VARIANTS = {Step.CHILD_ID: (lambda view: not view.child_typing, _child_pick)}
"""Steps shown by another screen while the view says so: the child's ID step is a list to pick from until the
guardian opens the typed entry (or no child is listed)."""


def screen_class(view: SessionView) -> type[StepScreen]:
    """The screen class that presents `view`."""
    variant = _VARIANTS.get(view.step)
    if variant is not None and variant[0](view):
        return variant[1]()
    return SCREEN_FOR_STEP[view.step]


def screen_for(view: SessionView) -> StepScreen:
    """A new screen presenting `view`."""
    return screen_class(view)(view)
