"""Provides tests of the registry's queries and writes against the demo data."""
from __future__ import annotations

from datetime import date, timezone
from pathlib import Path

import pytest
from sqlmodel import select

from kiosk.domain import CardStatus, ECardState
from kiosk.ports import ManualClock
from kiosk.registry import DemoDataError, Registry, RegistrationRefused, load_demo
from kiosk.registry.models import ECard
from kiosk.resident_id import ResidentId

from .conftest import DEMO_FILE, KIOSK_ID, NOW

ZHANG_WEI = "430102198803150016"
ZHANG_XIAOYU = "430102201906010029"
ZHANG_MINGXUAN = "430102200905200037"
LI_NA = "43010219900708004X"
LI_ZIHAN = "43010220210214005X"
LI_SIYUAN = "430102201809090071"
LI_JIAYI = "430102201611300088"
HUANG_QIANG = "430105198008080097"
HUANG_ZIRUI = "430105202006060075"
ZHOU_ZIHAO = "430102201704040019"
NOBODY = "430102201803030019"


def test_a_new_registry_is_empty_and_demo_data_fills_it_once(registry: Registry) -> None:
    assert registry.is_empty()
    assert load_demo(registry, DEMO_FILE) is True
    assert not registry.is_empty()
    assert load_demo(registry, DEMO_FILE) is False


def test_every_demo_id_number_is_valid() -> None:
    import tomllib

    document = tomllib.loads(DEMO_FILE.read_text(encoding="utf-8"))
    for person in document["person"]:
        ResidentId.parse(person["resident_id"], today=NOW.date())
    ResidentId.parse(NOBODY, today=NOW.date())


@pytest.mark.parametrize(
    ("card_number", "status"),
    [("L43000001", CardStatus.NORMAL), ("L43000003", CardStatus.NORMAL), ("L43000004", CardStatus.LOST),
     ("l43000002", CardStatus.NORMAL), ("L49999999", CardStatus.UNKNOWN)],
)
def test_card_status_comes_from_the_registry(demo_registry: Registry, card_number: str, status: CardStatus) -> None:
    assert demo_registry.card_status(card_number) is status


def test_find_person_returns_a_plain_record_with_data_from_the_id(demo_registry: Registry) -> None:
    person = demo_registry.find_person(ZHANG_XIAOYU)
    assert person is not None
    assert (person.name, person.birth_date, person.sex, person.has_physical_card) == ("张小雨", date(2019, 6, 1), "2", False)
    assert person.masked_name == "张*雨"
    assert demo_registry.find_person(NOBODY) is None


def test_find_person_accepts_a_resident_id_value(demo_registry: Registry) -> None:
    assert demo_registry.find_person(ResidentId.parse(LI_NA)) is not None


def test_relationship_is_the_one_on_record(demo_registry: Registry) -> None:
    assert demo_registry.relationship(ZHANG_WEI, ZHANG_XIAOYU) == "father"
    assert demo_registry.relationship(LI_NA.lower(), LI_ZIHAN) == "mother"
    assert demo_registry.relationship(ZHANG_WEI, ZHOU_ZIHAO) is None
    assert demo_registry.relationship(LI_NA, ZHANG_XIAOYU) is None


def test_child_ecard_gives_the_state_and_who_applied(demo_registry: Registry) -> None:
    active = demo_registry.child_ecard(LI_SIYUAN)
    pending = demo_registry.child_ecard(LI_JIAYI)
    assert active is not None and active.state is ECardState.ACTIVE and active.applicant_resident_id == LI_NA
    assert pending is not None and pending.state is ECardState.PENDING and pending.applicant_resident_id == LI_NA
    assert demo_registry.child_ecard(ZHANG_XIAOYU) is None


def test_child_ecard_ignores_cancelled_e_cards(demo_registry: Registry) -> None:
    ecard_id = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    with demo_registry.database.transaction("cancel") as session:
        ecard = session.get(ECard, ecard_id)
        assert ecard is not None
        ecard.state = ECardState.CANCELLED
    assert demo_registry.child_ecard(ZHANG_XIAOYU) is None


def test_guardian_children_with_ecards_counts_active_and_pending_but_not_the_child_itself(demo_registry: Registry) -> None:
    assert demo_registry.guardian_children_with_ecards(HUANG_QIANG, HUANG_ZIRUI) == 3
    assert demo_registry.guardian_children_with_ecards(LI_NA, LI_ZIHAN) == 2  # one active, one pending
    assert demo_registry.guardian_children_with_ecards(LI_NA, LI_JIAYI) == 1
    assert demo_registry.guardian_children_with_ecards(LI_NA) == 2
    assert demo_registry.guardian_children_with_ecards(ZHANG_WEI, ZHANG_XIAOYU) == 0


def test_pending_for_guardian_lists_the_childrens_pending_e_cards(demo_registry: Registry) -> None:
    (pending,) = demo_registry.pending_for_guardian(LI_NA)
    assert (pending.child_resident_id, pending.child_name, pending.applied_by_this_guardian) == (LI_JIAYI, "李佳怡", True)
    assert pending.child_masked_id == "4301**********0088" and pending.child_masked_name == "李*怡"
    assert demo_registry.pending_for_guardian(ZHANG_WEI) == []


def test_register_ecard_creates_one_pending_level_1_e_card(demo_registry: Registry, clock: ManualClock) -> None:
    ecard_id = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, "KIOSK-7")
    found = demo_registry.child_ecard(ZHANG_XIAOYU)
    assert found is not None and (found.ecard_id, found.state, found.applicant_resident_id) == (
        ecard_id,
        ECardState.PENDING,
        ZHANG_WEI,
    )
    assert found.created_at == clock.now() and found.created_at.tzinfo is not None
    with demo_registry.database.transaction("read") as session:
        ecard = session.exec(select(ECard).where(ECard.id == ecard_id)).one()
        assert (ecard.level, ecard.kiosk_id) == (1, "KIOSK-7")


def test_register_ecard_is_idempotent(demo_registry: Registry) -> None:
    first = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    assert demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID) == first
    assert [p.ecard_id for p in demo_registry.pending_for_guardian(ZHANG_WEI)] == [first]


def test_register_ecard_returns_the_pending_one_another_guardian_started(demo_registry: Registry) -> None:
    pending = demo_registry.child_ecard(LI_JIAYI)
    assert pending is not None
    assert demo_registry.register_ecard(LI_NA, LI_JIAYI, KIOSK_ID) == pending.ecard_id


@pytest.mark.parametrize(
    ("guardian", "child", "code"),
    [(LI_NA, LI_SIYUAN, "CHILD_HAS_ECARD"), (ZHANG_WEI, ZHOU_ZIHAO, "NOT_GUARDIAN"), (ZHANG_WEI, NOBODY, "CHILD_UNKNOWN")],
)
def test_register_ecard_refuses_what_the_records_forbid(demo_registry: Registry, guardian: str, child: str, code: str) -> None:
    with pytest.raises(RegistrationRefused) as caught:
        demo_registry.register_ecard(guardian, child, KIOSK_ID)
    assert caught.value.code == code


def test_registration_writes_a_masked_audit_event(demo_registry: Registry) -> None:
    demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    event = demo_registry.recent_audit(1)[0]
    assert event.kind == "ecard_registered" and ZHANG_XIAOYU not in event.detail and "4301**********0029" in event.detail


def test_audit_stores_utc_time_and_masks_id_numbers_left_in_the_detail(registry: Registry, clock: ManualClock) -> None:
    registry.audit("child_checked", f"child={ZHANG_XIAOYU} ok")
    event = registry.recent_audit(1)[0]
    assert event.detail == "child=4301**********0029 ok"
    assert event.at == clock.now() and event.at.tzinfo == timezone.utc and event.kiosk_id == KIOSK_ID


def test_a_bad_demo_file_names_the_entry_and_leaves_the_registry_empty(registry: Registry, tmp_path: Path) -> None:
    broken = DEMO_FILE.read_text(encoding="utf-8").replace('relationship = "mother"', 'relationship = "aunt"', 1)
    path = tmp_path / "demo.toml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DemoDataError, match=r"guardianship\[\d+\]\.relationship"):
        load_demo(registry, path)
    assert registry.is_empty()
