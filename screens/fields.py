"""Provides field_table: label/value rows aligned for wide (CJK) and narrow characters alike."""
from __future__ import annotations

from rich.table import Table
from textual.containers import Center
from textual.widgets import Static


def field_table(rows: list[tuple[str, str]]) -> Center:
    """A two-column table; Rich measures cell widths, so Chinese labels line up."""
    table = Table.grid(padding=(0, 3))
    table.add_column(justify="right", style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(label, value)
    return Center(Static(table, classes="fields"))
