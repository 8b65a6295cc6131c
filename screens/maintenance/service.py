"""Provides the Service page: out of service with a message for the guardians, back in service, and exiting the kiosk program."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Static

from kiosk.errors import CATALOGUE
from kiosk.maintenance import ServiceState
from kiosk.messages import N_
from screens.maintenance.confirm import ConfirmDialog
from screens.maintenance.page import ConsolePage


class ServicePage(ConsolePage, can_focus=False):
    """Type the guardians' message and press Enter (or the button) to take the kiosk out of service.

    The page itself is no stop for Tab (it fits without scrolling): Tab goes message -> buttons -> tabs ->
    message, and the page opens with the cursor in the message field, so that typed text lands there instead
    of being taken for page keys ("14:00" would switch to pages 1 and 4)."""

    def compose(self) -> ComposeResult:
        yield Static(self.t("maint.service.heading"), classes="page-heading")
        yield Static("", id="service-state", markup=False)
        yield Static(self.t("maint.service.message_label"))
        yield Input(placeholder=self.t("maint.service.message_placeholder"), id="service-message", max_length=200)
        with Horizontal(classes="page-buttons"):
            yield Button(self.t("maint.service.off"), id="service-off", variant="warning")
            yield Button(self.t("maint.service.on"), id="service-on", variant="success")
        yield Static(self.t("maint.service.exit_lead"), classes="page-subheading")
        with Horizontal(classes="page-buttons"):
            yield Button(self.t("maint.service.exit"), id="exit-kiosk", variant="error")
        yield from self.status_lines()

    def load(self) -> None:
        self.show_state(self.mode.service_state())  # the session's picture: no I/O

    def show_state(self, state: ServiceState) -> None:
        if state.out_of_service:
            lines = [self.t("maint.service.state_off", message=state.message or "-")]
        else:
            lines = [self.t("maint.service.state_on")]
        for reason in state.other_reasons:
            entry = CATALOGUE.get(reason, CATALOGUE["OUT_OF_SERVICE"])
            lines.append(self.t("maint.service.other_reason", code=reason, text=entry.text.get(self.lang)))
        self.query_one("#service-state", Static).update("\n".join(lines))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "service-message":
            self.take_out()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "service-off":
            self.take_out()
        elif event.button.id == "service-on":
            self.run_io(self.mode.put_back_in_service, lambda _: self.changed(N_("maint.service.done_on")))
        elif event.button.id == "exit-kiosk":
            self.ask_exit()

    def take_out(self) -> None:
        message = self.query_one("#service-message", Input).value
        if not message.strip():
            self.report(self.t("maint.service.message_missing"), failure=True)
            return
        self.run_io(lambda: self.mode.take_out_of_service(message), lambda _: self.changed(N_("maint.service.done_off")))

    def changed(self, key: str) -> None:
        self.load()
        self.report(self.t(key))

    def ask_exit(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_io(self.mode.exit_kiosk, lambda _: self.kiosk.exit())

        self.app.push_screen(ConfirmDialog(self.t("maint.service.exit_question"), self.lang), callback=answered)
