"""Provides ConfirmDialog: yes or no before a destructive maintenance action (cancel, purge, exit)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kiosk.messages import message


class ConfirmDialog(ModalScreen[bool]):
    """A question with "yes" and "no"; No has the focus, Y or Enter on Yes confirms, N or Esc declines."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; background: $background 60%; }
    #confirm-box { width: 70; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    #confirm-box > Static { width: 100%; padding: 0 0 1 0; }
    #confirm-box Horizontal { height: auto; align-horizontal: center; }
    #confirm-box Button { margin: 0 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n,escape", "answer(False)", "No", show=False),
    ]
    AUTO_FOCUS = "#confirm-no"

    def __init__(self, question: str, lang: str) -> None:
        super().__init__(id="confirm-dialog")
        self.question = question
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question", markup=False)
            yield Static(message("maint.confirm.keys", self.lang), classes="dim-text")
            with Horizontal():
                yield Button(message("maint.confirm.yes", self.lang), id="confirm-yes", variant="error")
                yield Button(message("maint.confirm.no", self.lang), id="confirm-no", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
