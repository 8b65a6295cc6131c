"""Provides `use_quiet_button_init`: a Button made before it is mounted is styled once, when it is mounted.

Textual's `Button.__init__` sets its `flat` reactive, whose watcher sets two CSS classes with a style update each:
while the app runs, that matches the whole stylesheet against a button that is not in the DOM yet (and is styled
again when it is mounted). A step screen makes a dozen buttons (the PIN keypad), so that was a fifth of the style
work of a step change (bench/keys.py). Styled once at mount, the button looks the same.
"""
from __future__ import annotations

from textual.widgets import Button


def _watch_flat(self: Button, flat: bool) -> None:
    update = self.is_attached  # a button not in the DOM yet is styled when it is mounted
    self.set_class(flat, "-style-flat", update=update)
    self.set_class(not flat, "-style-default", update=update)


def use_quiet_button_init() -> None:
    """Replace Textual's `Button.watch_flat` by one that updates styles only for a mounted button.

    The check fails loudly (and the tests with it) if a Textual upgrade stops styling buttons this way.
    """
    if not callable(getattr(Button, "watch_flat", None)):
        raise RuntimeError("textual's Button no longer has watch_flat: update screens/button_styles.py")
    Button.watch_flat = _watch_flat  # type: ignore[method-assign]
