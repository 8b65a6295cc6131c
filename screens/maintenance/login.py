"""Provides TechnicianLogin: the technician ID and PIN (masked) that open the maintenance console, with wrong and locked messages."""
from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from kiosk.maintenance import LoginOutcome, LoginResult, MaintenanceMode
from kiosk.messages import message

LOGIN_IDLE_SECONDS = 60
"""A login left alone this long closes, so a walked-away technician never blocks the guardians' screen."""


def banner_text() -> str:
    """The maintenance banner, in both languages at once: whoever looks at the kiosk knows what is going on."""
    english, chinese = message("maint.banner", "en"), message("maint.banner", "zh")
    return f"🔧 {english} · {chinese}"


class TechnicianLogin(ModalScreen[bool]):
    """ID, Enter, PIN, Enter; Esc cancels. Dismisses with True once the technician is in."""

    DEFAULT_CSS = """
    TechnicianLogin { align: center middle; background: $background 70%; }
    #login-box { width: 64; max-width: 95%; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    #login-box > Static { width: 100%; }
    #login-banner { background: $warning; color: $background; text-style: bold; text-align: center; }
    #login-heading { text-style: bold; padding: 1 0 0 0; }
    #login-box Input { margin: 0 0 1 0; }
    #login-status { color: $error; text-style: bold; height: auto; min-height: 1; }
    #login-box Horizontal { height: auto; align-horizontal: center; }
    #login-box Button { margin: 0 1; }
    """
    BINDINGS = [Binding("escape", "cancel", show=False)]
    AUTO_FOCUS = "#technician-id"

    def __init__(self, mode: MaintenanceMode, lang: str) -> None:
        super().__init__(id="technician-login")
        self.mode = mode
        self.lang = lang
        self.busy = False
        self.last_input: datetime = mode.clock.now()
        self._status = ""

    def t(self, key: str, **values: object) -> str:
        return message(key, self.lang, **values)

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static(banner_text(), id="login-banner")
            yield Static(self.t("maint.login.heading"), id="login-heading")
            yield Static(self.t("maint.login.id"))
            yield Input(id="technician-id", max_length=20)
            yield Static(self.t("maint.login.pin"))
            yield Input(id="technician-pin", password=True, restrict=r"[0-9]*", max_length=12)
            yield Static(self._status, id="login-status")
            yield Static(self.t("maint.login.keys"), classes="dim-text")
            with Horizontal():
                yield Button(self.t("maint.login.submit"), id="login-submit", variant="warning")
                yield Button(self.t("maint.login.cancel"), id="login-cancel")

    def on_mount(self) -> None:
        locked = self.mode.door.locked_seconds()
        if locked:
            self.show_status(self.locked_text(locked))

    def locked_text(self, seconds: int) -> str:
        return self.t("maint.login.locked", minutes=seconds // 60, seconds=seconds % 60)

    def show_status(self, text: str) -> None:
        self._status = text
        self.query_one("#login-status", Static).update(text)

    def noticed_input(self, now: datetime) -> None:
        self.last_input = now

    async def toggle_language(self) -> None:
        """F2: the other language, keeping the ID typed (the PIN is typed again)."""
        typed = self.query_one("#technician-id", Input).value
        self.lang = "en" if self.lang == "zh" else "zh"
        await self.recompose()
        self.query_one("#technician-id", Input).value = typed

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "technician-id":
            self.query_one("#technician-pin", Input).focus()
        else:
            self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "login-submit":
            self.submit()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(False)

    def submit(self) -> None:
        if self.busy:
            return
        technician = self.query_one("#technician-id", Input).value
        pin_input = self.query_one("#technician-pin", Input)
        pin, pin_input.value = pin_input.value, ""
        if not technician.strip() or not pin:
            self.show_status(self.t("maint.login.missing"))
            return
        self.busy = True
        self.show_status(self.t("maint.login.checking"))

        def check() -> None:
            # Slow on purpose (the PIN hash), and on success it ends any visit: a worker thread.
            result = self.mode.try_login(technician, pin)
            self.app.call_from_thread(self.answered, result)

        self.run_worker(check, thread=True, exit_on_error=False, group="technician-login")

    def answered(self, result: LoginResult) -> None:
        self.busy = False
        if result.outcome is LoginOutcome.ADMITTED:
            self.dismiss(True)
            return
        if result.outcome is LoginOutcome.LOCKED:
            self.show_status(self.locked_text(result.locked_seconds))
        else:
            self.show_status(self.t("maint.login.wrong", n=result.tries_left))
        self.query_one("#technician-pin", Input).focus()
