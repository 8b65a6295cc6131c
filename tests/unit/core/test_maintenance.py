"""Provides tests of maintenance mode's core: PIN hashes, the door's lockout on the kiosk's clock, the hidden
gestures, entering and leaving with their audit trail, the service switch, idle return and the purge schedule."""
from __future__ import annotations

import tomllib
from datetime import timedelta

import pytest

from kiosk import CONFIG_DIR
from kiosk.eligibility import load_region
from kiosk.maintenance import (
    MAINTENANCE_MODE,
    TECHNICIAN_OUT_OF_SERVICE,
    CornerTaps,
    KeySequence,
    LoginOutcome,
    MaintenanceMode,
    TechnicianDoor,
    hash_pin,
    parse_key_sequence,
    parse_pin_hash,
)
from kiosk.maintenance.passwords import verify_technician
from kiosk.ports import ManualClock
from kiosk.registry import Registry
from kiosk.session import KioskSession, SessionPolicy, Step

from .conftest import NOW

PIN = "24680"
SALT = bytes(range(16))


# ----------------------------------------------------------------------------- PIN hashes
@pytest.mark.parametrize("scheme", ["scrypt", "pbkdf2_sha256"])
def test_a_hash_verifies_its_pin_only(scheme: str) -> None:
    stored = hash_pin(PIN, scheme=scheme, salt=SALT)
    assert stored.startswith(scheme + "$") and PIN not in stored
    hashes = {"T0001": parse_pin_hash(stored)}
    assert verify_technician(hashes, "T0001", PIN)
    assert not verify_technician(hashes, "T0001", "24681")
    assert not verify_technician(hashes, "T0002", PIN)  # an unknown ID, checked against a decoy all the same


def test_the_same_pin_hashes_differently_with_each_fresh_salt() -> None:
    assert hash_pin(PIN) != hash_pin(PIN)


def test_the_demo_technician_in_the_default_settings_has_pin_24680() -> None:
    document = tomllib.loads((CONFIG_DIR / "kiosk.toml").read_text(encoding="utf-8"))
    assert verify_technician({"T0001": parse_pin_hash(document["technicians"]["T0001"])}, "T0001", PIN)


@pytest.mark.parametrize("stored", [
    "24680", "md5$abc", "scrypt$16384$8$1$00$" + "00" * 32, "scrypt$1000$8$1$" + "00" * 16 + "$" + "00" * 32,
    "pbkdf2_sha256$1000$" + "00" * 16 + "$" + "00" * 32, "scrypt$16384$8$1$" + "0" * 33 + "$" + "00" * 32,
])
def test_a_stored_hash_that_is_not_one_or_too_cheap_is_refused(stored: str) -> None:
    with pytest.raises(ValueError):
        parse_pin_hash(stored)


@pytest.mark.parametrize("pin", ["1234", "12345a", "", "1234567890123"])
def test_a_technician_pin_is_5_to_12_digits(pin: str) -> None:
    with pytest.raises(ValueError):
        hash_pin(pin)


# ----------------------------------------------------------------------------- the door
@pytest.fixture
def audited() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def door(clock: ManualClock, audited: list[tuple[str, str]]) -> TechnicianDoor:
    return TechnicianDoor({"T0001": hash_pin(PIN, salt=SALT)}, clock, lambda kind, detail: audited.append((kind, detail)))


def test_the_right_id_and_pin_open_the_door(door: TechnicianDoor) -> None:
    result = door.try_login("T0001", PIN)
    assert result.outcome is LoginOutcome.ADMITTED and result.technician == "T0001"


def test_wrong_tries_count_down_and_the_fifth_locks_for_five_minutes(
        door: TechnicianDoor, clock: ManualClock, audited: list[tuple[str, str]]) -> None:
    for tries_left in (4, 3, 2, 1):
        result = door.try_login("T0001", "11111")
        assert (result.outcome, result.tries_left) == (LoginOutcome.DENIED, tries_left)
    locked = door.try_login("nobody", PIN)  # an unknown ID is a wrong try as well
    assert (locked.outcome, locked.locked_seconds) == (LoginOutcome.LOCKED, 300)
    assert [kind for kind, _ in audited] == ["maintenance_denied"] * 5 + ["maintenance_locked"]
    assert all(PIN not in detail and "11111" not in detail for _, detail in audited)  # PINs never audited
    clock.advance(299)
    still = door.try_login("T0001", PIN)  # the right PIN cannot get in while locked
    assert (still.outcome, still.locked_seconds) == (LoginOutcome.LOCKED, 1)
    assert audited[-1] == ("maintenance_denied", "technician=T0001 reason=locked seconds_left=1")
    clock.advance(1)
    assert door.locked_seconds() == 0
    assert door.try_login("T0001", PIN).outcome is LoginOutcome.ADMITTED


def test_a_success_starts_the_count_of_wrong_tries_again(door: TechnicianDoor) -> None:
    for _ in range(4):
        door.try_login("T0001", "11111")
    assert door.try_login("T0001", PIN).outcome is LoginOutcome.ADMITTED
    assert door.try_login("T0001", "11111").tries_left == 4


# ----------------------------------------------------------------------------- gestures
def test_the_key_sequence_counts_when_typed_in_time(clock: ManualClock) -> None:
    keys = KeySequence(parse_key_sequence("f12 f12 m a i n t"))
    typed = ["f12", "f12", "f12", "m", "a", "i", "n"]  # an extra F12 first does not spoil it
    assert not any(keys.feed(key, clock.now()) for key in typed)
    assert keys.feed("t", clock.now())
    for key in ["f12", "f12", "m", "a", "i", "n"]:
        keys.feed(key, clock.now())
        clock.advance(1.5)
    assert not keys.feed("t", clock.now())  # 9 s: too slow


def test_a_key_sequence_setting_needs_key_names() -> None:
    assert parse_key_sequence("F12  ctrl+f12 m a") == ("f12", "ctrl+f12", "m", "a")
    for text in ("f12 m", "f12 f12 m ä"):
        with pytest.raises(ValueError):
            parse_key_sequence(text)


def test_five_corner_taps_within_three_seconds(clock: ManualClock) -> None:
    taps = CornerTaps()
    assert [taps.feed(clock.now()) for _ in range(5)] == [False, False, False, False, True]
    for _ in range(4):
        taps.feed(clock.now())
        clock.advance(1)
    assert not taps.feed(clock.now())  # the first of these five is more than 3 s old
    taps.miss()
    assert not any(taps.feed(clock.now()) for _ in range(4))


# ----------------------------------------------------------------------------- entering, leaving, actions
class _NoCard:
    """A reader slot with no card: the maintenance core never talks to cards itself."""

    def card_present(self) -> bool:
        return False

    def release(self) -> None:
        pass


@pytest.fixture
def mode(demo_registry: Registry, clock: ManualClock) -> MaintenanceMode:
    session = KioskSession(_NoCard(), demo_registry, load_region(CONFIG_DIR / "regions" / "default.toml"), clock,  # type: ignore[arg-type]
                           SessionPolicy("TEST-KIOSK", "zh", "https://ecard.example.gov.cn/activate", 300, 3, 90))
    door = TechnicianDoor({"T0001": hash_pin(PIN, salt=SALT)}, clock, demo_registry.audit)
    return MaintenanceMode(session, demo_registry, door, clock, key_sequence=("f12", "m", "a", "i"),
                           idle_seconds=180, purge_hours=1)


def _kinds(registry: Registry) -> list[str]:
    return [event.kind for event in reversed(registry.audit_events())]


def test_login_enters_maintenance_out_of_service_and_leaving_restores_service(mode: MaintenanceMode) -> None:
    session = mode.session
    assert mode.try_login("T0001", PIN).outcome is LoginOutcome.ADMITTED
    assert mode.active and mode.technician == "T0001"
    assert session.step is Step.OUT_OF_SERVICE and session.out_of_service_reasons == (MAINTENANCE_MODE,)
    session.begin()  # nothing a guardian does starts a visit behind the console
    assert session.step is Step.OUT_OF_SERVICE
    mode.leave()
    assert not mode.active and session.step is Step.WELCOME
    assert _kinds(mode.registry) == ["maintenance_enter", "maintenance_exit"]
    assert mode.registry.audit_events(["maintenance_exit"])[0].detail == "technician=T0001 reason=left"


def test_out_of_service_with_a_message_outlasts_maintenance(mode: MaintenanceMode) -> None:
    mode.try_login("T0001", PIN)
    mode.take_out_of_service("  Closed   for repair\nuntil 14:00 ")
    state = mode.service_state()
    assert state.out_of_service and state.message == "Closed for repair until 14:00"
    mode.leave()
    view = mode.session.view
    assert view.step is Step.OUT_OF_SERVICE and view.out_of_service == TECHNICIAN_OUT_OF_SERVICE
    assert view.service_message == "Closed for repair until 14:00"
    mode.try_login("T0001", PIN)
    mode.put_back_in_service()
    assert not mode.service_state().out_of_service
    mode.leave()
    assert mode.session.step is Step.WELCOME and mode.session.view.service_message is None
    actions = [e.detail for e in mode.registry.audit_events(["maintenance_action"])]
    assert actions == ["technician=T0001 action=in_service", "technician=T0001 action=out_of_service message_chars=29"]


def test_the_console_closes_itself_after_the_idle_time(mode: MaintenanceMode, clock: ManualClock) -> None:
    assert mode.idle_seconds_left() is None
    mode.try_login("T0001", PIN)
    clock.advance(100)
    mode.touch()
    clock.advance(179)
    assert mode.idle_seconds_left() == 1
    clock.advance(1)
    assert mode.idle_seconds_left() == 0


def test_cancel_and_purge_are_audited_as_the_technicians_actions(mode: MaintenanceMode, clock: ManualClock) -> None:
    registry = mode.registry
    ecard = registry.register_ecard("430102198803150016", "430102201906010029", "TEST-KIOSK")
    registry.issue_ticket(ecard, "https://ecard.example.gov.cn/activate", 60)
    mode.try_login("T0001", PIN)
    assert [p.ecard_id for p in mode.pending_activations()][-1] == ecard
    assert mode.cancel_registration(ecard) is True
    clock.advance(60 + 900)
    assert mode.purge_expired() == 1
    details = [e.detail for e in registry.audit_events(["maintenance_action"])]
    assert details == ["technician=T0001 action=purge_expired tickets=1",
                       f"technician=T0001 action=cancel_registration ecard={ecard} done=True"]
    assert registry.audit_events(["ecard_cancelled"])[0].detail == f"ecard={ecard} by=T0001"


def test_the_scheduled_purge_runs_every_purge_hours(mode: MaintenanceMode, clock: ManualClock) -> None:
    registry = mode.registry
    ecard = registry.register_ecard("430102198803150016", "430102201906010029", "TEST-KIOSK")
    registry.issue_ticket(ecard, "https://ecard.example.gov.cn/activate", 60)
    assert not mode.purge_due()
    clock.advance(timedelta(hours=1).total_seconds())
    assert mode.purge_due()
    assert mode.run_scheduled_purge() == 1
    assert not mode.purge_due()
    assert registry.audit_events(["tickets_purged"])[0].detail == "tickets=1 by=schedule"


def test_audit_events_come_back_masked(mode: MaintenanceMode) -> None:
    mode.registry.audit("note", "child 430102201906010029 seen")
    assert mode.audit_events("note")[0].detail == "child 4301**********0029 seen"


def test_the_settings_page_never_shows_a_secret(mode: MaintenanceMode) -> None:
    from kiosk.maintenance.reports import settings_rows

    rows = {row.key: row for row in settings_rows(
        {"technicians": {"T0001": hash_pin(PIN, salt=SALT)}, "database_url": "postgresql+psycopg://k:s3cret@db/k",
         "kiosk_id": "K1"}, {"kiosk_id": "KIOSK_KIOSK_ID"})}
    assert rows["technicians"].value == "T0001" and rows["technicians"].hidden
    assert rows["database_url"].value == "postgresql+psycopg://k:***@db/k" and rows["database_url"].hidden
    assert (rows["kiosk_id"].value, rows["kiosk_id"].origin, rows["kiosk_id"].hidden) == ("K1", "KIOSK_KIOSK_ID", False)
    assert rows["technicians"].origin == "default"


def test_the_log_tail_is_masked_and_reaches_into_the_rotated_file(tmp_path) -> None:
    from kiosk.maintenance.reports import log_tail

    log_file = tmp_path / "kiosk.log"
    (tmp_path / "kiosk.log.1").write_text("old 1\nold 2\n", encoding="utf-8")
    log_file.write_text("new for 430102201906010029\n", encoding="utf-8")
    assert log_tail(log_file, lines=2) == ["old 2", "new for 4301**********0029"]
    assert log_tail(tmp_path / "missing.log") == []


def test_audit_csv_is_masked_and_safe_for_spreadsheets(tmp_path) -> None:
    import csv

    from kiosk.maintenance.reports import write_audit_csv
    from kiosk.registry import AuditRecord

    records = [AuditRecord(NOW, "note", "=HYPERLINK(1) 430102201906010029", "K1")]
    path = write_audit_csv(records, tmp_path / "exports", NOW)
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert rows == [["at_utc", "kind", "kiosk_id", "detail"],
                    [NOW.isoformat(), "note", "K1", "'=HYPERLINK(1) 4301**********0029"]]


def test_the_door_keeps_count_and_locks_with_the_database_down(clock: ManualClock) -> None:
    from kiosk.errors import KioskError

    def audit(kind: str, detail: str) -> None:
        raise KioskError("DATABASE_UNAVAILABLE", "gone")

    door = TechnicianDoor({"T0001": hash_pin(PIN, salt=SALT)}, clock, audit)
    results = [door.try_login("T0001", "11111").outcome for _ in range(5)]
    assert results == [LoginOutcome.DENIED] * 4 + [LoginOutcome.LOCKED]
