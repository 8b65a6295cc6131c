"""Provides the tester panel (F9, simulated mode only): insert and remove virtual cards, or exit."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, ListItem, ListView, Static

from kiosk.messages import message
from kiosk.ports import TesterBench


class TesterPanel(ModalScreen[str | None]):
    """Pick a virtual card profile and insert it; R removes the card; Esc closes."""

    BINDINGS = [
        Binding("escape", "dismiss_panel", "Close"),
        Binding("r", "remove", "Remove card"),
        Binding("q", "exit_kiosk", "Exit the kiosk program"),
    ]

    def __init__(self, bench: TesterBench, lang: str) -> None:
        super().__init__()
        self.bench = bench
        self.lang = lang
        self.choices = bench.choices()

    def t(self, key: str, **values: object) -> str:
        return message(key, self.lang, **values)

    def compose(self) -> ComposeResult:
        inserted = self.bench.inserted()
        with Vertical(id="tester-panel"):
            yield Static(self.t("tester.heading"), classes="heading")
            yield Static(self.t("tester.in_reader", name=inserted) if inserted else self.t("tester.empty"))
            yield ListView(
                *[
                    ListItem(
                        Label(f"{choice.label.get(self.lang)}  [dim]({choice.name})[/]\n  {choice.description.get(self.lang)}"),
                        name=choice.name,
                    )
                    for choice in self.choices
                ],
                id="profiles",
            )
            with Horizontal(classes="buttons"):
                yield Button(self.t("tester.remove"), id="remove")
                yield Button(self.t("tester.close"), id="close")
                yield Button(self.t("tester.exit"), id="exit", variant="error")

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        assert event.item.name is not None
        self.bench.insert(event.item.name)
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "remove":
            self.action_remove()
        elif event.button.id == "exit":
            self.dismiss("exit")
        else:
            self.dismiss(None)

    def action_remove(self) -> None:
        self.bench.remove()
        self.dismiss(None)

    def action_exit_kiosk(self) -> None:
        self.dismiss("exit")

    def action_dismiss_panel(self) -> None:
        self.dismiss(None)
