"""Provides tests of the registry queries behind the maintenance console, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy
from sqlmodel import select

from kiosk.domain import ECardState
from kiosk.ports import ManualClock
from kiosk.registry import Registry
from kiosk.registry.models import ECard, Guardianship
from kiosk.registry.upkeep import CONSISTENCY_RULES

from .conftest import KIOSK_ID, NOW

ZHANG_WEI = "430102198803150016"
ZHANG_XIAOYU = "430102201906010029"
LI_NA = "43010219900708004X"
LI_JIAYI = "430102201611300088"
URL = "https://ecard.example.gov.cn/activate"
MIDNIGHT = datetime(2026, 6, 1, 0, 0, tzinfo=timezone.utc)


def test_counts_of_the_demo_data_and_of_a_registration_today(demo_registry: Registry, clock: ManualClock) -> None:
    before = demo_registry.counts(MIDNIGHT)
    assert (before.registrations_today, before.pending, before.activated, before.cancelled, before.expired_tickets) == (
        0, 1, 4, 0, 0)
    assert before.people > 10
    ecard_id = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    demo_registry.issue_ticket(ecard_id, URL, 60)
    clock.advance(120)
    after = demo_registry.counts(MIDNIGHT)
    assert (after.registrations_today, after.pending, after.expired_tickets) == (1, 2, 1)
    assert after.last_write == NOW  # the ticket's issue, the newest write
    assert demo_registry.counts(MIDNIGHT + timedelta(days=1)).registrations_today == 0


def test_storage_names_the_backend_hides_the_password_and_has_a_size(demo_registry: Registry) -> None:
    info = demo_registry.storage()
    assert info.backend in ("sqlite", "postgresql")
    assert info.size_bytes is not None and info.size_bytes > 0
    assert info.location.startswith(info.backend)
    assert info.location == sqlalchemy.engine.make_url(demo_registry.database.url).render_as_string(hide_password=True)


def test_pending_activations_span_every_guardian_and_show_the_newest_code(demo_registry: Registry) -> None:
    ecard_id = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, "KIOSK-7")
    demo_registry.issue_ticket(ecard_id, URL, 300)
    pending = demo_registry.pending_activations()
    assert [p.child_resident_id for p in pending] == [LI_JIAYI, ZHANG_XIAOYU]  # oldest first
    demo, mine = pending
    assert demo.code_expires_at is None and demo.applicant_resident_id == LI_NA
    assert mine.code_expires_at == NOW + timedelta(seconds=300) and mine.kiosk_id == "KIOSK-7"
    assert mine.child_masked_id == "4301**********0029" and mine.child_masked_name == "张*雨"
    assert mine.applicant_masked_id == "4301**********0016"


def test_cancel_pending_revokes_its_codes_and_frees_the_child(demo_registry: Registry) -> None:
    ecard_id = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    ticket = demo_registry.issue_ticket(ecard_id, URL, 300)
    assert demo_registry.cancel_pending(ecard_id, "by=T0001 child=430102201906010029") is True
    assert demo_registry.ticket_state(ticket.ticket_id) == "revoked"
    assert demo_registry.child_ecard(ZHANG_XIAOYU) is None
    assert demo_registry.cancel_pending(ecard_id) is False  # not pending any more
    (event,) = demo_registry.audit_events(["ecard_cancelled"])
    assert event.detail == f"ecard={ecard_id} by=T0001 child=4301**********0029"  # masked on the way in
    assert demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID) != ecard_id


def test_cancel_pending_refuses_an_active_e_card(demo_registry: Registry) -> None:
    ecard_id = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    demo_registry.activate(demo_registry.issue_ticket(ecard_id, URL, 300).user_code)
    assert demo_registry.cancel_pending(ecard_id) is False
    assert demo_registry.child_ecard(ZHANG_XIAOYU).state is ECardState.ACTIVE


def test_audit_events_newest_first_filtered_by_kind(registry: Registry, clock: ManualClock) -> None:
    for kind in ("a_kind", "b_kind", "a_kind"):
        registry.audit(kind, f"n={kind}")
        clock.advance(1)
    assert [e.kind for e in registry.audit_events()] == ["a_kind", "b_kind", "a_kind"]
    newest = registry.audit_events(["a_kind"])
    assert len(newest) == 2 and newest[0].at > newest[1].at
    assert registry.audit_events(["a_kind", "b_kind"], limit=1)[0].kind == "a_kind"
    assert registry.audit_kinds() == ["a_kind", "b_kind"]


def test_purge_with_a_grace_keeps_codes_that_ran_out_only_just(demo_registry: Registry, clock: ManualClock) -> None:
    ecard_id = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    ticket = demo_registry.issue_ticket(ecard_id, URL, 60)
    clock.advance(120)
    assert demo_registry.purge_expired(grace_seconds=900) == 0
    assert demo_registry.ticket_state(ticket.ticket_id) == "expired"
    clock.advance(900)
    assert demo_registry.purge_expired(grace_seconds=900) == 1


def test_consistency_of_the_demo_data_holds(demo_registry: Registry) -> None:
    findings = demo_registry.consistency()
    assert [f.code for f in findings] == list(CONSISTENCY_RULES)
    assert all(f.count == 0 and f.examples == () for f in findings)


def test_consistency_names_what_breaks_the_rules(demo_registry: Registry) -> None:
    ecard_id = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    with demo_registry.database.transaction("break") as session:
        ecard = session.get(ECard, ecard_id)
        ecard.state = ECardState.ACTIVE  # active without an activation time
        guardianship = session.exec(select(Guardianship).where(Guardianship.child_id == ecard.child_id)).one()
        session.delete(guardianship)  # the applicant is no longer on record as the guardian
    found = {f.code: f for f in demo_registry.consistency()}
    assert found["ACTIVE_WITHOUT_TIME"].count == 1 and found["ACTIVE_WITHOUT_TIME"].examples == (ecard_id,)
    assert found["APPLICANT_NOT_GUARDIAN"].examples == (ecard_id,)
    assert found["SEVERAL_LIVE_TICKETS"].count == 0
