"""Provides card_art: a picture of the card going into the reader, padded by display cells (CJK-safe)."""
from __future__ import annotations

from rich.cells import cell_len


def card_art(label: str, arrow: str = "↓") -> str:
    """A social security card with its chip, labelled `label`, and an arrow showing the way in."""
    inner = [
        "",
        f"  ▗▄▄▖   {label}",
        "  ▐▛▜▌",
        "  ▝▀▀▘   ▔▔▔▔▔▔▔▔▔▔▔▔",
        "",
    ]
    width = max(cell_len(line) for line in inner) + 4
    rows = ["╭" + "─" * width + "╮"]
    rows += ["│" + line + " " * (width - cell_len(line)) + "│" for line in inner]
    rows.append("╰" + "─" * width + "╯")
    rows.append(f"{arrow}".center(width + 2))
    return "\n".join(rows)
