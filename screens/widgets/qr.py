"""Provides QrCode: a QR code drawn with half-block characters, black modules on a white quiet zone."""
from __future__ import annotations

import qrcode
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

QUIET_ZONE = 4  # modules of white around the symbol, as the QR standard asks

_BLACK = "#000000"
_WHITE = "#ffffff"
# Two modules per cell: the upper one is the foreground of "▀", the lower one its background.
_STYLES = {
    (False, False): Style(color=_WHITE, bgcolor=_WHITE),
    (True, True): Style(color=_BLACK, bgcolor=_BLACK),
    (True, False): Style(color=_BLACK, bgcolor=_WHITE),
    (False, True): Style(color=_WHITE, bgcolor=_BLACK),
}


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of the smallest QR symbol holding `data`, quiet zone included (True = dark)."""
    code = qrcode.QRCode(border=QUIET_ZONE, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


class QrCode(Widget):
    """Draws one QR code; its size is fixed by the data (one column and half a row per module)."""

    DEFAULT_CSS = """
    QrCode { width: auto; height: auto; }
    """

    def __init__(self, data: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_data(data)

    def set_data(self, data: str) -> None:
        """Draw a new code (a renewed ticket)."""
        self.data = data
        matrix = qr_matrix(data)
        if len(matrix) % 2:
            matrix = matrix + [[False] * len(matrix[0])]
        self._lines = [
            Strip([Segment("▀", _STYLES[(top, bottom)]) for top, bottom in zip(upper, lower)])
            for upper, lower in zip(matrix[0::2], matrix[1::2])
        ]
        self.refresh(layout=True)

    @property
    def cells(self) -> tuple[int, int]:
        """(columns, rows) the code needs on screen."""
        return (self._lines[0].cell_length, len(self._lines))

    def get_content_width(self, container, viewport) -> int:  # noqa: ANN001 (Textual's signature)
        return self.cells[0]

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        return self.cells[1]

    def render_line(self, y: int) -> Strip:
        return self._lines[y] if 0 <= y < len(self._lines) else Strip.blank(self.size.width)
