"""Provides the activation screen: the QR code, the typable code and URL, a countdown; the app polls meanwhile."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from kiosk.session import Step
from screens.base import StepScreen
from screens.widgets.qr import QrCode, qr_matrix


class ActivationScreen(StepScreen):
    steps = (Step.ACTIVATION,)
    AUTO_FOCUS = None
    BINDINGS = [Binding("escape", "leave", "Activate later")]

    def body(self) -> ComposeResult:
        ticket = self.view.ticket
        assert ticket is not None
        yield Static(self.t("activation.heading"), classes="heading")
        if self.view.resumed:
            yield Static(self.t("activation.resumed"), classes="notice")
        with Horizontal(id="activation"):
            if self._qr_fits(ticket.url):
                yield QrCode(ticket.url, id="qr")
            else:
                yield Static(self.t("activation.small"), id="qr-too-small", classes="warning-text")
            with Vertical(id="activation-side"):
                yield Static(self.t("activation.steps"), classes="lead")
                yield Static(self.t("activation.code"), classes="lead")
                yield Static(ticket.user_code, id="user-code", classes="user-code")
                yield Static(self.t("activation.url"), classes="lead")
                yield Static(ticket.url, id="url", classes="url")
                yield Static(self._countdown(), id="countdown", classes="lead")
                yield Static(self.t("activation.waiting"), classes="lead")
                yield Button(self.t("activation.exit"), id="leave", classes="big")
                yield Static(self.t("activation.later_note"), classes="dim-text")

    def _qr_fits(self, url: str) -> bool:
        side = len(qr_matrix(url))
        width, height = self.app.size
        return side + 2 <= width // 2 and (side + 1) // 2 + 8 <= height

    def _countdown(self) -> str:
        ticket = self.view.ticket
        if ticket is None:
            return ""
        left = max(0, int((ticket.expires_at - self.session.clock.now()).total_seconds()))
        return self.t("activation.countdown", time=f"{left // 60:02d}:{left % 60:02d}")

    def tick(self) -> None:
        """Called every second by the app: move the countdown."""
        for countdown in self.query("#countdown").results(Static):  # none while recomposing
            countdown.update(self._countdown())

    def action_leave(self) -> None:
        self.kiosk.run_blocking(self.session.finish)

    def pressed_leave(self) -> None:
        self.action_leave()
