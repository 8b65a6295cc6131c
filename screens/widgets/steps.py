"""Provides StepIndicator: where the guardian is in the five stages, by number, mark and (only then) colour."""
from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static

from kiosk.messages import N_, message
from kiosk.session import STAGES


STAGE_KEYS = {
    "card": N_("stage.card"), "pin": N_("stage.pin"), "child": N_("stage.child"),
    "check": N_("stage.check"), "activate": N_("stage.activate"),
}


class StepIndicator(Static):
    """`✓ 插卡 › ▶ 2 密码 ◀ › 3 孩子 ...`: done stages carry ✓, the current one ▶ ◀ and reverse video, the
    rest their number. Colours come from the stylesheet's component classes, so the themes restyle them."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "step-indicator--done", "step-indicator--current", "step-indicator--todo", "step-indicator--separator",
    }
    DEFAULT_CSS = """
    StepIndicator { width: 1fr; height: 1; content-align: center middle; text-align: center; }
    """

    def __init__(self, stage: int | None, lang: str) -> None:
        super().__init__()
        self.stage = stage
        self.lang = lang

    def render(self) -> Text:
        text = Text()
        if self.stage is None:
            return text
        style = self.get_component_rich_style
        for index, name in enumerate(STAGES):
            if index:
                text.append("  ›  ", style=style("step-indicator--separator"))
            label = message(STAGE_KEYS[name], self.lang)
            if index < self.stage:
                text.append(f"✓ {label}", style=style("step-indicator--done"))
            elif index == self.stage:
                text.append(f"▶ {index + 1} {label} ◀", style=style("step-indicator--current"))
            else:
                text.append(f"{index + 1} {label}", style=style("step-indicator--todo"))
        return text
