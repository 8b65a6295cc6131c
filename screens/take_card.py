"""Provides the take-your-card screen; it gives way to the welcome screen when the card leaves."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center
from textual.widgets import Static

from kiosk.session import Step
from screens.base import StepScreen
from screens.art import card_art


class TakeCardScreen(StepScreen):
    steps = (Step.TAKE_CARD,)
    AUTO_FOCUS = ""  # nothing to focus (None would inherit the app's "*" and focus the first button)

    def body(self) -> ComposeResult:
        yield Static(self.t("takecard.heading"), classes="heading")
        if self.notice_text():
            yield Static(self.notice_text(), classes="notice")
        yield Center(Static(card_art(self.t("art.card_label"), arrow="↑"), classes="art"))
        yield Static(self.t("takecard.lead"), classes="lead")
