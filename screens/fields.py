"""Provides field_table: label/value rows aligned by display cells, so wide (CJK) and narrow characters line up."""
from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.containers import Center, Vertical
from textual.widgets import Static

GAP = "   "  # between the label column and the value column


def field_row(label: str, value: str, label_cells: int) -> Text:
    """One row: `label` right-aligned in `label_cells` display cells (a Chinese character takes two), then `value`."""
    return Text.assemble(" " * (label_cells - cell_len(label)), (label, "bold"), GAP, value)


def field_table(rows: list[tuple[str, str]]) -> Center:
    """A two-column table, one Static per row (so large text can space the rows), centred on the screen."""
    label_cells = max((cell_len(label) for label, _ in rows), default=0)
    return Center(
        Vertical(*(Static(field_row(label, value, label_cells), classes="field-row") for label, value in rows),
                 classes="fields")
    )
