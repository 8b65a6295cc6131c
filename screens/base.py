"""Provides StepScreen: the frame every guardian screen shares (title, language, step indicator, key hints)."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

from kiosk.messages import N_, message, plural
from kiosk.session import Action, KioskSession, SessionView, Step
from screens.widgets.steps import StepIndicator

if TYPE_CHECKING:
    from screens.app import KioskApp


NOTICE_KEYS = {
    "CARD_REMOVED": N_("notice.CARD_REMOVED"),
    "SESSION_TIMEOUT": N_("notice.SESSION_TIMEOUT"),
    "READER_LOST": N_("notice.READER_LOST"),
    "READER_UNAVAILABLE": N_("notice.READER_UNAVAILABLE"),
}
"""Why the last visit ended (`SessionView.notice`), and the words for each."""


class StepScreen(Screen):
    """A screen that presents one step of the session; it holds no rule, only forwards input."""

    steps: ClassVar[tuple[Step, ...]] = ()
    KEPT: ClassVar[bool] = False
    """Made once per app and kept (installed) for the visits after: shown again, it is neither composed nor styled
    anew (bench/keys.py). Its `reuse` shows a new visit's view, its `forget` wipes a visit off it when that ends."""
    AUTO_FOCUS = "#primary"
    BINDINGS: ClassVar = [
        Binding("f2", "app.toggle_language", "中文/English", show=False, priority=True),
    ]

    def __init__(self, view: SessionView) -> None:
        super().__init__(classes=f"step-{view.step.value}")
        self.view = view
        self._shown = False
        self._reused = False
        self.holds_visit = True
        """A kept screen: False once it has forgotten the last visit (`forget`), True again when reused."""
        self._styled_for: tuple[object, ...] | None = None

    def _style_key(self) -> tuple[object, ...]:
        """What the screen's styles depend on besides its widgets: the app's classes (large text, high contrast,
        narrow), the screen's own (-short, -tall) and the theme."""
        suspended = self.app.SUSPENDED_SCREEN_CLASS
        return (frozenset(self.app.classes), frozenset(self.classes) - {suspended}, self.app.theme)

    def _on_screen_suspend(self) -> None:
        self._styled_for = self._style_key()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Shown for the first time, every widget was styled as it was mounted: Textual's resume would match them all
        # against the stylesheet once more (bench/keys.py). So for a kept screen shown again for a new visit, when
        # nothing its styles depend on changed meanwhile. Other resumes (help or the idle warning closed) refresh.
        reused, self._reused = self._reused, False
        if not self._shown or (reused and self._styled_for == self._style_key()):
            self._shown = True
            event.refresh_styles = False

    def become_first_screen(self) -> None:
        """This screen is the app's first (`KioskApp.get_default_screen`): never pushed, it is given the result
        callback a push gives a screen, which `switch_screen` takes back when it replaces it (Textual's default
        screen has none, and switching away from it fails with an IndexError)."""
        self._push_result_callback(self, None)  # as switch_screen does for the screen it puts up

    @property
    def kiosk(self) -> "KioskApp":
        return self.app  # type: ignore[return-value]

    @property
    def session(self) -> KioskSession:
        return self.kiosk.session

    def allows(self, action: Action) -> bool:
        """True when the session takes `action` now: a screen shows a button (or honours a key) only for those."""
        return self.view.allows(action)

    def t(self, key: str, **values: object) -> str:
        """The text for `key` in the session's language."""
        return message(key, self.view.lang, **values)

    def tn(self, key: str, count: int, **values: object) -> str:
        """The text for `key` in the plural form `count` takes in the session's language (`{n}` is `count`)."""
        return plural(key, count, self.view.lang, **values)

    def compose(self) -> ComposeResult:
        with Horizontal(id="topbar"):
            yield Static(self.t("app.title"), id="title")
            yield StepIndicator(self.view.stage, self.view.lang)
            language = Button(self.t("app.language_button"), id="language", classes="language")
            language.can_focus = False
            yield language
        with Vertical(id="body"):
            yield from self.body()
        with Horizontal(id="hintbar"):
            yield Static(self.t("app.help_hint"), classes="hint")
            yield Static(self.t("app.language_hint"), classes="hint")
            if self.kiosk.repeat_prompt is not None:
                yield Static(self.t("app.repeat_hint"), classes="hint")
            if self.kiosk.tester_panel_enabled:
                yield Static(self.t("app.tester_hint"), classes="hint")

    def notice_text(self) -> str:
        """Why the last visit ended, in words ("" when it just ended)."""
        notice = self.view.notice
        return self.t(NOTICE_KEYS.get(notice, "notice.READER_UNAVAILABLE")) if notice in NOTICE_KEYS else ""

    def body(self) -> ComposeResult:
        """The step's own content."""
        yield from ()

    async def reuse(self, view: SessionView) -> None:
        """A kept screen (`KEPT`), about to be shown again: show `view`, a new visit's."""
        self._reused = True
        self.holds_visit = True
        await self.apply(view)
        self._focus_default()

    async def forget(self, view: SessionView) -> None:
        """A kept screen, not on show: the visit it showed has ended (`view` is the one after, with no visit in it).
        Nothing the guardian typed or was shown may stay on it."""
        self.holds_visit = False
        await self.apply(view)

    async def apply(self, view: SessionView) -> None:
        """Show a newer picture of the same step (or the same step in another language)."""
        self.view = view
        await self.recompose()
        self._focus_default()

    def _focus_default(self) -> None:
        """After a rebuild (language or display switched), focus what the screen focuses when it opens."""
        if self.AUTO_FOCUS:
            target = next(iter(self.query(self.AUTO_FOCUS)), None)
            if target is not None and target.focusable:
                target.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "language":
            event.stop()
            self.kiosk.action_toggle_language()
            return
        handler = getattr(self, f"pressed_{(event.button.id or '').replace('-', '_')}", None)
        if handler is not None:
            event.stop()
            handler()
