"""Provides QrCode: a QR code drawn with half-block characters, black modules on a white quiet zone, and qr_scale:
how large a code fits in a given space (None: it does not fit, the screen shows the typable code instead)."""
from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

QUIET_ZONE = 4  # modules of white around the symbol, as the QR standard asks
TIGHT_QUIET_ZONE = 2  # still read by phone scanners; used when the standard zone would not fit
MAX_SCALE = 3  # beyond this a phone held at arm's length no longer sees the whole code

_BLACK = "#000000"
_WHITE = "#ffffff"
# Two modules per cell: the upper one is the foreground of "▀", the lower one its background.
_STYLES = {
    (False, False): Style(color=_WHITE, bgcolor=_WHITE),
    (True, True): Style(color=_BLACK, bgcolor=_BLACK),
    (True, False): Style(color=_BLACK, bgcolor=_WHITE),
    (False, True): Style(color=_WHITE, bgcolor=_BLACK),
}


@dataclass(frozen=True)
class QrFit:
    """How a code is drawn in the space it has: `scale` columns (and half-rows) per module, and its quiet zone."""

    scale: int
    quiet_zone: int


def qr_matrix(data: str, quiet_zone: int = QUIET_ZONE) -> list[list[bool]]:
    """The modules of the smallest QR symbol holding `data`, quiet zone included (True = dark)."""
    import qrcode  # here, not at the top: the kiosk's first screen has no QR code to wait for

    code = qrcode.QRCode(border=quiet_zone, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


def qr_cells(side: int, scale: int) -> tuple[int, int]:
    """(columns, rows) a code of `side` modules takes at `scale`: a module is `scale` columns wide and
    `scale` half-rows tall, which is square on a terminal whose cells are twice as tall as wide."""
    return side * scale, (side * scale + 1) // 2


def qr_fit(data: str, columns: int, rows: int) -> QrFit | None:
    """The largest drawing of the code for `data` that fits in `columns` x `rows` cells (a bigger code with a
    tight quiet zone before a smaller one with the full zone); None when even the smallest does not fit,
    and the screen shows the typable code instead."""
    symbol = len(qr_matrix(data, quiet_zone=0))
    for scale in range(MAX_SCALE, 0, -1):
        for quiet_zone in (QUIET_ZONE, TIGHT_QUIET_ZONE):
            width, height = qr_cells(symbol + 2 * quiet_zone, scale)
            if width <= columns and height <= rows:
                return QrFit(scale, quiet_zone)
    return None


class QrCode(Widget):
    """Draws one QR code; its size is fixed by the data and the scale (modules stay square on screen)."""

    DEFAULT_CSS = """
    QrCode { width: auto; height: auto; }
    """

    def __init__(self, data: str, *, fit: QrFit | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.fit = fit or QrFit(1, QUIET_ZONE)
        self.set_data(data)

    def set_data(self, data: str) -> None:
        """Draw a new code (a renewed ticket)."""
        self.data = data
        scale = self.fit.scale
        matrix = [
            [module for module in row for _ in range(scale)]
            for row in qr_matrix(data, self.fit.quiet_zone) for _ in range(scale)
        ]
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
