"""Provides the activated screen: the kiosk saw the activation land."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.session import Action, Step
from screens.base import StepScreen


class ActivatedScreen(StepScreen):
    steps = (Step.ACTIVATED,)
    BINDINGS = [Binding("enter", "done", "Done"), Binding("f3", "another", "Another child")]

    def body(self) -> ComposeResult:
        yield Static(self.t("activated.heading"), classes="heading success")
        yield Static(self.t("activated.lead"), classes="lead")
        with Horizontal(classes="buttons"):
            yield Button(self.t("activated.done"), id="primary", variant="primary", classes="big")
            if self.allows(Action.ANOTHER_CHILD):
                yield Button(self.t("activated.another"), id="another", classes="big")

    def action_done(self) -> None:
        self.session.finish()

    def action_another(self) -> None:
        self.session.another_child()

    def pressed_primary(self) -> None:
        self.action_done()

    def pressed_another(self) -> None:
        self.action_another()
