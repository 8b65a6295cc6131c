"""Provides the child-confirm screen: the child on record (masked) before the decision."""
from __future__ import annotations

from kiosk.messages import N_

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.session import Action, Step
from screens.base import StepScreen
from screens.fields import field_table


SEX_KEYS = {"1": N_("sex.1"), "2": N_("sex.2")}
RELATIONSHIP_KEYS = {"father": N_("relationship.father"), "mother": N_("relationship.mother"),
                     "guardian": N_("relationship.guardian")}

class ChildConfirmScreen(StepScreen):
    steps = (Step.CHILD_CONFIRM,)
    BINDINGS = [Binding("enter", "confirm", "Confirm"), Binding("escape", "retype", "Type again")]

    def body(self) -> ComposeResult:
        child = self.view.child
        assert child is not None
        yield Static(self.t("confirm.heading"), classes="heading")
        yield field_table([
            (self.t("confirm.name"), child.name),
            (self.t("confirm.id"), child.resident_id),
            (self.t("confirm.age"), self.t("confirm.age_value", age=child.age)),
            (self.t("confirm.sex"), self.t(SEX_KEYS.get(child.sex, SEX_KEYS["1"]))),
            (self.t("confirm.relationship"), self.t(RELATIONSHIP_KEYS.get(child.relationship or "guardian", RELATIONSHIP_KEYS["guardian"]))),
        ])
        with Horizontal(classes="buttons"):
            yield Button(self.t("confirm.yes"), id="primary", variant="primary", classes="big")
            if self.allows(Action.ANOTHER_CHILD):
                yield Button(self.t("confirm.no"), id="retype", classes="big")

    def action_confirm(self) -> None:
        self.session.confirm_child()

    def action_retype(self) -> None:
        self.session.another_child()

    def pressed_primary(self) -> None:
        self.action_confirm()

    def pressed_retype(self) -> None:
        self.action_retype()
