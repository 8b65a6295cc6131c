"""Provides the take-your-card screen; it gives way to the welcome screen when the card leaves."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from kiosk.session import Step
from screens.base import StepScreen
from screens.welcome import _CARD_ART


class TakeCardScreen(StepScreen):
    steps = (Step.TAKE_CARD,)
    AUTO_FOCUS = None

    def body(self) -> ComposeResult:
        yield Static(self.t("takecard.heading"), classes="heading")
        if self.view.notice:
            yield Static(self.t(f"notice.{self.view.notice}"), classes="notice")
        yield Static(_CARD_ART, classes="art")
        yield Static(self.t("takecard.lead"), classes="lead")
