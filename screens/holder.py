"""Provides the holder screen: the guardian confirms the card read is their own (masked)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.session import Step
from screens.base import StepScreen
from screens.fields import field_table


class HolderScreen(StepScreen):
    steps = (Step.HOLDER,)
    BINDINGS = [Binding("enter", "confirm", "Yes"), Binding("escape", "cancel", "No")]

    def body(self) -> ComposeResult:
        holder = self.view.holder
        assert holder is not None
        yield Static(self.t("holder.heading"), classes="heading")
        yield field_table([
            (self.t("holder.name"), holder.name),
            (self.t("holder.id"), holder.resident_id),
            (self.t("holder.card"), holder.card_number),
            (self.t("holder.version"), holder.spec_version),
            (self.t("holder.expiry"), holder.expiry.isoformat() if holder.expiry else "—"),
        ])
        with Horizontal(classes="buttons"):
            yield Button(self.t("holder.yes"), id="primary", variant="primary", classes="big")
            yield Button(self.t("holder.no"), id="cancel", classes="big")

    def action_confirm(self) -> None:
        self.session.confirm_holder()

    def action_cancel(self) -> None:
        self.session.finish()

    def pressed_primary(self) -> None:
        self.action_confirm()

    def pressed_cancel(self) -> None:
        self.action_cancel()
