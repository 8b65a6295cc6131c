"""Provides the child-pick screen: the guardian's children on record, each picked with one key or tap (after the PIN).

Digit keys 1..9 pick the child with that number, the arrows move between the rows and Enter takes
the one highlighted; 0 opens the typed entry of an ID number for a child who is not listed. The
list holds masked data only, and exists only once the PIN is verified (the session asks for it then).
"""
from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.messages import N_
from kiosk.session import Action, SessionView, Step
from kiosk.session.view import ChildChoice
from screens.base import StepScreen

ECARD_KEYS = {None: N_("pick.ecard.none"), "pending": N_("pick.ecard.pending"), "active": N_("pick.ecard.active")}
"""The e-card state of a listed child (`ChildChoice.ecard`), and the words for each."""

MAX_LISTED = 9
"""One digit key per child; a guardian with more types the ID number of the others."""


class ChildPickScreen(StepScreen):
    steps = (Step.CHILD_ID,)
    AUTO_FOCUS = "#pick-0"
    BINDINGS = [
        Binding("escape", "cancel", "Exit"),
        Binding("down", "app.focus_next", "Next", show=False),
        Binding("up", "app.focus_previous", "Previous", show=False),
    ]

    def body(self) -> ComposeResult:
        yield Static(self.t("pick.heading"), classes="heading")
        children = self.view.children
        if children is None:
            yield Static(self.t("pick.looking"), id="pick-looking", classes="lead")
        else:
            yield Static(self.t("pick.lead"), id="pick-lead", classes="lead")
        with Vertical(id="pick-list"):
            for index, child in enumerate((children or ())[:MAX_LISTED]):
                yield Button(self._label(index, child), id=f"pick-{index}", classes="big pick")
            yield Button(self.t("pick.type"), id="type-child", classes="big pick")
        with Horizontal(classes="buttons"):
            yield Button(self.t("pick.cancel"), id="cancel", classes="big")

    def _label(self, index: int, child: ChildChoice) -> str:
        return self.t("pick.row", n=index + 1, name=child.name, year=child.birth_year,
                      ecard=self.t(ECARD_KEYS.get(child.ecard, ECARD_KEYS[None])))

    async def apply(self, view: SessionView) -> None:
        listed = view.children != self.view.children or view.lang != self.view.lang
        self.view = view
        if listed:
            await self.recompose()
            self._focus_default()

    def on_key(self, event: events.Key) -> None:
        character = event.character or ""
        if character == "0":
            event.stop()
            self.pressed_type_child()
        elif character.isdigit():
            event.stop()
            self.pick(int(character) - 1)

    def pick(self, index: int) -> None:
        children = self.view.children or ()
        if index < min(len(children), MAX_LISTED) and self.allows(Action.PICK_CHILD):
            self.session.pick_child(index)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        if button.startswith("pick-"):
            event.stop()
            self.pick(int(button.removeprefix("pick-")))
            return
        super().on_button_pressed(event)

    def pressed_type_child(self) -> None:
        # Also while the list is still on its way: the guardian need not wait for it to type a number.
        if self.allows(Action.TYPE_CHILD):
            self.session.type_child()

    def action_cancel(self) -> None:
        self.session.finish()

    def pressed_cancel(self) -> None:
        self.action_cancel()
