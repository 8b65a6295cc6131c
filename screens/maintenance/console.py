"""Provides MaintenanceConsole: the technician's screen, a "MAINTENANCE" banner over seven pages, all by keyboard."""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from kiosk.maintenance import MaintenanceMode
from kiosk.messages import N_, message
from screens.maintenance.login import banner_text
from screens.maintenance.page import ConsolePage

if TYPE_CHECKING:
    from screens.app import KioskApp

PAGES: tuple[tuple[str, str, str], ...] = (
    ("readers", N_("maint.page.readers"), "ReadersPage"),
    ("database", N_("maint.page.database"), "DatabasePage"),
    ("activations", N_("maint.page.activations"), "ActivationsPage"),
    ("audit", N_("maint.page.audit"), "AuditPage"),
    ("logs", N_("maint.page.logs"), "LogsPage"),
    ("settings", N_("maint.page.settings"), "SettingsPage"),
    ("service", N_("maint.page.service"), "ServicePage"),
)
"""The console's pages, in the order of their number keys: name (its module in screens/maintenance/), title, class."""


def page_type(name: str) -> type[ConsolePage]:
    """The class of the page `name`, imported when a console is first opened (the kiosk starts without them)."""
    class_name = next(entry[2] for entry in PAGES if entry[0] == name)
    return getattr(import_module(f"screens.maintenance.{name}"), class_name)


class MaintenanceConsole(Screen):
    """1..7 pick a page (or Left/Right on the tabs), Tab moves within it, Esc leaves maintenance, F2 switches language.

    Page keys: R refreshes; T card self-test (Readers), C consistency check (Database), X cancel the chosen
    registration and P purge expired codes (Activations), E export CSV (Audit log).
    """

    DEFAULT_CSS = """
    MaintenanceConsole { background: $surface; }
    #maintenance-banner { dock: top; height: 1; background: $warning; color: $background; text-style: bold;
                          text-align: center; }
    #console-hints { dock: bottom; height: 1; background: $panel; color: $text-muted; padding: 0 1; }
    MaintenanceConsole TabbedContent { height: 1fr; }
    MaintenanceConsole TabPane { height: 1fr; padding: 0; }
    .console-page { height: 1fr; padding: 0 1; }
    .console-page > Static { width: 100%; height: auto; }
    .console-page .page-heading { text-style: bold; padding: 1 0 0 0; }
    .console-page .page-subheading { text-style: bold; padding: 1 0 0 0; }
    .console-page .page-result { padding: 1 0 0 0; text-style: bold; }
    .console-page .page-status { color: $text-muted; }
    .console-page .failure-text { color: $error; text-style: bold; }
    .console-page .page-buttons { height: auto; padding: 1 0 0 0; }
    .console-page .page-buttons Button { margin: 0 2 0 0; }
    .console-page .page-inputs { height: auto; padding: 1 0 0 0; }
    .console-page .page-inputs Select { width: 40; }
    .console-page .page-inputs Input { width: 1fr; }
    .console-page .page-inputs Button { margin: 0 0 0 1; }
    .console-page DataTable { height: auto; max-height: 20; margin: 1 0 0 0; }
    .console-page Log { height: 20; border: round $primary; }
    """
    BINDINGS = [
        *(Binding(str(number), f"page('{name}')", show=False) for number, (name, _, _) in enumerate(PAGES, start=1)),
        Binding("escape", "leave", show=False),
        Binding("r", "on_page('load')", show=False),
        Binding("t", "on_page('action_self_test')", show=False),
        Binding("c", "on_page('action_check')", show=False),
        Binding("x,delete", "on_page('action_cancel_selected')", show=False),
        Binding("p", "on_page('action_purge')", show=False),
        Binding("e", "on_page('action_export')", show=False),
    ]

    def __init__(self, mode: MaintenanceMode, lang: str, page: str = "readers") -> None:
        super().__init__(id="maintenance-console")
        self.mode = mode
        self.lang = lang
        self.page = page

    @property
    def kiosk(self) -> "KioskApp":
        return self.app  # type: ignore[return-value]

    def t(self, key: str, **values: object) -> str:
        return message(key, self.lang, **values)

    def compose(self) -> ComposeResult:
        technician = self.t("maint.banner.technician", technician=self.mode.technician or "-")
        banner = f"{banner_text()} — {technician}"
        yield Static(banner, id="maintenance-banner", markup=False)
        with TabbedContent(initial=self.page, id="console-pages"):
            for number, (name, title, _) in enumerate(PAGES, start=1):
                with TabPane(f"{number} {self.t(title)}", id=name):
                    yield page_type(name)(self.mode, self.lang, id=f"page-{name}")
        yield Static(self.t("maint.hints"), id="console-hints")

    def current_page(self) -> ConsolePage | None:
        active = self.query_one("#console-pages", TabbedContent).active
        return next(self.query(f"#page-{active}").results(ConsolePage), None) if active else None

    def action_page(self, name: str) -> None:
        self.query_one("#console-pages", TabbedContent).active = name
        self.page = name
        self.focus_page()

    def focus_page(self) -> None:
        """The focus into the page shown, on its first field or button (a page with an input opens with the
        cursor in it, so that typed text lands there and is not taken for page keys)."""
        page = self.current_page()
        if page is not None:
            target = next((w for w in page.query("*") if w.focusable), None)
            (target or page).focus()

    def action_on_page(self, method: str) -> None:
        """A page's own key (R refresh, T self-test, C check, X cancel, P purge, E export) on the page shown."""
        handler = getattr(self.current_page(), method, None)
        if callable(handler):
            handler()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.page = event.pane.id or self.page
        page = self.current_page()
        if page is not None and page.is_mounted:
            page.load()
            if self.page == "service":  # reached by arrows or a click on its tab: the message field, at once
                self.focus_page()

    def action_leave(self) -> None:
        self.kiosk.leave_maintenance("left")

    async def toggle_language(self) -> None:
        """F2: the console in the other language, on the same page."""
        self.lang = "en" if self.lang == "zh" else "zh"
        await self.recompose()
