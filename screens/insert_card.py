"""Provides the insert-card screen: how to put the card in the reader."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center
from textual.widgets import Button, Static

from kiosk.session import Step
from screens.base import StepScreen
from screens.art import card_art


class InsertCardScreen(StepScreen):
    steps = (Step.INSERT_CARD,)
    AUTO_FOCUS = "#cancel"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def body(self) -> ComposeResult:
        yield Static(self.t("insert.heading"), classes="heading")
        yield Center(Static(card_art(self.t("art.card_label")), classes="art"))
        yield Static(self.t("insert.how"), classes="instruction")
        yield Center(Button(self.t("insert.cancel"), id="cancel", classes="big"))

    def action_cancel(self) -> None:
        self.session.finish()

    def pressed_cancel(self) -> None:
        self.action_cancel()
