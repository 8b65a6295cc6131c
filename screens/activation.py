"""Provides the activation screen: the QR code, the typable code and URL, a countdown; the app polls meanwhile.

Where the terminal has no room for a QR code a phone can read, the screen says so and shows the typable
code and the URL, large, with words for typing instead of scanning.
"""
from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.messages import N_
from kiosk.session import SessionView, Step
from screens.base import StepScreen
from screens.widgets.qr import QrCode, QrFit, qr_fit

SIDE_COLUMNS = (40, 60)  # the instructions beside the QR code: at least, at most
QR_GAP = 3  # between the code and the instructions (#qr's right margin in kiosk.tcss)


class ActivationScreen(StepScreen):
    steps = (Step.ACTIVATION,)
    AUTO_FOCUS = ""  # nothing to focus (None would inherit the app's "*" and focus the first button)
    BINDINGS = [Binding("escape", "leave", "Activate later")]

    def __init__(self, view: SessionView) -> None:
        super().__init__(view)
        self._fit: QrFit | None = None  # how the QR code is drawn now; None: the typed code instead

    def body(self) -> ComposeResult:
        ticket = self.view.ticket
        assert ticket is not None
        self._fit = self._qr_fit()
        if self._fit is None:
            yield from self._code_only()
            return
        yield Static(self.t("activation.heading"), classes="heading")
        if self.view.resumed:
            yield Static(self.t("activation.resumed"), classes="notice")
        with Horizontal(id="activation"):
            qr = QrCode(ticket.url, fit=self._fit, id="qr")
            yield qr
            side = Vertical(id="activation-side")
            side.styles.width = min(SIDE_COLUMNS[1], self._columns() - qr.cells[0] - QR_GAP)
            side.styles.min_height = qr.cells[1]  # the instructions stand beside the middle of a large code
            with side:
                yield Static(self.t("activation.steps"), classes="lead")
                yield Static(self.t("activation.code"), classes="lead gap")
                yield Static(ticket.user_code, id="user-code", classes="user-code")
                yield Static(self.t("activation.url"), classes="lead")
                yield Static(ticket.url, id="url", classes="url")
                with Horizontal(classes="activation-status"):
                    yield Static(self._countdown(), id="countdown")
                    yield Static(self.t("activation.waiting"))
                yield Button(self.t("activation.exit"), id="leave", classes="big")
                yield Static(self.t("activation.later_note"), classes="later-note")

    def _code_only(self) -> ComposeResult:
        """No room for a QR code: the code to type and the URL to open, as large as the terminal allows."""
        ticket = self.view.ticket
        assert ticket is not None
        yield Static(self.t("activation.heading_code"), classes="heading")
        if self.view.resumed:
            yield Static(self.t("activation.resumed"), classes="notice")
        with Vertical(id="activation-code"):
            yield Center(Static(self.t("activation.steps_code"), classes="steps"))
            yield Static(self.t("activation.code_only"))
            yield Center(Static(ticket.user_code, id="user-code", classes="user-code"))
            yield Static(self.t("activation.url"))
            yield Static(ticket.url, id="url", classes="url")
            with Horizontal(classes="activation-status"):
                yield Static(self._countdown(), id="countdown")
                yield Static(self.t("activation.waiting"))
            yield Center(Button(self.t("activation.exit"), id="leave", classes="big"))
            yield Static(self.t("activation.later_note"), classes="later-note")

    def _columns(self) -> int:
        """The width of #body's content (its padding in kiosk.tcss: narrow 1, normal 2, large text 3 each side)."""
        width = self.app.size.width
        return width - (2 if width < 100 else 6 if self.view.large_text else 4)

    def _qr_fit(self) -> QrFit | None:
        """How large a QR code the screen has room for beside the instructions (None: none at all)."""
        ticket = self.view.ticket
        assert ticket is not None
        width, height = self.app.size
        narrow = width < 100  # the app's `narrow` class
        # What the frame and the heading take (as kiosk.tcss has them): top bar 3, key hints 1, #body's
        # padding (none when narrow or in large text), the heading with its padding or (large text) the rule
        # under it, the "fresh QR" notice on a resumed registration.
        large = self.view.large_text
        heading = 2 if narrow else 3
        rows = height - 4 - (0 if narrow or large else 2) - heading - (2 if self.view.resumed else 0)
        return qr_fit(ticket.url, self._columns() - SIDE_COLUMNS[0] - QR_GAP, rows)

    def on_resize(self, event: events.Resize) -> None:
        if self.is_mounted and self._qr_fit() != self._fit:
            self.call_after_refresh(self.recompose)

    def _countdown(self) -> str:
        ticket = self.view.ticket
        if ticket is None:
            return ""
        left = max(0, int((ticket.expires_at - self.session.clock.now()).total_seconds()))
        # A new ticket brings a new QR code and a new typed code alike; the words name what is on screen.
        key = N_("activation.countdown") if self._fit is not None else N_("activation.code_countdown")
        return self.t(key, time=f"{left // 60:02d}:{left % 60:02d}")

    def tick(self) -> None:
        """Called every second by the app: move the countdown."""
        for countdown in self.query("#countdown").results(Static):  # none while recomposing
            countdown.update(self._countdown())

    def action_leave(self) -> None:
        self.session.finish()

    def pressed_leave(self) -> None:
        self.action_leave()
