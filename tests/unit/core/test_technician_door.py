"""Provides the tests of the technician door's lockout across restarts and clock jumps, and of what its audit trail
says about an ID that is no technician's (a PIN typed into the ID field)."""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.maintenance import LoginOutcome, TechnicianDoor, hash_pin
from kiosk.ports import ManualClock, OffsetClock

from .conftest import NOW

PIN = "24680"
SALT = bytes(range(16))
HASHES = {"T0001": hash_pin(PIN, salt=SALT)}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "maintenance-door.json"


def _door(clock, state_file: Path | None, audited: list | None = None) -> TechnicianDoor:
    record = audited.append if audited is not None else (lambda event: None)
    return TechnicianDoor(HASHES, clock, lambda kind, detail: record((kind, detail)), state_file=state_file)


def _lock(door: TechnicianDoor) -> None:
    for _ in range(door.max_tries):
        door.try_login("T0001", "11111")
    assert door.locked_seconds() == door.lock_seconds


# ---------------------------------------------------------------- the lockout outlasts a restart
def test_the_lockout_outlasts_a_restart_of_the_kiosk(clock: ManualClock, state_file: Path) -> None:
    # Seen on main: the lockout lived in memory, so restarting the kiosk lifted it.
    _lock(_door(clock, state_file))
    clock.advance(60)
    restarted = _door(clock, state_file)
    assert restarted.locked_seconds() == 240
    assert restarted.try_login("T0001", PIN).outcome is LoginOutcome.LOCKED
    clock.advance(240)
    assert restarted.try_login("T0001", PIN).outcome is LoginOutcome.ADMITTED


def test_wrong_tries_before_a_restart_count_after_it(clock: ManualClock, state_file: Path) -> None:
    door = _door(clock, state_file)
    for _ in range(4):
        door.try_login("T0001", "11111")
    result = _door(clock, state_file).try_login("T0001", "11111")
    assert (result.outcome, result.locked_seconds) == (LoginOutcome.LOCKED, 300)


def test_the_state_is_written_atomically_and_a_success_clears_it(clock: ManualClock, state_file: Path) -> None:
    door = _door(clock, state_file)
    door.try_login("T0001", "11111")
    assert json.loads(state_file.read_text())["failures"] == 1
    assert [p.name for p in state_file.parent.iterdir()] == [state_file.name]  # no temporary file left behind
    door.try_login("T0001", PIN)
    assert json.loads(state_file.read_text()) == {"failures": 0, "locked_until": None}


def test_a_state_file_that_cannot_be_read_keeps_the_door_locked(clock: ManualClock, state_file: Path) -> None:
    state_file.parent.mkdir(parents=True)
    state_file.write_text("{ half written")
    door = _door(clock, state_file)
    assert door.locked_seconds() == door.lock_seconds  # fail closed: someone may have broken it on purpose
    clock.advance(door.lock_seconds)
    assert door.try_login("T0001", PIN).outcome is LoginOutcome.ADMITTED


def test_a_lock_reaching_further_than_one_lock_is_cut_to_one(clock: ManualClock, state_file: Path) -> None:
    state_file.parent.mkdir(parents=True)
    state_file.write_text(json.dumps({"failures": 5, "locked_until": (NOW + timedelta(days=30)).isoformat()}))
    assert _door(clock, state_file).locked_seconds() == 300  # the clock was set back, or the file edited


def test_a_door_whose_state_cannot_be_written_still_locks(clock: ManualClock, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    door = _door(clock, blocked / "maintenance-door.json")  # its folder is a file
    _lock(door)
    assert door.try_login("T0001", PIN).outcome is LoginOutcome.LOCKED


# ---------------------------------------------------------------- the real clock, not the tester's
def test_the_testers_clock_jump_does_not_lift_the_lockout(state_file: Path) -> None:
    # Seen on main: in simulated mode the door ran on the tester panel's offset clock, so a jump of a day opened it.
    clock = OffsetClock()
    door = _door(clock, state_file)
    _lock(door)
    clock.jump(24 * 3600)
    assert door.locked_seconds() > 290
    assert door.try_login("T0001", PIN).outcome is LoginOutcome.LOCKED


def test_a_kiosk_on_the_testers_clock_keeps_its_door_on_the_real_one(settings_for) -> None:
    from tests.conftest import kiosk_root

    kiosk = kiosk_root.build_kiosk(settings_for(technicians={"T0001": HASHES["T0001"]}))
    try:
        door = kiosk.maintenance.door
        _lock(door)
        kiosk.session.clock.jump(3 * 3600)  # the tester panel's J 3, three times
        assert door.locked_seconds() > 290
        assert (kiosk.settings.data_dir / "maintenance-door.json").exists()
    finally:
        kiosk.registry.close()


# ---------------------------------------------------------------- a PIN typed into the ID field
def test_an_id_that_is_no_technicians_is_never_written_to_the_audit_trail(clock: ManualClock, state_file) -> None:
    # Seen on main: the typed ID went verbatim into the audit log, the Audit page and the CSV export.
    audited: list[tuple[str, str]] = []
    door = _door(clock, state_file, audited)
    door.try_login(PIN, PIN)  # the PIN typed where the ID belongs
    door.try_login("T0001", "11111")
    assert audited == [("maintenance_denied", "technician=(unknown) reason=wrong failures=1"),
                       ("maintenance_denied", "technician=T0001 reason=wrong failures=2")]
    assert door.shown_id(" 24680 ") == "(unknown)" and door.shown_id("T0001") == "T0001"


def test_old_audit_rows_with_a_typed_pin_are_masked_on_the_page_and_in_the_csv(mode_with_old_rows) -> None:
    mode, typed = mode_with_old_rows
    details = [record.detail for record in mode.audit_events("maintenance_denied")]
    assert details == ["technician=(unknown) reason=wrong failures=1"]
    csv_text = mode.export_audit("maintenance_denied").read_text(encoding="utf-8")
    assert typed not in csv_text and "technician=(unknown)" in csv_text


@pytest.fixture
def mode_with_old_rows(demo_registry, clock: ManualClock, tmp_path: Path):
    from kiosk import CONFIG_DIR
    from kiosk.eligibility import load_region
    from kiosk.maintenance import MaintenanceMode
    from kiosk.session import KioskSession, SessionPolicy

    typed = "24680"
    demo_registry.audit("maintenance_denied", f"technician={typed} reason=wrong failures=1")  # as main wrote it
    session = KioskSession(_NoCard(), demo_registry, load_region(CONFIG_DIR / "regions" / "default.toml"), clock,  # type: ignore[arg-type]
                           SessionPolicy("TEST-KIOSK", "zh", "https://ecard.example.gov.cn/activate", 300, 3, 90))
    door = _door(clock, tmp_path / "door.json")
    mode = MaintenanceMode(session, demo_registry, door, clock, key_sequence=("f12",), idle_seconds=60,
                           purge_hours=0, export_dir=tmp_path / "exports")
    return mode, typed


class _NoCard:
    """A reader slot with no card: the maintenance core never talks to cards itself."""

    def card_present(self) -> bool:
        return False

    def release(self) -> None:
        pass


def test_no_temporary_state_file_is_left_when_the_replace_fails(clock: ManualClock, state_file: Path,
                                                                monkeypatch) -> None:
    door = _door(clock, state_file)

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    door.try_login("T0001", "11111")
    assert not any(state_file.parent.iterdir())
