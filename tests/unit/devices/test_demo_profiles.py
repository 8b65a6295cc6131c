"""Provides the tests of the demo card profiles in config/cards and of the profile loader's complaints."""
from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from devices.codec import encode_an
from devices.profiles import load_profile, load_profiles
from devices.service import ReaderCardService
from devices.simulated import SimulatedReader
from devices.sscard import EF06
from devices.virtual_card import VirtualCard
from kiosk import CONFIG_DIR
from kiosk.domain import PinStatus
from kiosk.errors import KioskError

CARDS_DIR = CONFIG_DIR / "cards"

# stem: (name, sex, birth date, birthplace, resident ID, card number, version)
DEMO_HOLDERS = {
    "zhang-wei-3.00": ("张伟", "1", date(1988, 3, 15), "430102", "430102198803150016", "L43000001", "3.00"),
    "li-na-2.00": ("李娜", "2", date(1990, 7, 8), "430102", "43010219900708004X", "L43000002", "2.00"),
    "wang-fang-expired": ("王芳", "2", date(1975, 1, 1), "430103", "430103197501010028", "L43000003", "2.00"),
    "liu-yang-lost": ("刘洋", "1", date(1985, 5, 5), "430102", "430102198505050033", "L43000004", "2.00"),
    "chen-jing-blocked": ("陈静", "2", date(1992, 2, 2), "430102", "430102199202020042", "L43000005", "2.00"),
    "yang-lei-last-try": ("杨磊", "1", date(1987, 7, 7), "430104", "430104198707070051", "L43000006", "2.00"),
    "huang-qiang-slots-full": ("黄强", "1", date(1980, 8, 8), "430105", "430105198008080097", "L43000007", "2.00"),
    "zhao-min-pulled": ("赵敏", "2", date(1993, 3, 3), "430102", "430102199303030063", "L43000008", "2.00"),
}


def _service_with(card: VirtualCard, key_holder_factory) -> tuple[ReaderCardService, SimulatedReader]:
    reader = SimulatedReader()
    reader.insert(card)
    return ReaderCardService(reader, key_holder_factory), reader


def test_the_demo_set_is_exactly_the_eleven_profiles(profiles) -> None:
    assert set(profiles) == set(DEMO_HOLDERS) | {"bank-card", "mute-card", "psam-test"}
    assert profiles["psam-test"].kind == "psam"


@pytest.mark.parametrize("stem", sorted(DEMO_HOLDERS))
def test_each_demo_card_reads_as_its_profile_says(stem: str, card_of, key_holder_factory) -> None:
    name, sex, birth_date, birthplace, resident_id, card_number, version = DEMO_HOLDERS[stem]
    card = card_of(stem)
    card.pull_after_apdus = None  # zhao-min's fault has its own test
    guardian = _service_with(card, key_holder_factory)[0].read_card()
    issuer, holder = guardian.issuer, guardian.holder
    assert holder is not None
    assert (holder.name, holder.sex, holder.birth_date, holder.birthplace, holder.resident_id, holder.nation) == (
        name, sex, birth_date, birthplace, resident_id, "01",
    )
    assert (issuer.card_number, issuer.spec_version, issuer.card_type, issuer.init_org) == (card_number, version, "3", "430100000000")
    assert issuer.area_code == birthplace
    assert issuer.card_id_code[3:8] == bytes.fromhex("D156000005")
    assert issuer.card_id_code[8:] == bytes(7) + bytes([int(card_number[-1])])
    assert issuer.issue_date is not None and 2020 <= issuer.issue_date.year <= 2023
    if stem == "wang-fang-expired":
        assert issuer.expiry_date == date(2024, 12, 31)
    else:
        assert issuer.expiry_date is not None and 2030 <= issuer.expiry_date.year <= 2035
    assert guardian.atr == card.atr and guardian.apdu_count > 0


def test_demo_atrs_are_distinct_and_the_3_00_card_talks_t0(profiles) -> None:
    atrs = [p.atr for p in profiles.values() if p.atr]
    assert len(atrs) == len(set(atrs)) == 10
    assert all(atr[:4] in (bytes.fromhex("3B6C0000"), bytes.fromhex("3B6D0000"), bytes.fromhex("3B6A0000")) for atr in atrs)
    assert profiles["zhang-wei-3.00"].behaviour.t0_get_response


def test_zhang_wei_has_an_empty_name_extension_and_a_3_00_card(profiles) -> None:
    profile = profiles["zhang-wei-3.00"]
    assert profile.name_extension == "" and profile.issuer is not None and profile.issuer.needs_external_auth


def test_pin_demo_cards_blocked_last_try_and_normal(card_of, key_holder_factory) -> None:
    blocked, _ = _service_with(card_of("chen-jing-blocked"), key_holder_factory)
    blocked.read_card()
    assert blocked.verify_pin("123456").status is PinStatus.BLOCKED
    last, _ = _service_with(card_of("yang-lei-last-try"), key_holder_factory)
    last.read_card()
    assert last.verify_pin("654321").status is PinStatus.BLOCKED
    normal, _ = _service_with(card_of("huang-qiang-slots-full"), key_holder_factory)
    normal.read_card()
    assert normal.verify_pin("123456").status is PinStatus.VERIFIED


def test_zhao_min_is_pulled_while_reading_then_reads_when_put_back(card_of, key_holder_factory) -> None:
    card = card_of("zhao-min-pulled")
    service, reader = _service_with(card, key_holder_factory)
    with pytest.raises(KioskError) as caught:
        service.read_card()
    assert caught.value.code == "CARD_REMOVED" and not reader.card_present()
    reader.insert(card)
    assert service.read_card().holder is not None


def test_bank_card_is_not_a_social_security_card(card_of, key_holder_factory) -> None:
    with pytest.raises(KioskError) as caught:
        _service_with(card_of("bank-card"), key_holder_factory)[0].read_card()
    assert caught.value.code == "CARD_NOT_SOCIAL_SECURITY"


def test_mute_card_is_card_mute(card_of, key_holder_factory) -> None:
    service, reader = _service_with(card_of("mute-card"), key_holder_factory)
    assert reader.card_present()
    with pytest.raises(KioskError) as caught:
        service.read_card()
    assert caught.value.code == "CARD_MUTE"


def test_each_profile_has_a_header_and_the_reference_documents_every_key() -> None:
    reference = (CARDS_DIR / "zhang-wei-3.00.toml").read_text(encoding="utf-8")
    keys: set[str] = set()
    for path in CARDS_DIR.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# "), path
        for key, value in tomllib.loads(text).items():
            keys.add(key)
            if isinstance(value, dict) and key not in ("label", "description"):
                keys.update(value)
    documented = {line.split()[1] for line in reference.splitlines() if line.startswith("# ") and len(line.split()) > 1}
    documented |= {line.split()[1].strip("[]") for line in reference.splitlines() if line.startswith("# [")}
    assert keys <= documented, keys - documented


def _write(tmp_path: Path, text: str, stem: str = "bad-card") -> Path:
    path = tmp_path / f"{stem}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _good_profile() -> str:
    return (CARDS_DIR / "li-na-2.00.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('sex = "2"', 'sex = "F"', "holder.sex"),
        ('sex = "2"', 'sex = "2"\ncolour = "red"', "holder.colour"),
        ('atr = "3B', 'atr = "XY', "atr"),
        ('value = "123456"', 'value = "12ab"', "pin.value"),
        ('value = "123456"', 'value = "123456"\ntries_left = 9', "pin.tries_left"),
        ('card_number = "L43000002"', 'card_number = "L4300"', "issuer.card_number"),
        ('issue_date = 2021-05-20', 'issue_date = "2021-02-30"', "issuer.issue_date"),
        ('name = "李娜"', 'name = "李娜"\nname_extension = "x"', "holder.name_extension"),
        ('spec_version = "2.00"', 'spec_version = 2', "issuer.spec_version"),
        ('[pin]', '[faults]\ncorrupt = ["EF09:01"]\n\n[pin]', "faults.corrupt"),
        ('[pin]', '[faults]\npull_after_apdus = true\n\n[pin]', "faults.pull_after_apdus"),
        (', en = "Li Na (2nd-gen card)"', "", "label"),
        ('[pin]', '[behaviour]\nlong_record = "maybe"\n\n[pin]', "behaviour.long_record"),
        ('[pin]', '[behaviour]\nshort_record_sw = "6A83"\n\n[pin]', "behaviour.short_record_sw"),
        ('[pin]', '[layout]\nsizes = { colour = 3 }\n\n[pin]', "layout.sizes.colour"),
        ('[pin]', '[layout]\nsizes = { name = 300 }\n\n[pin]', "layout.sizes.name"),
        ('[pin]', '[layout]\npadding_byte = "20"\n\n[pin]', "layout.padding_byte"),
        ('[pin]', '[layout]\nrecord_padding = 1\nwidth = 2\n\n[pin]', "layout.width"),
    ],
)
def test_bad_profile_names_the_file_and_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    text = _good_profile()
    assert old in text
    path = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(ValueError) as caught:
        load_profile(path)
    assert str(path) in str(caught.value) and key in str(caught.value)


def test_card_profile_without_holder_data_is_refused(tmp_path: Path) -> None:
    text = _good_profile().split("[holder]")[0]
    with pytest.raises(ValueError, match="holder"):
        load_profile(_write(tmp_path, text))


def test_psam_profile_without_master_key_is_refused(tmp_path: Path) -> None:
    text = (CARDS_DIR / "psam-test.toml").read_text(encoding="utf-8").split("[psam]")[0]
    with pytest.raises(ValueError, match="psam"):
        load_profile(_write(tmp_path, text))


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path, "label = {")
    with pytest.raises(ValueError, match="bad-card"):
        load_profiles(tmp_path)


def test_a_profile_lays_its_records_out_as_its_layout_says(tmp_path: Path, card_of, key_holder_factory) -> None:
    text = _good_profile().replace("[pin]", '[behaviour]\nlong_record = "truncate"\nshort_record_sw = "9000"\nfci = false\n\n'
                                   '[layout]\nsizes = { name = 40, init_org = 12 }\nrecord_padding = 3\n'
                                   'padding_byte = "FF"\n\n[pin]', 1)
    profile = load_profile(_write(tmp_path, text, "li-na-odd"))
    assert (profile.layout.sizes, profile.layout.record_padding, profile.layout.padding_byte) == (
        {"name": 40, "init_org": 12}, 3, 0xFF)
    assert (profile.behaviour.long_record, profile.behaviour.short_record_sw, profile.behaviour.fci) == ("truncate", 0x9000, False)
    card = VirtualCard.from_profile(profile, None)
    assert card.item(EF06, 0x09) == encode_an("李娜", 40)
    plain_service, _ = _service_with(card_of("li-na-2.00"), key_holder_factory)
    odd_service, _ = _service_with(card, key_holder_factory)
    plain, odd = plain_service.read_card(), odd_service.read_card()
    assert (odd.issuer, odd.holder) == (plain.issuer, plain.holder)
