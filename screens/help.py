"""Provides HelpScreen: help over any step (what you need, other ways to apply, this step) that keeps the guardian's place."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Static

from kiosk.eligibility import Region
from kiosk.messages import N_, message
from kiosk.session import SessionView, Step

TOPICS = ("need", "ways", "step")
"""The help's topics, in the order of their tabs (keys 1, 2, 3)."""

TAB_KEYS = {"need": N_("help.tab.need"), "ways": N_("help.tab.ways"), "step": N_("help.tab.step")}


@dataclass(frozen=True)
class StepHelp:
    """The help for one step: its name, what to do now, and the questions people ask there."""

    title: str
    now: str
    questions: tuple[tuple[str, str], ...] = ()


STEP_HELP: dict[Step, StepHelp] = {
    Step.WELCOME: StepHelp(N_("help.step.welcome.title"), N_("help.step.welcome.now")),
    Step.INSERT_CARD: StepHelp(N_("help.step.insert_card.title"), N_("help.step.insert_card.now"), (
        (N_("help.step.insert_card.unreadable.q"), N_("help.step.insert_card.unreadable.a")),
        (N_("help.step.insert_card.which.q"), N_("help.step.insert_card.which.a")),
        (N_("help.step.insert_card.cancel.q"), N_("help.step.insert_card.cancel.a")),
    )),
    Step.READING: StepHelp(N_("help.step.reading.title"), N_("help.step.reading.now"), (
        (N_("help.step.reading.pulled.q"), N_("help.step.reading.pulled.a")),
    )),
    Step.HOLDER: StepHelp(N_("help.step.holder.title"), N_("help.step.holder.now"), (
        (N_("help.step.holder.why.q"), N_("help.step.holder.why.a")),
        (N_("help.step.holder.wrong.q"), N_("help.step.holder.wrong.a")),
    )),
    Step.PIN: StepHelp(N_("help.step.pin.title"), N_("help.step.pin.now"), (
        (N_("help.step.pin.forgot.q"), N_("help.step.pin.forgot.a")),
        (N_("help.step.pin.tries.q"), N_("help.step.pin.tries.a")),
        (N_("help.step.pin.safe.q"), N_("help.step.pin.safe.a")),
    )),
    Step.CHILD_ID: StepHelp(N_("help.step.child_id.title"), N_("help.step.child_id.now"), (
        (N_("help.step.child_id.where.q"), N_("help.step.child_id.where.a")),
        (N_("help.step.child_id.x.q"), N_("help.step.child_id.x.a")),
        (N_("help.step.child_id.pending.q"), N_("help.step.child_id.pending.a")),
    )),
    Step.CHILD_CONFIRM: StepHelp(N_("help.step.child_confirm.title"), N_("help.step.child_confirm.now"), (
        (N_("help.step.child_confirm.hidden.q"), N_("help.step.child_confirm.hidden.a")),
    )),
    Step.ELIGIBLE: StepHelp(N_("help.step.eligible.title"), N_("help.step.eligible.now"), (
        (N_("help.step.eligible.next.q"), N_("help.step.eligible.next.a")),
    )),
    Step.NOT_ELIGIBLE: StepHelp(N_("help.step.not_eligible.title"), N_("help.step.not_eligible.now"), (
        (N_("help.step.not_eligible.meaning.q"), N_("help.step.not_eligible.meaning.a")),
        (N_("help.step.not_eligible.rules.q"), N_("help.step.not_eligible.rules.a")),
        (N_("help.step.not_eligible.another.q"), N_("help.step.not_eligible.another.a")),
    )),
    Step.REGISTERING: StepHelp(N_("help.step.registering.title"), N_("help.step.registering.now")),
    Step.ACTIVATION: StepHelp(N_("help.step.activation.title"), N_("help.step.activation.now"), (
        (N_("help.step.activation.scan.q"), N_("help.step.activation.scan.a")),
        (N_("help.step.activation.later.q"), N_("help.step.activation.later.a")),
        (N_("help.step.activation.expired.q"), N_("help.step.activation.expired.a")),
    )),
    Step.ACTIVATED: StepHelp(N_("help.step.activated.title"), N_("help.step.activated.now"), (
        (N_("help.step.activated.another.q"), N_("help.step.activated.another.a")),
    )),
    Step.TAKE_CARD: StepHelp(N_("help.step.take_card.title"), N_("help.step.take_card.now")),
    Step.ERROR: StepHelp(N_("help.step.error.title"), N_("help.step.error.now"), (
        (N_("help.step.error.stuck.q"), N_("help.step.error.stuck.a")),
    )),
    Step.OUT_OF_SERVICE: StepHelp(N_("help.step.out_of_service.title"), N_("help.step.out_of_service.now"), (
        (N_("help.step.out_of_service.stuck.q"), N_("help.step.out_of_service.stuck.a")),
    )),
}

RULES_ANSWER = N_("help.step.not_eligible.rules.a")
"""The answer that goes on with the conditions in force in this region (below)."""

CONDITIONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("CARD_UNREADABLE", "NOT_SOCIAL_SECURITY_CARD"), N_("help.rule.card")),
    (("CARD_EXPIRED",), N_("help.rule.card_valid")),
    (("CARD_NOT_NORMAL",), N_("help.rule.card_normal")),
    (("PIN_NOT_VERIFIED",), N_("help.rule.pin")),
    (("CHILD_ID_INVALID",), N_("help.rule.child_id")),
    (("CHILD_TOO_OLD",), N_("help.rule.age")),
    (("CHILD_UNKNOWN",), N_("help.rule.child_known")),
    (("NOT_GUARDIAN",), N_("help.rule.guardian")),
    (("CHILD_HAS_ECARD",), N_("help.rule.no_ecard")),
    (("CHILD_SLOTS_FULL",), N_("help.rule.slots")),
    (("PHYSICAL_CARD_REQUIRED",), N_("help.rule.physical")),
)
"""What the kiosk checks, in plain words, by the eligibility rule codes behind each line."""


class HelpScreen(ModalScreen[None]):
    """Help over the current step; it only shows text, so closing it returns to the step exactly as it was.

    Topics: "need" (what to bring), "ways" (other ways to apply: app, website, counter) and "step"
    (what to do on the step underneath, and the questions people ask there). 1/2/3 or Left/Right
    switch topics, Up/Down scroll, Tab moves between buttons; Esc, "Back" or F1 (the app) close it.
    """

    SCOPED_CSS = False  # the rules below also follow the app's large-text and high-contrast classes
    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 70%; }
    HelpScreen #help-box {
        width: 90%; height: 90%; max-width: 150;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { width: 100%; height: 1; text-align: center; text-style: bold; background: $primary; color: $text; }
    HelpScreen #help-return { width: 100%; height: auto; text-align: center; color: $text-muted; }
    HelpScreen #help-tabs { width: 100%; height: 3; }
    HelpScreen #help-tabs Button { width: 1fr; min-width: 0; height: 3; margin: 0 1 0 0; }
    HelpScreen #help-tabs Button.-current { text-style: bold; }
    HelpScreen #help-content { width: 100%; height: 1fr; border: round $primary; padding: 0 1; }
    HelpScreen #help-content > Static { width: 100%; }
    HelpScreen .help-heading { text-style: bold; }
    HelpScreen .help-lead { padding: 1 0 0 0; }
    HelpScreen .help-section { text-style: bold; padding: 1 0 0 0; }
    HelpScreen .help-text { padding: 0 0 0 2; }
    HelpScreen .help-note { padding: 1 0 0 0; text-style: italic; }
    HelpScreen .help-question { text-style: bold; padding: 1 0 0 0; }
    HelpScreen .help-answer { padding: 0 0 0 2; }
    HelpScreen .help-links { width: 100%; height: auto; padding: 1 0 0 0; }
    HelpScreen .help-links Button { height: 3; min-width: 20; margin: 0 2 0 0; }
    HelpScreen #help-footer { width: 100%; height: 3; }
    HelpScreen #help-nav { width: 1fr; height: 3; content-align: left middle; color: $text-muted; }
    HelpScreen #help-back { height: 3; min-width: 16; text-style: bold; }

    KioskApp.large-text HelpScreen #help-box { width: 100%; height: 100%; max-width: 100%; padding: 0 2; }
    KioskApp.large-text HelpScreen .help-answer, KioskApp.large-text HelpScreen .help-text { padding: 0 0 1 2; }
    KioskApp.high-contrast HelpScreen { background: $background; }
    KioskApp.high-contrast HelpScreen #help-box { border: thick $foreground; }
    KioskApp.high-contrast HelpScreen #help-content { border: round $foreground; }
    KioskApp.high-contrast HelpScreen #help-return, KioskApp.high-contrast HelpScreen #help-nav { color: $text; }
    """
    AUTO_FOCUS = "#help-back"
    BINDINGS: ClassVar = [
        Binding("escape", "close", "Back", show=False),
        Binding("1", "topic('need')", show=False),
        Binding("2", "topic('ways')", show=False),
        Binding("3", "topic('step')", show=False),
        Binding("left", "cycle_topic(-1)", show=False),
        Binding("right", "cycle_topic(1)", show=False),
        Binding("up", "scroll_content('up')", show=False),
        Binding("down", "scroll_content('down')", show=False),
        Binding("pageup", "scroll_content('page_up')", show=False),
        Binding("pagedown", "scroll_content('page_down')", show=False),
        Binding("home", "scroll_content('home')", show=False),
        Binding("end", "scroll_content('end')", show=False),
    ]

    def __init__(self, view: SessionView, topic: str) -> None:
        """Args:
            view: the session picture of the step the help stands over (read only).
            topic: "need", "ways" or "step"; on the welcome screen "step" opens "need", its natural first question.
        """
        super().__init__(id="help")
        self.view = view
        if topic not in TOPICS:
            topic = "step"
        if topic == "step" and view.step is Step.WELCOME:
            topic = "need"
        self.topic = topic

    @property
    def lang(self) -> str:
        return self.view.lang

    def t(self, key: str, **values: object) -> str:
        """The text for `key` in the help's language."""
        return message(key, self.lang, **values)

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(self.t("help.title"), id="help-title", markup=False)
            yield Static(self.t("help.return_note"), id="help-return", markup=False)
            with Horizontal(id="help-tabs"):
                for topic in TOPICS:
                    yield Button(self._tab_label(topic), id=f"topic-{topic}",
                                 variant="primary" if topic == self.topic else "default",
                                 classes="-current" if topic == self.topic else "")
            content = VerticalScroll(*self._topic_widgets(), id="help-content")
            content.can_focus = False  # the keys scroll it from anywhere; Tab goes only to buttons
            yield content
            with Horizontal(id="help-footer"):
                yield Static(self.t("help.nav"), id="help-nav", markup=False)
                yield Button(self.t("help.back"), id="help-back", variant="primary")

    def _tab_label(self, topic: str) -> str:
        # The current topic is marked with a filled dot as well as its colour.
        return f"{'●' if topic == self.topic else '○'} {self.t(TAB_KEYS[topic])}"

    def _topic_widgets(self) -> list[Widget]:
        if self.topic == "need":
            return self._need_widgets()
        if self.topic == "ways":
            return self._ways_widgets()
        return self._step_widgets()

    def _text(self, text: str, classes: str) -> Static:
        return Static(text, classes=classes, markup=False)

    def _region(self) -> Region | None:
        """The rules the kiosk applies (read only); None outside a kiosk app."""
        return getattr(getattr(self.app, "session", None), "region", None)

    def _in_force(self, code: str) -> bool:
        region = self._region()
        if region is None:
            return False
        if code == "PHYSICAL_CARD_REQUIRED" and not region.physical_card_required:
            return False
        return region.is_enabled(code)

    def _conditions(self) -> str:
        """The conditions this kiosk checks, one "•" line each, as this region has them."""
        region = self._region()
        if region is None:
            return ""
        values = {"age": region.age_limit, "slots": region.child_slots}
        return "\n".join(self.t(key, **values) for codes, key in CONDITIONS
                         if any(self._in_force(code) for code in codes))

    def _need_widgets(self) -> list[Widget]:
        widgets: list[Widget] = [
            self._text(self.t("help.need.heading"), "help-heading"),
            self._text(self.t("help.need.kiosk"), "help-section"),
            self._text(self.t("help.need.card"), "help-text"),
            self._text(self.t("help.need.pin"), "help-text"),
            self._text(self.t("help.need.child_id"), "help-text"),
            self._text(self.t("help.need.phone"), "help-text"),
        ]
        region = self._region()
        if region is not None and self._in_force("CHILD_TOO_OLD"):
            widgets.append(self._text(self.t("help.need.who", age=region.age_limit), "help-note"))
        widgets += [
            self._text(self.t("help.need.counter"), "help-section"),
            self._text(self.t("help.need.counter_list"), "help-text"),
            self._text(self.t("help.need.counter_note"), "help-note"),
        ]
        if self._in_force("PHYSICAL_CARD_REQUIRED"):
            widgets.append(self._text(self.t("help.need.physical_required"), "help-note"))
        else:
            widgets.append(self._text(self.t("help.need.no_physical"), "help-note"))
        return widgets

    def _ways_widgets(self) -> list[Widget]:
        return [
            self._text(self.t("help.ways.heading"), "help-heading"),
            self._text(self.t("help.ways.lead"), "help-lead"),
            self._text(self.t("help.ways.app.heading"), "help-section"),
            self._text(self.t("help.ways.app.steps"), "help-text"),
            self._text(self.t("help.ways.web.heading"), "help-section"),
            self._text(self.t("help.ways.web.steps"), "help-text"),
            self._text(self.t("help.ways.counter.heading"), "help-section"),
            self._text(self.t("help.ways.counter.where"), "help-text"),
            self._text(self.t("help.ways.counter.bring"), "help-text"),
            self._text(self.t("help.ways.counter.steps"), "help-text"),
            self._text(self.t("help.ways.physical.heading"), "help-section"),
            self._text(self.t("help.ways.physical.text"), "help-text"),
            self._text(self.t("help.ways.note"), "help-note"),
        ]

    def _step_widgets(self) -> list[Widget]:
        help_for = STEP_HELP.get(self.view.step, STEP_HELP[Step.WELCOME])
        widgets: list[Widget] = [
            self._text(self.t("help.step.heading", title=self.t(help_for.title)), "help-heading"),
            self._text(self.t("help.step.now"), "help-section"),
            self._text(self.t(help_for.now), "help-text"),
        ]
        for question, answer in help_for.questions:
            widgets.append(self._text(f"▸ {self.t(question)}", "help-question"))
            answer_text = self.t(answer)
            if answer == RULES_ANSWER:
                answer_text = "\n".join(filter(None, (answer_text, self._conditions())))
            widgets.append(self._text(answer_text, "help-answer"))
        keys = self.t("help.keys.list")
        if getattr(self.app, "repeat_prompt", None) is not None:
            keys += "\n" + self.t("help.keys.repeat")
        widgets += [
            self._text(self.t("help.keys.heading"), "help-question"),
            self._text(keys, "help-answer"),
            Horizontal(
                Button(self.t("help.link.need"), id="link-need"),
                Button(self.t("help.link.ways"), id="link-ways"),
                classes="help-links",
            ),
        ]
        return widgets

    # ----------------------------------------------------------------- topics
    async def show_topic(self, topic: str) -> None:
        """Show `topic`'s text in place; the tabs and whatever has focus stay."""
        if topic not in TOPICS:
            return
        focused = self.focused
        self.topic = topic
        content = self.query_one("#help-content", VerticalScroll)
        async with self.batch():
            await content.remove_children()
            await content.mount_all(self._topic_widgets())
        content.scroll_home(animate=False)
        for name in TOPICS:
            tab = self.query_one(f"#topic-{name}", Button)
            tab.label = self._tab_label(name)
            tab.variant = "primary" if name == topic else "default"
            tab.set_class(name == topic, "-current")
        if focused is None or not focused.is_attached:
            self.query_one(f"#topic-{topic}", Button).focus()  # a link that was pressed is gone

    async def action_topic(self, topic: str) -> None:
        await self.show_topic(topic)

    async def action_cycle_topic(self, step: int) -> None:
        index = (TOPICS.index(self.topic) + step) % len(TOPICS)
        await self.show_topic(TOPICS[index])
        self.query_one(f"#topic-{TOPICS[index]}", Button).focus()

    def action_scroll_content(self, how: str) -> None:
        content = self.query_one("#help-content", VerticalScroll)
        scroll = {
            "up": content.scroll_up, "down": content.scroll_down,
            "page_up": content.scroll_page_up, "page_down": content.scroll_page_down,
            "home": content.scroll_home, "end": content.scroll_end,
        }[how]
        scroll(animate=False)

    async def set_lang(self, lang: str) -> None:
        """Redraw in `lang`, on the same topic, with focus where it was."""
        if lang == self.view.lang:
            return
        focused = self.focused.id if self.focused is not None else None
        self.view = replace(self.view, lang=lang)
        await self.recompose()
        found = self.query(f"#{focused}").results(Widget) if focused else iter(())
        target = next(iter(found), None)
        (target or self.query_one("#help-back", Button)).focus()

    # ----------------------------------------------------------------- input
    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button = event.button.id or ""
        if button == "help-back":
            self.action_close()
        elif button.startswith(("topic-", "link-")):
            await self.show_topic(button.split("-", 1)[1])

    def action_close(self) -> None:
        if self.is_current:
            self.dismiss(None)
