"""Provides the not-eligible screen: each reason in plain words, the rule it rests on, and what to do instead."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from kiosk.session import Action, Step
from screens.base import StepScreen


class NotEligibleScreen(StepScreen):
    steps = (Step.NOT_ELIGIBLE,)
    BINDINGS = [
        Binding("enter", "finish", "Finish"),
        Binding("escape", "finish", "Finish", show=False),
        Binding("f3", "another", "Another child"),
    ]

    def body(self) -> ComposeResult:
        decision = self.view.decision
        assert decision is not None
        lang = self.view.lang
        yield Static(self.t("ineligible.heading"), classes="heading failure")
        next_label, basis_label, colon = self.t("ineligible.next"), self.t("ineligible.basis"), self.t("punct.colon")
        with VerticalScroll(id="reasons"):
            for failure in decision.failures:
                yield Static(f"✗ {failure.reason.get(lang)}", classes="reason")
                yield Static(f"[b]{next_label}{colon}[/b]{failure.next_step.get(lang)}", classes="next-step")
                # Muted by the stylesheet (and not at all in high contrast), never by a dim markup.
                yield Static(f"[b]{basis_label}{colon}[/b]{failure.legal_basis.get(lang)}  ({failure.code})",
                             classes="legal-basis")
        with Horizontal(classes="buttons"):
            yield Button(self.t("ineligible.done"), id="primary", variant="primary", classes="big")
            if self.allows(Action.ANOTHER_CHILD):
                yield Button(self.t("ineligible.another"), id="another", classes="big")

    def action_finish(self) -> None:
        self.session.finish()

    def action_another(self) -> None:
        self.session.another_child()  # refused by the session where the screen shows no such button

    def pressed_primary(self) -> None:
        self.action_finish()

    def pressed_another(self) -> None:
        self.action_another()
