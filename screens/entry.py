"""Provides KeyEntryScreen: a step screen that takes typed characters from a keyboard, a physical keypad or touch."""
from __future__ import annotations

from typing import ClassVar

from textual import events

from kiosk.session import SessionView
from screens.base import StepScreen
from screens.widgets.keypad import Keypad


class KeyEntryScreen(StepScreen):
    """Keeps what the guardian typed in `typed`; Enter submits, Backspace deletes, Esc leaves.

    Subclasses say how long an entry is and which characters it takes, redraw in `entry_changed`
    and send it in `submit`.
    """

    ENTRY_LENGTH: ClassVar[int]
    ENTRY_CHARACTERS: ClassVar[str] = "0123456789"

    def __init__(self, view: SessionView) -> None:
        super().__init__(view)
        self.typed = ""

    def entry_changed(self) -> None:
        """Show the entry as it now stands."""

    def submit(self) -> None:
        """Send the entry to the session."""

    def type_key(self, key: str) -> None:
        """One key: a character, "delete" or "clear"."""
        if key == "delete":
            self.typed = self.typed[:-1]
        elif key == "clear":
            self.typed = ""
        elif len(self.typed) < self.ENTRY_LENGTH and key.upper() in self.ENTRY_CHARACTERS:
            self.typed += key.upper()
        self.entry_changed()

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.upper() in self.ENTRY_CHARACTERS:
            event.stop()
            self.type_key(event.character)
        elif event.key == "backspace":
            event.stop()
            self.type_key("delete")
        elif event.key == "enter":
            event.stop()
            self.submit()

    def on_keypad_pressed(self, event: Keypad.Pressed) -> None:
        self.type_key(event.key)

    def pressed_primary(self) -> None:
        self.submit()

    def action_cancel(self) -> None:
        self.typed = ""
        self.session.finish()

    def pressed_cancel(self) -> None:
        self.action_cancel()
