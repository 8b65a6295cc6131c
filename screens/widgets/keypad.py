"""Provides Keypad: big on-screen keys for touch, posting the key pressed to the screen."""
from __future__ import annotations

import secrets

from textual import events
from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Button


class KeypadKey(Button):
    """A keypad key: every tap counts, also a second tap on the same key within the press animation
    (Textual's Button ignores that one: a guardian typing "00" would lose a digit)."""

    async def _on_click(self, event: events.Click) -> None:
        event.stop()
        self.press()


class Keypad(Grid):
    """A 3x4 grid of digit keys, optionally with X, and delete/clear; it never takes keyboard focus.

    Shuffled, the ten digits take new places (from the system's random source) on every
    `shuffle()`; each key keeps its id (`key-5` is always the 5), so touch and tests find it.
    """

    DEFAULT_CSS = """
    Keypad { grid-size: 3 4; grid-gutter: 0 1; width: 38; height: 12; }
    Keypad Button { width: 100%; height: 3; min-width: 8; text-style: bold; }
    """

    class Pressed(Message):
        """A keypad key: a digit, "X", "delete" or "clear"."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, with_x: bool, delete_label: str, clear_label: str, *, shuffled: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id, classes="shuffled" if shuffled else "")
        self.with_x = with_x
        self.delete_label = delete_label
        self.clear_label = clear_label
        self.shuffled = shuffled
        self.order = self._new_order()

    def _new_order(self) -> str:
        """The digits in the order of the grid's digit places (the ninth place before last is left for X/clear)."""
        if not self.shuffled:
            return "1234567890"
        return "".join(secrets.SystemRandom().sample("0123456789", 10))

    async def shuffle(self) -> None:
        """Give the digits new places (shuffled keypads only)."""
        if self.shuffled:
            self.order = self._new_order()
            await self.recompose()

    def compose(self) -> ComposeResult:
        order = self.order
        for digit in order[:9]:
            yield self._key(digit, digit)
        yield self._key("X" if self.with_x else self.clear_label, "X" if self.with_x else "clear")
        yield self._key(order[9], order[9])
        yield self._key(self.delete_label, "delete")

    def _key(self, label: str, key: str) -> Button:
        button = KeypadKey(label, id=f"key-{key}", classes="keypad-key")
        button.can_focus = False  # the physical keyboard types into the field; keys are for touch
        return button

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        assert event.button.id is not None
        self.post_message(self.Pressed(event.button.id.removeprefix("key-")))
