"""Provides what a camera would see: the composed terminal screen as cells, and any QR code on it as an image."""
from __future__ import annotations

import io

from PIL import Image
from rich.cells import cell_len
from rich.console import Console
from textual.app import App

Cell = tuple[str, str | None, str | None]  # character, foreground hex, background hex


def screen_cells(app: App) -> list[list[Cell]]:
    """The screen as the terminal would show it: every cell with its character and colours."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    rows: list[list[Cell]] = [[]]
    for segment in console._record_buffer:
        if segment.control:
            continue
        style = segment.style
        fg = style.color.get_truecolor().hex if style and style.color else None
        bg = style.bgcolor.get_truecolor().hex if style and style.bgcolor else None
        for char in segment.text:
            if char == "\n":
                rows.append([])
                continue
            rows[-1].append((char, fg, bg))
            rows[-1].extend([("", fg, bg)] * (cell_len(char) - 1))
    return [row for row in rows if row]


def screen_text(app: App) -> str:
    """The screen's characters only, row by row (what a person reads)."""
    return "\n".join("".join(char for char, _, _ in row) for row in screen_cells(app))


def _luminance(color: str | None) -> int:
    if not color:
        return 0
    red, green, blue = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return (red * 299 + green * 587 + blue * 114) // 1000


def screen_qr_image(app: App, scale: int = 6) -> Image.Image:
    """Photograph the screen: each cell is two pixels tall (upper and lower half), in grey levels.

    Only cells drawn with half or full blocks, or blank, carry the two halves; the decoder then
    finds the code wherever it is, as it would in a photo.
    """
    cells = screen_cells(app)
    width = max(len(row) for row in cells)
    image = Image.new("L", (width, len(cells) * 2), 128)
    pixels = image.load()
    for y, row in enumerate(cells):
        for x, (char, fg, bg) in enumerate(row):
            if char == "▀":
                top, bottom = fg, bg
            elif char == "▄":
                top, bottom = bg, fg
            elif char == "█":
                top = bottom = fg
            elif char == " ":
                top = bottom = bg
            else:
                continue
            pixels[x, 2 * y] = _luminance(top)
            pixels[x, 2 * y + 1] = _luminance(bottom)
    return image.resize((image.width * scale, image.height * scale), Image.NEAREST)


def decode_qr_on_screen(app: App) -> list[str]:
    """Every QR code a real decoder (zbar) finds on the screen."""
    from pyzbar.pyzbar import ZBarSymbol, decode

    return [symbol.data.decode() for symbol in decode(screen_qr_image(app), symbols=[ZBarSymbol.QRCODE])]
