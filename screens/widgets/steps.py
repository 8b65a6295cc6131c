"""Provides StepIndicator: where the guardian is in the five stages, by number, mark and colour."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kiosk.messages import N_, message
from kiosk.session import STAGES


STAGE_KEYS = {
    "card": N_("stage.card"), "pin": N_("stage.pin"), "child": N_("stage.child"),
    "check": N_("stage.check"), "activate": N_("stage.activate"),
}


class StepIndicator(Static):
    """`① 插卡 › ② 密码 › ...`: done stages carry ✓, the current one is bold and framed by ▶ ◀."""

    DEFAULT_CSS = """
    StepIndicator { width: 1fr; height: 1; content-align: center middle; text-align: center; }
    """

    def __init__(self, stage: int | None, lang: str) -> None:
        super().__init__(self._text(stage, lang))

    @staticmethod
    def _text(stage: int | None, lang: str) -> Text:
        text = Text()
        if stage is None:
            return text
        for index, name in enumerate(STAGES):
            if index:
                text.append("  ›  ", style="dim")
            label = message(STAGE_KEYS[name], lang)
            if index < stage:
                text.append(f"✓ {label}", style="green")
            elif index == stage:
                text.append(f"▶ {index + 1} {label} ◀", style="bold reverse")
            else:
                text.append(f"{index + 1} {label}", style="dim")
        return text
