"""Provides Keypad: big on-screen keys for touch, posting the key pressed to the screen."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Button


class Keypad(Grid):
    """A 3x4 grid of digit keys, optionally with X, and delete/clear; it never takes keyboard focus."""

    DEFAULT_CSS = """
    Keypad { grid-size: 3 4; grid-gutter: 0 1; width: 38; height: 12; }
    Keypad Button { width: 100%; height: 3; min-width: 8; text-style: bold; }
    """

    class Pressed(Message):
        """A keypad key: a digit, "X", "delete" or "clear"."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, with_x: bool, delete_label: str, clear_label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.with_x = with_x
        self.delete_label = delete_label
        self.clear_label = clear_label

    def compose(self) -> ComposeResult:
        for digit in "123456789":
            yield self._key(digit, digit)
        yield self._key("X" if self.with_x else self.clear_label, "X" if self.with_x else "clear")
        yield self._key("0", "0")
        yield self._key(self.delete_label, "delete")

    def _key(self, label: str, key: str) -> Button:
        button = Button(label, id=f"key-{key}", classes="keypad-key")
        button.can_focus = False  # the physical keyboard types into the field; keys are for touch
        return button

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        assert event.button.id is not None
        self.post_message(self.Pressed(event.button.id.removeprefix("key-")))
