"""The technician's and the tester's traps at 80x24 (issue 14, traps 7 and 9): the Service page's message field
reached by Tab and by arrows with typed text landing in it, the Settings and Logs pages within the width, the
tester panel's key hints and descriptions whole, its highlight kept after R, and one clock for log and audit."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from textual.widgets import DataTable, Input, ListView, Log

from kiosk.logbook import KioskClockFormatter, follow_clock
from kiosk.ports import OffsetClock
from kiosk.session import Step
import screens.tester
from tests.functional.screen_image import screen_text
from tests.functional.test_maintenance import start  # noqa: F401 - the technician's kiosk fixture

SMALL = (80, 24)
MESSAGE = "Repair until 14:00, use kiosk 2"


async def test_the_service_message_takes_typed_text_and_settings_and_logs_fit_80_columns(start, tmp_path):  # noqa: F811
    log_dir = tmp_path / "data" / "logs"
    log_dir.mkdir(parents=True)
    long_line = "2026-06-01 02:00:00,000 INFO kiosk.session: " + "card read for visit 7 in 120 ms; " * 5 + "END"
    (log_dir / "kiosk.log").write_text(long_line + "\n", encoding="utf-8")
    async with start(size=SMALL) as technician:
        console = await technician.enter_console()
        await technician.page(7)
        field = console.query_one("#service-message", Input)
        assert technician.app.focused is field
        await technician.type(MESSAGE)  # digits and R, E, P... are page keys elsewhere: here they are text
        assert field.value == MESSAGE and console.page == "service"
        seen = []
        for _ in range(6):
            await technician.pilot.press("tab")
            seen.append(technician.app.focused)
            if technician.app.focused is field:
                break
        assert technician.app.focused is field, seen  # Tab comes round to the message field
        while technician.app.focused is field or isinstance(technician.app.focused, Input):
            await technician.pilot.press("shift+tab")  # back to the tabs
        await technician.pilot.press("left", "right")  # Settings, then Service again by arrows
        await technician.settle()
        assert console.page == "service" and technician.app.focused is field

        await technician.pilot.press("shift+tab", "left")  # the tabs; Settings
        await technician.settle()
        table = console.query_one("#settings-table", DataTable)
        assert table.row_count > 10
        width = sum(column.get_render_width(table) for column in table.columns.values())
        assert width <= table.scrollable_content_region.width, (width, table.scrollable_content_region.width)

        await technician.pilot.press("left")  # Logs
        await technician.settle()
        log = console.query_one("#log-lines", Log)
        assert all(len(line) <= log.scrollable_content_region.width for line in log.lines)
        assert "".join(line.strip() for line in log.lines).replace(" ", "") == long_line.replace(" ", "")


async def test_the_tester_panel_keeps_its_hints_descriptions_and_highlight_and_one_clock(start_kiosk):
    async with start_kiosk(size=SMALL, tester_panel=True, language="zh") as journey:
        await journey.reach(Step.WELCOME)
        assert isinstance(journey.session.clock, OffsetClock)
        await journey.pilot.press("f9")
        await journey.pilot.pause()
        text = screen_text(journey.app)
        for hint in ("插入 (Enter)", "锁定 PIN (B)", "手机扫码 (S)", "时钟+1天 (J 4)", "关闭 (Esc)"):
            assert hint in text, hint  # each button with its key
        assert "(chen-jing-blocked)" in text and "提示锁定。" in text  # names and descriptions wrap, whole
        await journey.pilot.press("down", "down", "enter")  # the third profile goes in
        await journey.reach(Step.HOLDER)
        await journey.pilot.press("f9", "r")  # ... and out again
        await journey.reach(Step.WELCOME)
        await journey.pilot.press("f9")
        await journey.pilot.pause()
        panel = journey.app.screen
        assert isinstance(panel, screens.tester.TesterPanel)
        assert panel.query_one("#profiles", ListView).index == 2  # still on the card the tester works on
        try:
            await journey.pilot.press("j", "2")  # +5 min
            await journey.pilot.pause()
            record = logging.LogRecord("kiosk", logging.INFO, __file__, 1, "x", None, None)
            stamp = KioskClockFormatter("%(asctime)s").format(record)
            journey.kiosk.registry.audit("note", "right after the jump")
            audited = journey.kiosk.registry.audit_events(["note"])[-1].at
            audited = audited if audited.tzinfo else audited.replace(tzinfo=timezone.utc)
            assert stamp.endswith("(clock +00:05:00)")
            logged = datetime.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S").astimezone()
            assert abs(logged - audited) < timedelta(seconds=5)  # log and audit on one time line: the kiosk's
            assert abs(audited - journey.session.clock.now()) < timedelta(seconds=5)
        finally:
            follow_clock(None)
