"""Maintenance mode, driven like a technician at the kiosk: the hidden way in, the PIN door, every console page
showing real data from a seeded database and the simulated reader, the service switch, idle return and exit."""
from __future__ import annotations

import contextlib
import csv
import io
from datetime import datetime, timezone

import pytest
from rich.console import Console
from textual.widgets import DataTable, Input, Log, Static
from textual.worker import WorkerCancelled

from kiosk.maintenance import MAINTENANCE_MODE, TECHNICIAN_OUT_OF_SERVICE
from kiosk.ports import ManualClock
from kiosk.session import Step
from kiosk.settings import load_settings
from screens.maintenance.confirm import ConfirmDialog
from screens.maintenance.console import MaintenanceConsole
from screens.maintenance.login import TechnicianLogin
from tests.conftest import kiosk_root
from tests.functional.harness import Journey
from tests.functional.screen_image import screen_text

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
SEQUENCE = ("f12", "f12", "m", "a", "i", "n", "t")  # the default maintenance_key_sequence
TECHNICIAN, PIN = "T0001", "24680"  # the demo technician of config/kiosk.toml
ZHANG_WEI = "430102198803150016"
ZHANG_XIAOYU = "430102201906010029"
URL = "https://ecard.example.gov.cn/activate"


class Technician(Journey):
    """A Journey that also knows the way into maintenance and around the console."""

    def __init__(self, pilot, kiosk, clock: ManualClock) -> None:
        super().__init__(pilot, kiosk)
        self.clock = clock
        self.registry = kiosk.registry

    async def wait_on_the_lock(self, seconds: int) -> None:
        """Let `seconds` pass on the login screen while the technician stays at it (a key every 30 s):
        a login nobody touches for a minute closes by itself, which is not what this wait is about."""
        while seconds > 0:
            step = min(30, seconds)
            self.clock.advance(step)
            seconds -= step
            await self.pilot.press("left")  # moves the PIN field's cursor: input, and changes nothing

    async def settle(self) -> None:
        """Let every worker (PIN hash, database, card) finish and the screen catch up."""
        for _ in range(3):
            await self.pilot.pause()
            try:
                await self.app.workers.wait_for_complete()
            except WorkerCancelled:
                # The app exited (the Service page's exit) while the worker that asked for it was still handing
                # its answer over: the exit cancelled it. Anything else cancelled is a failure.
                if self.app.return_code is None:
                    raise
        await self.pilot.pause()

    async def open_login(self) -> TechnicianLogin:
        await self.pilot.press(*SEQUENCE)
        await self.settle()
        assert isinstance(self.app.screen, TechnicianLogin)
        return self.app.screen

    async def log_in(self, technician: str = TECHNICIAN, pin: str = PIN) -> None:
        await self.type(technician)
        await self.pilot.press("enter")
        await self.type(pin)
        await self.pilot.press("enter")
        await self.settle()

    async def enter_console(self) -> MaintenanceConsole:
        await self.open_login()
        await self.log_in()
        assert isinstance(self.app.screen, MaintenanceConsole), type(self.app.screen).__name__
        return self.app.screen

    async def page(self, number: int) -> None:
        await self.pilot.press(str(number))
        await self.settle()

    def text(self, selector: str) -> str:
        """What a Static shows, as plain text (also for tables and groups), wide enough not to wrap."""
        content = self.app.screen.query_one(selector, Static).content
        if isinstance(content, str):
            return content
        console = Console(width=400, file=io.StringIO(), record=True)
        console.print(content)
        return console.export_text()

    def rows(self, selector: str) -> list[list[str]]:
        table = self.app.screen.query_one(selector, DataTable)
        return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]

    def audit_kinds(self) -> list[str]:
        return [event.kind for event in self.registry.audit_events()]


@pytest.fixture
def start(tmp_path):
    """`async with start(**settings) as technician:` the kiosk headless at 140x50, on a manual clock."""

    @contextlib.asynccontextmanager
    async def run(size=(140, 50), **overrides):
        values = {"data_dir": str(tmp_path / "data"), "tester_panel": True, "voice_prompts": "off",
                  "activation_poll_seconds": 0.2, "idle_timeout_seconds": 900}
        values.update(overrides)
        loaded = load_settings(environ={}, overrides=values)
        clock = ManualClock(NOW)
        kiosk = kiosk_root.build_kiosk(loaded.settings, clock=clock, origins=loaded.origins)
        app = kiosk_root.build_app(kiosk)
        async with app.run_test(size=size) as pilot:
            technician = Technician(pilot, kiosk, clock)
            await technician.reach(Step.WELCOME)
            yield technician

    return run


# ----------------------------------------------------------------------------- the way in and the PIN door
async def test_the_key_sequence_and_the_right_pin_open_the_console_with_its_banner(start):
    async with start() as technician:
        login = await technician.open_login()
        assert login.query_one("#technician-pin", Input).password  # the PIN is shown as dots
        await technician.log_in()
        assert isinstance(technician.app.screen, MaintenanceConsole)
        text = screen_text(technician.app)
        assert "MAINTENANCE" in text and "维护模式" in text and TECHNICIAN in text
        assert technician.session.out_of_service_reasons == (MAINTENANCE_MODE,)
        assert technician.audit_kinds()[0] == "maintenance_enter"
        assert PIN not in " ".join(e.detail for e in technician.registry.audit_events())


async def test_five_taps_in_the_top_left_corner_open_the_login(start):
    async with start() as technician:
        for _ in range(4):
            await technician.pilot.click(offset=(1, 1))
        await technician.pilot.click(offset=(60, 20))  # a tap elsewhere starts the count again
        for _ in range(4):
            await technician.pilot.click(offset=(2, 1))
        await technician.settle()
        assert not isinstance(technician.app.screen, TechnicianLogin)
        await technician.pilot.click(offset=(2, 1))
        await technician.settle()
        assert isinstance(technician.app.screen, TechnicianLogin)
        await technician.pilot.press("escape")  # cancelled: the guardians' screen is back
        await technician.reach(Step.WELCOME)


async def test_a_wrong_pin_is_refused_and_audited(start):
    async with start() as technician:
        login = await technician.open_login()
        await technician.log_in(pin="13579")
        assert technician.app.screen is login
        assert "再错 4 次" in str(login.query_one("#login-status", Static).content)
        assert login.query_one("#technician-pin", Input).value == ""
        assert technician.session.step is Step.WELCOME  # nothing happened to the guardians' side
        (denied,) = technician.registry.audit_events(["maintenance_denied"])
        assert denied.detail == "technician=T0001 reason=wrong failures=1"


async def test_five_wrong_pins_lock_the_login_for_five_minutes(start):
    async with start(language="en") as technician:
        login = await technician.open_login()
        await technician.log_in(pin="11111")
        for _ in range(4):  # the ID stays typed, the PIN field has the focus again
            await technician.type("11111")
            await technician.pilot.press("enter")
            await technician.settle()
        status = str(login.query_one("#login-status", Static).content)
        assert "locked for 5 min 0 s" in status
        assert technician.audit_kinds().count("maintenance_locked") == 1
        await technician.wait_on_the_lock(120)
        await technician.type(PIN)
        await technician.pilot.press("enter")
        await technician.settle()
        assert technician.app.screen is login and "3 min 0 s" in str(login.query_one("#login-status", Static).content)
        await technician.wait_on_the_lock(180)
        await technician.type(PIN)
        await technician.pilot.press("enter")
        await technician.settle()
        assert isinstance(technician.app.screen, MaintenanceConsole)


async def test_a_visit_in_progress_ends_and_no_card_starts_one_behind_the_console(start):
    async with start() as technician:
        await technician.to_holder("zhang-wei-3.00")
        await technician.pilot.press("enter")
        await technician.reach(Step.PIN)
        await technician.enter_console()
        assert technician.session.step is Step.OUT_OF_SERVICE and technician.session.view.holder is None
        assert "session_finished" in technician.audit_kinds()
        await technician.remove()
        await technician.insert("li-na-2.00")  # a guardian tries their card while the technician works
        await technician.settle()
        assert technician.session.step is Step.OUT_OF_SERVICE
        assert isinstance(technician.app.screen, MaintenanceConsole)
        await technician.pilot.press("escape")
        await technician.settle()
        await technician.reach(Step.WELCOME)
        assert technician.audit_kinds()[0] == "maintenance_exit"


async def test_no_input_for_three_minutes_returns_to_the_guardian_screens(start):
    async with start() as technician:
        await technician.enter_console()
        technician.clock.advance(179)
        technician.app.check_time()
        await technician.settle()
        assert isinstance(technician.app.screen, MaintenanceConsole)
        await technician.pilot.press("2")  # any input gives the technician the full time again
        technician.clock.advance(179)
        technician.app.check_time()
        await technician.settle()
        assert isinstance(technician.app.screen, MaintenanceConsole)
        technician.clock.advance(1)
        technician.app.check_time()
        await technician.settle()
        await technician.reach(Step.WELCOME)
        exit_event = technician.registry.audit_events(["maintenance_exit"])[0]
        assert exit_event.detail == "technician=T0001 reason=idle"


# ----------------------------------------------------------------------------- the pages
async def test_the_readers_page_shows_the_slots_the_psam_a_self_test_events_and_one_apdu(start):
    async with start() as technician:
        await technician.enter_console()
        text = screen_text(technician.app)
        assert "Simulated reader 00" in text and "Simulated PSAM slot 01" in text
        assert "3B 6A 00 00 80 65 A2 01 50 53 41 4D 00 01" in text  # the PSAM's ATR, decoded below it
        assert "工作正常" in technician.text("#reader-psam") and '"PSAM"' in technician.text("#reader-psam")
        await technician.insert("zhang-wei-3.00")
        await technician.pilot.press("r")
        await technician.settle()
        assert "3B 6C 00 00 80 31 C0 73 53 53 30 33 00 00 00 01" in screen_text(technician.app)
        technician.app.screen.query_one("#page-readers").show_events()
        assert "插入卡片  Simulated reader 00" in technician.text("#reader-events")
        await technician.pilot.press("t")
        await technician.settle()
        self_test = technician.text("#self-test")
        assert "自检通过" in self_test and "3.00" in self_test
        assert "4301**********0016" in self_test and "张*" in self_test and ZHANG_WEI not in self_test
        assert "通过PSAM外部认证：成功" in self_test
        technician.app.screen.query_one("#apdu-command", Input).focus()
        await technician.type("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")
        await technician.pilot.press("enter")
        await technician.settle()
        assert "SW 6113" in technician.text("#apdu-result")  # raw, as a T=0 card answers: 13 bytes wait
        command = technician.app.screen.query_one("#apdu-command", Input)
        command.value = ""
        await technician.type("00 C0 00 00 13")  # GET RESPONSE on the same connection
        await technician.pilot.press("enter")
        await technician.settle()
        assert "6F 11 84 0F 73 78 31" in technician.text("#apdu-result") and "SW 9000" in technician.text("#apdu-result")
        actions = [e.detail for e in technician.registry.audit_events(["maintenance_action"])]
        assert "technician=T0001 action=send_apdu slot=Simulated reader 00 header=00A40400 sw=6113" in actions
        assert any("action=card_self_test passed=True" in detail for detail in actions)


async def test_the_self_test_says_what_a_card_lacks(start):
    async with start(language="en") as technician:
        await technician.insert("bank-card")
        await technician.enter_console()
        await technician.pilot.press("t")
        await technician.settle()
        assert "Self-test failed (CARD_NOT_SOCIAL_SECURITY)" in technician.text("#self-test")


async def test_the_database_page_counts_a_seeded_registry_and_checks_it(start):
    async with start(language="en") as technician:
        ecard = technician.registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, "KIOSK-DEMO-01")
        technician.registry.issue_ticket(ecard, URL, 60)
        technician.clock.advance(120)
        await technician.enter_console()
        await technician.page(2)
        report = technician.text("#db-report")
        for line in ("reachable: yes", "backend: sqlite", "registrations today: 1", "pending e-cards: 2",
                     "activated e-cards: 4", "expired activation codes: 1", "last write: "):
            assert line in report, line
        assert "registry.sqlite3" in report and "KiB" in report
        await technician.pilot.press("c")
        await technician.settle()
        assert "Consistency check: every rule holds." in technician.text("#db-consistency")


async def test_the_database_page_says_when_the_database_is_gone(start, tmp_path):
    async with start(language="en") as technician:
        technician.registry.close()
        (tmp_path / "data" / "registry.sqlite3").rename(tmp_path / "away.sqlite3")
        technician.kiosk.monitor.check()
        await technician.reach(Step.OUT_OF_SERVICE)
        await technician.enter_console()  # the console is there for exactly this; its audit goes to the log
        await technician.page(2)
        report = technician.text("#db-report")
        assert "reachable: no" in report and "DATABASE_UNAVAILABLE" in report
        await technician.pilot.press("escape")
        await technician.settle()
        await technician.reach(Step.OUT_OF_SERVICE)  # still out of service: the database is still gone


async def test_the_activations_page_lists_masked_pending_registrations_cancels_one_and_purges(start):
    async with start(language="en") as technician:
        ecard = technician.registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, "KIOSK-DEMO-01")
        technician.registry.issue_ticket(ecard, URL, 60)
        technician.clock.advance(60 + 900)
        await technician.enter_console()
        await technician.page(3)
        rows = technician.rows("#pending-table")
        assert [row[:3] for row in rows] == [["2", "李*怡", "4301**********0088"], [str(ecard), "张*雨", "4301**********0029"]]
        assert ZHANG_XIAOYU not in screen_text(technician.app)
        table = technician.app.screen.query_one("#pending-table", DataTable)
        table.focus()
        await technician.pilot.press("down", "x")
        await technician.settle()
        assert isinstance(technician.app.screen, ConfirmDialog)
        await technician.pilot.press("n")  # not this time
        await technician.settle()
        assert technician.registry.child_ecard(ZHANG_XIAOYU) is not None
        await technician.pilot.press("x", "y")
        await technician.settle()
        assert technician.registry.child_ecard(ZHANG_XIAOYU) is None
        assert [row[0] for row in technician.rows("#pending-table")] == ["2"]
        assert "Expired activation codes: 1" in technician.text("#expired-codes")
        await technician.pilot.press("p", "y")
        await technician.settle()
        assert "1 expired activation codes deleted." in screen_text(technician.app)
        assert "Expired activation codes: 0" in technician.text("#expired-codes")


async def test_the_audit_page_is_newest_first_masked_filtered_and_exported(start, tmp_path):
    async with start(language="en") as technician:
        technician.registry.audit("note", f"guardian {ZHANG_WEI} asked")
        await technician.enter_console()
        await technician.page(4)
        rows = technician.rows("#audit-table")
        assert rows[0][1] == "maintenance_enter" and rows[1][1] == "note"
        assert rows[1][3] == "guardian 4301**********0016 asked"
        selector = technician.app.screen.query_one("#audit-kind")
        selector.value = "note"
        await technician.settle()
        assert [row[1] for row in technician.rows("#audit-table")] == ["note"]
        await technician.pilot.press("e")
        await technician.settle()
        (exported,) = (tmp_path / "data" / "exports").glob("audit-*.csv")
        content = list(csv.reader(exported.open(encoding="utf-8")))
        assert content == [["at_utc", "kind", "kiosk_id", "detail"],
                           [NOW.isoformat(), "note", "KIOSK-DEMO-01", "guardian 4301**********0016 asked"]]
        assert "action=export_audit kind=note rows=1" in technician.registry.audit_events(["maintenance_action"])[0].detail


async def test_the_logs_page_shows_the_kiosk_log_masked(start, tmp_path):
    log_dir = tmp_path / "data" / "logs"
    log_dir.mkdir(parents=True)
    (log_dir / "kiosk.log").write_text(f"2026-06-01 INFO kiosk: looked up {ZHANG_XIAOYU}\n", encoding="utf-8")
    async with start() as technician:
        await technician.enter_console()
        await technician.page(5)
        lines = list(technician.app.screen.query_one("#log-lines", Log).lines)
        assert lines == ["2026-06-01 INFO kiosk: looked up 4301**********0029"]


async def test_the_settings_page_shows_values_and_origins_but_no_secret(start):
    async with start(language="en", kiosk_id="HALL-7") as technician:
        await technician.enter_console()
        await technician.page(6)
        rows = {row[0]: row for row in technician.rows("#settings-table")}
        assert rows["kiosk_id"][1:] == ["HALL-7", "command line"]
        assert rows["maintenance_idle_seconds"][1:] == ["180", "default (config/kiosk.toml)"]
        assert rows["technicians"][1] == "T0001  (secrets hidden)"
        assert "scrypt$" not in screen_text(technician.app)


async def test_out_of_service_with_a_message_round_trip(start):
    async with start() as technician:
        await technician.enter_console()
        await technician.page(7)
        technician.app.screen.query_one("#service-message", Input).focus()
        await technician.type("Repair until 14:00, please use kiosk 2")
        await technician.pilot.press("enter")
        await technician.settle()
        assert technician.session.out_of_service_reasons == (MAINTENANCE_MODE, TECHNICIAN_OUT_OF_SERVICE)
        await technician.pilot.press("escape")
        await technician.settle()
        await technician.reach(Step.OUT_OF_SERVICE)
        text = screen_text(technician.app)
        assert "Repair until 14:00, please use kiosk 2" in text and "本机正在维护" in text
        await technician.insert("zhang-wei-3.00")  # guardians cannot start a visit
        await technician.settle()
        assert technician.session.step is Step.OUT_OF_SERVICE
        await technician.remove()
        await technician.enter_console()
        await technician.page(7)
        assert "Repair until 14:00" in technician.text("#service-state")
        await technician.pilot.click("#service-on")
        await technician.settle()
        await technician.pilot.press("escape")
        await technician.settle()
        await technician.reach(Step.WELCOME)
        actions = [e.detail.split(" action=")[1] for e in technician.registry.audit_events(["maintenance_action"])]
        assert actions[:2] == ["in_service", "out_of_service message_chars=38"]


async def test_the_console_speaks_both_languages(start):
    async with start() as technician:
        await technician.enter_console()
        assert "1 读卡器" in screen_text(technician.app)
        await technician.pilot.press("f2")
        await technician.settle()
        text = screen_text(technician.app)
        assert "1 Readers" in text and "7 Service" in text and "MAINTENANCE · 维护模式" in text
        assert technician.session.view.lang == "zh"  # the guardians' language is left as it was


# ----------------------------------------------------------------------------- exit
async def test_exit_only_from_the_service_page(start):
    async with start(tester_panel=False) as technician:
        await technician.pilot.press("ctrl+q", "ctrl+c", "escape", "q", "f9")
        await technician.settle()
        assert technician.app.is_running and technician.app.return_code is None
        await technician.enter_console()
        await technician.page(7)
        await technician.pilot.click("#exit-kiosk")
        await technician.settle()
        assert isinstance(technician.app.screen, ConfirmDialog)
        await technician.pilot.press("n")
        await technician.settle()
        assert technician.app.is_running
        await technician.pilot.click("#exit-kiosk")
        await technician.pilot.press("y")
        await technician.settle()
        assert technician.app.return_code == 0
        assert technician.audit_kinds()[:2] == ["maintenance_exit", "maintenance_action"]
        assert technician.registry.audit_events(["maintenance_exit"])[0].detail == "technician=T0001 reason=exit_kiosk"


async def test_the_scheduled_purge_runs_from_the_kiosks_clock(start):
    async with start(ticket_purge_hours=1) as technician:
        ecard = technician.registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, "KIOSK-DEMO-01")
        ticket = technician.registry.issue_ticket(ecard, URL, 60)
        technician.clock.advance(3600)
        technician.app.check_time()
        await technician.settle()
        assert "tickets_purged" in technician.audit_kinds()
        with pytest.raises(Exception, match="ACTIVATION_UNKNOWN"):
            technician.registry.ticket_state(ticket.ticket_id)
