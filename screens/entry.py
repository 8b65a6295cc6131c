"""Provides KeyEntryScreen: a step screen that takes typed characters from a keyboard, a physical keypad or touch."""
from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.widgets import Button

from kiosk.session import SessionView
from screens.base import StepScreen
from screens.widgets.keypad import Keypad


class TouchButton(Button, can_focus=False):
    """A button for touch whose key is in its label ("退出 (Esc)"): Tab passes it by, so that Tab then Enter
    reaches what Tab is for (a waiting registration) and never leaves the visit by mistake."""


class KeyEntryScreen(StepScreen):
    """Keeps what the guardian typed in `typed`; Enter submits (or presses the button Tab moved to), Backspace
    deletes, Esc leaves (its button takes no focus, so Tab then Enter never leaves by mistake).

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
            focused = self.focused
            if isinstance(focused, Button) and focused.id != "primary":
                return  # the guardian moved the focus to that button (Tab): Enter presses it
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
