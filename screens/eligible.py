"""Provides the eligible screen: the child may get an e-card; the guardian consents or leaves."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.session import Step
from screens.base import StepScreen


class EligibleScreen(StepScreen):
    steps = (Step.ELIGIBLE,)
    BINDINGS = [Binding("enter", "consent", "Agree"), Binding("escape", "cancel", "Exit")]

    def body(self) -> ComposeResult:
        yield Static(self.t("eligible.heading"), classes="heading success")
        if self.view.child is not None:
            yield Static(f"{self.view.child.name}  {self.view.child.resident_id}", classes="lead")
        yield Static(self.t("eligible.consent"), classes="consent")
        with Horizontal(classes="buttons"):
            yield Button(self.t("eligible.yes"), id="primary", variant="success", classes="big")
            yield Button(self.t("eligible.no"), id="cancel", classes="big")

    def action_consent(self) -> None:
        self.session.consent()

    def action_cancel(self) -> None:
        self.session.finish()

    def pressed_primary(self) -> None:
        self.action_consent()

    def pressed_cancel(self) -> None:
        self.action_cancel()
