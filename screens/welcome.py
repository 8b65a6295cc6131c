"""Provides the welcome screen: what the kiosk does, what to bring, and how to start."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal
from textual.widgets import Button, Static

from kiosk.session import Action, Step
from screens.art import card_art
from screens.base import StepScreen


class WelcomeScreen(StepScreen):
    steps = (Step.WELCOME,)
    BINDINGS = [Binding("enter", "start", "Start")]

    def body(self) -> ComposeResult:
        yield Static(self.t("welcome.heading"), classes="heading")
        if self.notice_text():
            yield Static(self.notice_text(), classes="notice")
        yield Static(self.t("welcome.lead"), classes="lead")
        yield Static(self.t("welcome.age_note", age=self.view.age_limit), classes="lead")
        yield Center(Static(card_art(self.t("art.card_label")), classes="art"))
        yield Static(self.t("welcome.insert"), classes="instruction")
        if self.allows(Action.START):
            yield Center(Button(self.t("welcome.start"), id="primary", variant="primary", classes="big"))
        options = [
            Button(self.t("welcome.need"), id="help-need", classes="option"),
            Button(self.t("welcome.ways"), id="help-ways", classes="option"),
            Button(self.t("welcome.large_text", state=self._state(self.view.large_text)), id="large-text",
                   classes="option"),
            Button(self.t("welcome.high_contrast", state=self._state(self.view.high_contrast)),
                   id="high-contrast", classes="option"),
        ]
        for option in options:
            # Enter starts, whatever was pressed before it (the button says "(回车)"): Tab then Enter must not
            # open Help instead. The options are touch targets with keys of their own (F1, F4, F5; the other
            # ways are in Help), so the keyboard focus stays on Start.
            option.can_focus = False
        yield Horizontal(*options, classes="buttons", id="welcome-options")

    def _state(self, on: bool) -> str:
        # The state in words and a mark, never by colour alone.
        return self.t("welcome.on") if on else self.t("welcome.off")

    def action_start(self) -> None:
        self.session.begin()

    def pressed_primary(self) -> None:
        self.action_start()

    def pressed_help_need(self) -> None:
        self.kiosk.action_help("need")

    def pressed_help_ways(self) -> None:
        self.kiosk.action_help("ways")

    def pressed_large_text(self) -> None:
        self.kiosk.action_toggle_large_text()

    def pressed_high_contrast(self) -> None:
        self.kiosk.action_toggle_high_contrast()

