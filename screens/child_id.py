"""Provides the child-ID screen: the number grouped 6-8-4, checked as typed, the wrong character pointed out."""
from __future__ import annotations

from kiosk.messages import N_

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.resident_id import LENGTH as ID_LENGTH
from kiosk.resident_id import check_partial
from kiosk.session import Action, SessionView, Step
from screens.entry import KeyEntryScreen, TouchButton
from screens.widgets.keypad import Keypad

_GROUPS = (6, 14)  # a gap after the area code and after the birth date


# Why an ID number was refused (kiosk.resident_id's reasons), and the words for each.
REASON_KEYS = {
    "length": N_("child.reason.length"), "character": N_("child.reason.character"), "area": N_("child.reason.area"),
    "date": N_("child.reason.date"), "checksum": N_("child.reason.checksum"),
}


class ChildIdScreen(KeyEntryScreen):
    steps = (Step.CHILD_ID,)
    ENTRY_LENGTH = ID_LENGTH
    ENTRY_CHARACTERS = "0123456789X"
    BINDINGS = [Binding("escape", "cancel", "Exit")]

    submitted = ""  # the number last sent to the session (its error, if any, is about that one)

    def body(self) -> ComposeResult:
        yield Static(self.t("child.heading"), classes="heading")
        yield Static(self.t("child.lead"), id="child-lead", classes="lead")
        # Above the entry, not under it: a registration waiting for activation is what this guardian most
        # likely came back for, and below the keypad it would fall off a small screen.
        pending = Vertical(*self._pending_widgets(), id="pending")
        pending.display = bool(self._pending_widgets())
        yield pending
        with Horizontal(classes="entry-row"):
            with Vertical(classes="entry-column"):
                yield Center(Static(self._render_number(), id="child-number", classes="id-number"))
                yield Static(self._feedback(), id="child-feedback", classes="error-text")
                yield Static(self.t("child.count", n=len(self.typed)), id="child-count", classes="lead")
                with Horizontal(classes="buttons"):
                    yield Button(self.t("child.ok"), id="primary", variant="primary", classes="big")
                    yield TouchButton(self.t("child.cancel"), id="cancel", classes="big")
            yield Keypad(with_x=True, delete_label=self.t("keypad.delete"), clear_label=self.t("keypad.clear"))

    def _pending_widgets(self) -> list[Static | Button]:
        if not self.view.pending or not self.allows(Action.RESUME_PENDING):
            return []
        widgets: list[Static | Button] = [Static(self.t("child.pending"))]
        for index, pending in enumerate(self.view.pending):
            widgets.append(Button(self.t("child.resume", name=f"{pending.child_name} {pending.child_id}"),
                                  id=f"resume-{index}", classes="resume"))
        return widgets

    def _bad_position(self) -> int | None:
        # Asked twice per key (the number's marking and the words under it): checked once per entry.
        cached = getattr(self, "_checked", None)
        if cached is None or cached[0] != self.typed:
            cached = self._checked = (self.typed, check_partial(self.typed, today=self.session.clock.now().astimezone().date()))
        return cached[1]

    def _render_number(self) -> Text:
        bad = self._bad_position()
        # Large text spaces every character out (18 characters are read, and checked, one by one).
        gap, group_gap = (" ", "   ") if self.view.large_text else ("", "  ")
        # The wrong character is marked by reverse video and underline, not by its colour alone.
        blank = "" if self.view.high_contrast else "dim"  # high contrast: no dimmed text at all
        text = Text()
        for index in range(ID_LENGTH):
            if index in _GROUPS:
                text.append(group_gap)
            elif index:
                text.append(gap)
            if index < len(self.typed):
                style = "bold reverse underline red" if index == bad else "bold"
                text.append(self.typed[index], style=style)
            else:
                text.append("_", style=blank)
        return text

    def _feedback(self) -> str:
        bad = self._bad_position()
        if bad is not None and bad == ID_LENGTH - 1 and len(self.typed) == ID_LENGTH:
            return self.t("child.reason.checksum")  # every character may be right but one: say so
        if bad is not None:
            return self.t("child.bad_char", pos=bad + 1)
        view = self.view
        # The session's answer is about the number as it was sent: once the guardian changes it, it is gone.
        if view.child_id_error and view.child_id_reason and self.typed == self.submitted:
            return self.t(REASON_KEYS[view.child_id_reason], pos=(view.child_id_error_position or 0) + 1)
        return ""

    def _update(self) -> None:
        # The number keeps its width, and the other lines are redrawn only when their words change: a key costs
        # no layout pass of the whole screen (bench/keys.py).
        self.query_one("#child-number", Static).update(self._render_number(), layout=False)
        for widget_id, text in (("#child-feedback", self._feedback()),
                                ("#child-count", self.t("child.count", n=len(self.typed)))):
            widget = self.query_one(widget_id, Static)
            before = str(widget.content)
            if before != text:
                widget.update(text, layout=len(before) != len(text))  # "5/18" -> "6/18": same line, same size

    async def apply(self, view: SessionView) -> None:
        if view.lang != self.view.lang:
            await super().apply(view)  # self.typed survives: the guardian fixes the number, not retypes it
            self._watch_body()  # a new #body
            return
        old, self.view = self.view, view
        # In place, not recomposed: keys typed meanwhile must not land on widgets being replaced.
        self._update()
        if view.pending != old.pending or view.actions != old.actions:
            pending = self.query_one("#pending", Vertical)
            await pending.remove_children()
            widgets = self._pending_widgets()
            await pending.mount_all(widgets)
            pending.display = bool(widgets)

    def on_mount(self) -> None:
        self._watch_body()

    def _watch_body(self) -> None:
        # Large text on a small terminal, or the waiting registrations arriving above the entry, can push
        # the buttons below the fold: whenever #body's content changes size, scroll them back into view.
        for body in self.query("#body").results(Vertical):
            self.watch(body, "virtual_size", self._keep_buttons_in_view, init=False)

    def _keep_buttons_in_view(self) -> None:
        for primary in self.query("#primary").results(Button):
            primary.scroll_visible(animate=False)

    def entry_changed(self) -> None:
        self._update()

    def submit(self) -> None:
        self.submitted = self.typed
        self.session.submit_child_id(self.typed)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("resume-"):
            event.stop()
            self.session.resume_pending(int(event.button.id.removeprefix("resume-")))
            return
        super().on_button_pressed(event)
