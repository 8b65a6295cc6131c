"""Provides the PIN screen: dots, tries left, a warning before the last try, keypad and keyboard."""
from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.domain import PIN_LENGTH
from kiosk.session import SessionView, Step
from screens.entry import KeyEntryScreen, TouchButton
from screens.widgets.keypad import Keypad
from screens.widgets.pin_pad import PinPadStatus, pad_key


class PinScreen(KeyEntryScreen):
    steps = (Step.PIN,)
    KEPT = True  # the step change after the holder's (issue 14): the keypad's twelve keys are not made anew each visit
    ENTRY_LENGTH = PIN_LENGTH  # the PIN is never shown (dots) nor logged, and cleared when sent
    AUTO_FOCUS = "#primary"
    BINDINGS = [Binding("escape", "cancel", "Exit")]

    def body(self) -> ComposeResult:
        yield Static(self.t("pin.heading"), classes="heading")
        yield Static(self.t("pin.lead"), classes="lead")
        yield PinPadStatus(self.view)
        with Horizontal(classes="entry-row"):
            with Vertical(classes="entry-column"):
                yield Center(Static(self._dots(), id="pin-dots", classes="dots"))
                yield Static(self._error_text(), id="pin-error", classes="error-text")
                yield Static(self._tries_text(), id="pin-tries",
                             classes="warning-text" if self.view.pin_tries_left == 1 else "lead")
                with Horizontal(classes="buttons"):
                    yield Button(self.t("pin.ok"), id="primary", variant="primary", classes="big")
                    yield TouchButton(self.t("pin.cancel"), id="cancel", classes="big")
            yield Keypad(with_x=False, delete_label=self.t("keypad.delete"), clear_label=self.t("keypad.clear"),
                         shuffled=self.kiosk.keypad_shuffled)

    def _error_text(self) -> str:
        if self.typed:
            return ""  # the error was about the last entry: the guardian is typing the next one
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
            return self.tn("pin.tries", tries)
        return self.t("pin.tries_unknown")

    async def apply(self, view: SessionView) -> None:
        if view.lang != self.view.lang:
            await super().apply(view)  # every text changes; the digits typed so far stay
            return
        wrong_again = view.pin_error == "PIN_WRONG" and (
            self.view.pin_error != "PIN_WRONG" or view.pin_tries_left != self.view.pin_tries_left)
        self.view = view
        if wrong_again:
            await self.query_one(Keypad).shuffle()  # a new order for the next try
        # In place, not recomposed: keys typed meanwhile must not land on widgets being replaced.
        self.query_one("#pin-dots", Static).update(self._dots())
        self.query_one("#pin-error", Static).update(self._error_text())
        tries = self.query_one("#pin-tries", Static)
        tries.update(self._tries_text())
        tries.set_class(view.pin_tries_left == 1, "warning-text")
        tries.set_class(view.pin_tries_left != 1, "lead")
        self._show_pin_pad(view)

    def on_mount(self) -> None:
        self._show_pin_pad(self.view)

    async def reuse(self, view: SessionView) -> None:
        self.typed = ""
        await self.query_one(Keypad).shuffle()  # a new visit, a new order (shuffled keypads only)
        await super().reuse(view)

    async def forget(self, view: SessionView) -> None:
        self.typed = ""
        await super().forget(view)  # the dots empty, no tries nor error of the card that went

    def on_key(self, event: events.Key) -> None:
        # While the simulated reader's pad waits, the keyboard stands in for its keys (a tester's hands on it);
        # a real pad's keys never come through the terminal, and without a waiting pad the keys are the kiosk's.
        pad = self.kiosk.simulated_pin_pad
        key = pad_key(event)
        if key is not None and pad is not None and self.view.pin_pad == "waiting" and pad.active:
            event.stop()
            event.prevent_default()  # KeyEntryScreen.on_key (Textual calls each class's handler) is skipped
            pad.press(key)

    def _show_pin_pad(self, view: SessionView) -> None:
        # The reader's own pad takes the PIN: no dots nor keypad here; its words say what to do (OK stays).
        self.query_one(PinPadStatus).show(view)
        on_kiosk = view.pin_pad is None
        for widget in self.query("#pin-dots, #pin-error, #pin-tries, Keypad"):
            widget.display = on_kiosk

    def _dots(self) -> str:
        return " ".join("●" if i < len(self.typed) else "○" for i in range(PIN_LENGTH))

    def entry_changed(self) -> None:
        # The dots keep their width: no layout pass for a key (bench/keys.py); the error line only when its words change.
        self.query_one("#pin-dots", Static).update(self._dots(), layout=False)
        error = self.query_one("#pin-error", Static)
        if str(error.content) != self._error_text():
            error.update(self._error_text())

    def submit(self) -> None:
        pin, self.typed = self.typed, ""  # the PIN leaves the screen as it is sent
        self.entry_changed()
        self.session.submit_pin(pin)
