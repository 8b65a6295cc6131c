"""Provides PinPadStatus: the PIN step's words while the PIN is typed on the reader's own PIN pad (waiting, checking)."""
from __future__ import annotations

from textual import events
from textual.widgets import Static

from kiosk.messages import N_, message, plural
from kiosk.session import SessionView

PAD_KEYS = {"enter": "ok", "backspace": "clear", "escape": "cancel"}
"""Keyboard keys -> the simulated PIN pad's keys (besides the digits): Enter is its OK, Backspace its Clear (a pad
has no key that takes back one digit), Esc its Cancel."""


def pad_key(event: events.Key) -> str | None:
    """The simulated PIN pad's key that `event` stands for, or None."""
    character = event.character or ""
    if len(character) == 1 and character.isdigit():
        return character
    return PAD_KEYS.get(event.key)


_STATES = {"waiting": N_("pin.pad.waiting"), "checking": N_("pin.pad.checking"), "again": N_("pin.pad.again")}


class PinPadStatus(Static):
    """Shown instead of the kiosk's keypad while the reader's PIN pad takes the PIN; hidden otherwise."""

    def __init__(self, view: SessionView) -> None:
        super().__init__(self.text_for(view), id="pin-pad", classes="lead")
        self.display = view.pin_pad is not None
        self.set_class(view.pin_tries_left == 1, "warning-text")

    @staticmethod
    def text_for(view: SessionView) -> str:
        if view.pin_pad is None:
            return ""
        lang = view.lang
        lines = [message("pin.pad.heading", lang), message(_STATES[view.pin_pad], lang)]
        if view.pin_error == "PIN_WRONG":
            lines.append(message("pin.wrong", lang))
        elif view.pin_error == "PIN_PAD_CANCELLED":
            lines.append(message("err.PIN_PAD_CANCELLED", lang))
        # The tries left, and the warning before the last one, as on the kiosk's keypad.
        tries = view.pin_tries_left
        if tries == 1:
            lines.append(message("pin.last_try", lang))
        elif tries is not None:
            lines.append(plural("pin.tries", tries, lang))
        return "\n".join(lines)

    def show(self, view: SessionView) -> None:
        self.update(self.text_for(view))
        self.display = view.pin_pad is not None
        self.set_class(view.pin_tries_left == 1, "warning-text")
