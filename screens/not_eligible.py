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
        # Reasons longer than the box (two or more at 80x24, or large text) are read by keys as well as by
        # touch: the box scrolls whichever button has the focus.
        Binding("down", "scroll_reasons('down')", show=False),
        Binding("up", "scroll_reasons('up')", show=False),
        Binding("pagedown", "scroll_reasons('page_down')", show=False),
        Binding("pageup", "scroll_reasons('page_up')", show=False),
        Binding("end", "scroll_reasons('end')", show=False),
        Binding("home", "scroll_reasons('home')", show=False),
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
        # Said in words, not left to a scroll bar: the guardian must not miss a reason below the box's edge.
        more = Static(self.t("ineligible.more"), id="reasons-more", classes="more-below")
        more.display = False
        yield more
        with Horizontal(classes="buttons"):
            yield Button(self.t("ineligible.done"), id="primary", variant="primary", classes="big")
            if self.allows(Action.ANOTHER_CHILD):
                yield Button(self.t("ineligible.another"), id="another", classes="big")

    def on_mount(self) -> None:
        self._watch_reasons()

    async def apply(self, view) -> None:
        await super().apply(view)
        self._watch_reasons()  # a new box after a language switch

    def _watch_reasons(self) -> None:
        reasons = self.query_one("#reasons", VerticalScroll)
        self.watch(reasons, "scroll_y", self._show_more_hint, init=False)
        self.watch(reasons, "virtual_size", self._show_more_hint, init=False)
        self.call_after_refresh(self._show_more_hint)

    def _show_more_hint(self) -> None:
        reasons = self.query_one("#reasons", VerticalScroll)
        self.query_one("#reasons-more", Static).display = reasons.scroll_y < reasons.max_scroll_y

    def action_scroll_reasons(self, how: str) -> None:
        reasons = self.query_one("#reasons", VerticalScroll)
        {"down": reasons.scroll_down, "up": reasons.scroll_up, "page_down": reasons.scroll_page_down,
         "page_up": reasons.scroll_page_up, "end": reasons.scroll_end, "home": reasons.scroll_home}[how](animate=False)

    def action_finish(self) -> None:
        self.session.finish()

    def action_another(self) -> None:
        self.session.another_child()  # refused by the session where the screen shows no such button

    def pressed_primary(self) -> None:
        self.action_finish()

    def pressed_another(self) -> None:
        self.action_another()
