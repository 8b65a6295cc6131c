"""Provides the PIN screen: dots, tries left, a warning before the last try, keypad and keyboard."""
from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.session import SessionView, Step
from screens.base import StepScreen
from screens.widgets.keypad import Keypad

PIN_LENGTH = 6


class PinScreen(StepScreen):
    steps = (Step.PIN,)
    AUTO_FOCUS = "#primary"
    BINDINGS = [Binding("escape", "cancel", "Exit")]

    def __init__(self, view: SessionView) -> None:
        super().__init__(view)
        self._digits = ""  # never shown, never logged; cleared when sent

    def body(self) -> ComposeResult:
        yield Static(self.t("pin.heading"), classes="heading")
        yield Static(self.t("pin.lead"), classes="lead")
        with Horizontal(classes="entry-row"):
            with Vertical(classes="entry-column"):
                yield Center(Static(self._dots(), id="pin-dots", classes="dots"))
                yield Static(self._error_text(), id="pin-error", classes="error-text")
                yield Static(self._tries_text(), id="pin-tries",
                             classes="warning-text" if self.view.pin_tries_left == 1 else "lead")
                with Horizontal(classes="buttons"):
                    yield Button(self.t("pin.ok"), id="primary", variant="primary", classes="big")
                    yield Button(self.t("pin.cancel"), id="cancel", classes="big")
            yield Keypad(with_x=False, delete_label=self.t("keypad.delete"), clear_label=self.t("keypad.clear"))

    def _error_text(self) -> str:
        if self.view.pin_error == "PIN_WRONG":
            return self.t("pin.wrong")
        if self.view.pin_error == "PIN_FORMAT":
            return self.t("pin.format")
        return ""

    def _tries_text(self) -> str:
        tries = self.view.pin_tries_left
        if tries == 1:
            return self.t("pin.last_try")
        if tries is not None:
            return self.t("pin.tries", n=tries)
        return self.t("pin.tries_unknown")

    async def apply(self, view: SessionView) -> None:
        if view.lang != self.view.lang:
            await super().apply(view)  # every text changes; the digits typed so far stay
            return
        self.view = view
        # In place, not recomposed: keys typed meanwhile must not land on widgets being replaced.
        self.query_one("#pin-dots", Static).update(self._dots())
        self.query_one("#pin-error", Static).update(self._error_text())
        tries = self.query_one("#pin-tries", Static)
        tries.update(self._tries_text())
        tries.set_class(view.pin_tries_left == 1, "warning-text")
        tries.set_class(view.pin_tries_left != 1, "lead")

    def _dots(self) -> str:
        return " ".join("●" if i < len(self._digits) else "○" for i in range(PIN_LENGTH))

    def _type(self, key: str) -> None:
        if key == "delete":
            self._digits = self._digits[:-1]
        elif key == "clear":
            self._digits = ""
        elif key.isdigit() and len(self._digits) < PIN_LENGTH:
            self._digits += key
        self.query_one("#pin-dots", Static).update(self._dots())

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            event.stop()
            self._type(event.character)
        elif event.key == "backspace":
            event.stop()
            self._type("delete")
        elif event.key == "enter":
            event.stop()
            self.pressed_primary()

    def on_keypad_pressed(self, event: Keypad.Pressed) -> None:
        self._type(event.key)

    def pressed_primary(self) -> None:
        pin, self._digits = self._digits, ""
        self.query_one("#pin-dots", Static).update(self._dots())
        self.kiosk.run_blocking(self.session.submit_pin, pin)

    def action_cancel(self) -> None:
        self._digits = ""
        self.kiosk.run_blocking(self.session.finish)

    def pressed_cancel(self) -> None:
        self.action_cancel()
