"""Provides the error screen: a catalogued failure in plain words, what to do next, and its code."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal
from textual.widgets import Button, Static

from kiosk.errors import CATALOGUE
from kiosk.session import Action, Step
from screens.base import StepScreen
from screens.fields import field_table


class ErrorScreen(StepScreen):
    steps = (Step.ERROR,)
    BINDINGS = [Binding("enter", "primary", "OK"), Binding("escape", "ok", "OK", show=False)]

    def body(self) -> ComposeResult:
        entry = CATALOGUE[self.view.error or "INTERNAL"]
        lang = self.view.lang
        yield Static("✗ " + self.t("error.heading"), classes="heading failure")  # the mark, not only the red
        yield Static(f"✗ {entry.text.get(lang)}", classes="reason")
        card = self.view.card
        if card is not None and self.view.holder is None:
            # What the card did let us read (issuer data), so the guardian sees it was read at all.
            yield field_table([
                (self.t("holder.card"), card.card_number),
                (self.t("holder.version"), card.spec_version),
                (self.t("holder.expiry"), card.expiry.isoformat() if card.expiry else "—"),
                (self.t("error.area"), card.area_code),
            ])
        next_label, code_label, colon = self.t("error.next"), self.t("error.code"), self.t("punct.colon")
        yield Static(f"[b]{next_label}{colon}[/b]{entry.next_step.get(lang)}", classes="next-step")
        if entry.basis is not None:  # the rule or procedure behind a refusal the guardian cannot get past here
            yield Static(f"[b]{self.t('ineligible.basis')}{colon}[/b]{entry.basis.get(lang)}", classes="legal-basis")
        yield Static(f"{code_label}{colon}{entry.code}", classes="error-code")
        if self.allows(Action.RETRY):  # the error may go away and the card is still in: read it again
            with Horizontal(classes="buttons"):
                yield Button(self.t("error.retry"), id="primary", variant="primary", classes="big")
                yield Button(self.t("error.finish"), id="finish", classes="big")
        else:
            yield Center(Button(self.t("error.ok"), id="primary", variant="primary", classes="big"))

    def action_primary(self) -> None:
        if self.allows(Action.RETRY):
            self.session.retry()
        else:
            self.action_ok()

    def action_ok(self) -> None:
        self.session.finish()

    def pressed_primary(self) -> None:
        self.action_primary()

    def pressed_finish(self) -> None:
        self.action_ok()
