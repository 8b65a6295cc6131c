"""Provides TimeoutWarning: the idle warning over the guardian's step, with one key or tap for more time."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kiosk.messages import message


class TimeoutWarning(ModalScreen[bool]):
    """"Do you need more time?" with the seconds left; any key or tap gives more time (dismisses with True).

    The step underneath keeps everything typed so far. The app updates the seconds every tick and
    dismisses the warning itself (with False) when the session ends or moves on.
    """

    DEFAULT_CSS = """
    TimeoutWarning { align: center middle; background: $background 60%; }
    #timeout-box { width: 64; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    #timeout-box > Static { width: 100%; text-align: center; padding: 0 0 1 0; }
    #timeout-heading { text-style: bold; }
    #timeout-seconds { text-style: bold; color: $warning; }
    #timeout-box Button { width: 100%; height: 3; text-style: bold; }
    """
    BINDINGS = [
        Binding("enter,space", "more_time", "More time", show=False),
    ]

    def __init__(self, lang: str, seconds_left: float) -> None:
        super().__init__(id="timeout-warning")
        self.lang = lang
        self.seconds_left = seconds_left

    def t(self, key: str, **values: object) -> str:
        return message(key, self.lang, **values)

    def compose(self) -> ComposeResult:
        with Vertical(id="timeout-box"):
            yield Static("⏱ " + self.t("timeout.heading"), id="timeout-heading")
            yield Static(self._seconds_text(), id="timeout-seconds")
            yield Static(self.t("timeout.lead"))
            yield Button(self.t("timeout.more"), id="more-time", variant="warning")

    def _seconds_text(self) -> str:
        return self.t("timeout.seconds", seconds=max(0, int(self.seconds_left + 0.999)))

    def update_seconds(self, seconds_left: float) -> None:
        self.seconds_left = seconds_left
        found = next(self.query("#timeout-seconds").results(Static), None)
        if found is not None:
            found.update(self._seconds_text())

    def on_key(self, event) -> None:  # noqa: ANN001 - any other key is a "more time" too
        event.stop()
        event.prevent_default()
        self.action_more_time()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_more_time()

    def on_click(self) -> None:
        self.action_more_time()

    def action_more_time(self) -> None:
        if self.is_current:
            self.dismiss(True)
