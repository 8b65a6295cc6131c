"""Provides the virtual card profiles: `config/cards/*.toml` loaded and checked into `CardProfile` values."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from devices.codec import encode_an, pin_to_bcd
from kiosk.domain import CardHolder, CardIssuer
from kiosk.text import LocalText

KINDS = ("card", "psam")
RECORD_FAULT_KINDS = ("tag", "tlv", "gbk")
"""How a corrupt record answers: a wrong tag, a length byte longer than the value, non-GBK text."""
_FILES = {"EF05": 0xEF05, "EF06": 0xEF06}


@dataclass(frozen=True)
class RecordFault:
    """One record that answers wrongly, written `"EF06:09"` (wrong tag) or `"EF06:09:tlv"` / `":gbk"`."""

    file_id: int
    tag: int
    kind: str = "tag"

    @classmethod
    def parse(cls, text: str) -> RecordFault:
        """Raises:
            ValueError: when `text` is not FILE:TAG[:KIND] with a known file, a hex tag and a known kind.
        """
        parts = text.strip().upper().split(":")
        if len(parts) not in (2, 3) or parts[0] not in _FILES:
            raise ValueError(f"{text!r} is not EF05:TAG or EF06:TAG[:{'|'.join(RECORD_FAULT_KINDS)}]")
        try:
            tag = int(parts[1], 16)
        except ValueError:
            raise ValueError(f"{text!r}: tag {parts[1]!r} is not hex") from None
        kind = parts[2].lower() if len(parts) == 3 else "tag"
        if kind not in RECORD_FAULT_KINDS or not 0 <= tag <= 0xFF:
            raise ValueError(f"{text!r}: unknown fault kind or tag out of range")
        return cls(_FILES[parts[0]], tag, kind)


@dataclass(frozen=True)
class PinSetup:
    """The card's PIN and its try counter."""

    value: str = "123456"
    max_tries: int = 3
    tries_left: int = 3
    reports_tries: bool = True  # False: a wrong PIN answers 6300 without the count


LONG_RECORD_ANSWERS = ("6cxx", "truncate")
"""How a card answers a READ RECORD whose Le is shorter than the record: 6Cxx with the record's length, or the
first Le bytes with 9000 (ISO 7816-4 allows both)."""
SHORT_RECORD_SWS = (0x6282, 0x9000)
"""How a card answers a READ RECORD whose Le is longer than the record: 6282 (end of record), or plain 9000."""
ITEM_NAMES: dict[str, int] = {
    "card_id_code": 0x01, "card_type": 0x02, "spec_version": 0x03, "init_org": 0x04, "issue_date": 0x05,
    "expiry_date": 0x06, "card_number": 0x07, "resident_id": 0x08, "name": 0x09, "name_extension": 0x4E,
    "sex": 0x0A, "nation": 0x0B, "birthplace": 0x0C, "birth_date": 0x0D,
}
"""The profile's names of the EF05/EF06 items, with their tags."""


@dataclass(frozen=True)
class CardBehaviour:
    """How the card talks: T=0 style 61xx answers, strict Le (6Cxx), delay per APDU, FCI, Le shorter or longer than a record."""

    t0_get_response: bool = False
    strict_le: bool = False
    slow_ms: int = 0
    fci: bool = True  # False: SELECT SSSE answers 9000 with no FCI, whatever the Le
    long_record: str = "6cxx"  # one of LONG_RECORD_ANSWERS
    short_record_sw: int = 0x6282  # one of SHORT_RECORD_SWS


@dataclass(frozen=True)
class CardLayout:
    """How the issuer laid the records out, where issuers differ from the specification's sizes.

    `sizes`: item name (ITEM_NAMES) -> the value's size in bytes on this card, padded the way its
    format pads (`an` with 00, `cn` with F); `record_padding`: filler bytes after every record's
    value that the TLV length does not count: `padding_byte` (00 or FF) after text and binary
    values, FF after `cn` values (the only filler their format allows).
    """

    sizes: dict[str, int] = field(default_factory=dict)
    record_padding: int = 0
    padding_byte: int = 0x00


@dataclass(frozen=True)
class CardFaults:
    """Faults a tester can choose; all off by default."""

    pull_after_apdus: int | None = None
    mute: bool = False
    no_ssse: bool = False
    corrupt: tuple[RecordFault, ...] = ()


@dataclass(frozen=True)
class CardProfile:
    """A virtual card (or PSAM) as described by one profile file; `name` is the file stem."""

    name: str
    kind: str
    label: LocalText
    description: LocalText
    atr: bytes
    issuer: CardIssuer | None = None
    holder: CardHolder | None = None  # `name` without the 4E name extension
    name_extension: str | None = None  # None: the card has no 4E record
    pin: PinSetup = PinSetup()
    behaviour: CardBehaviour = CardBehaviour()
    faults: CardFaults = CardFaults()
    layout: CardLayout = CardLayout()
    master_key: bytes | None = field(default=None, repr=False)  # PSAM profiles only; kept out of logs


class _Table:
    """One TOML table being read: typed getters whose errors name the file and key, and a check for unknown keys."""

    def __init__(self, data: Any, path: Path, prefix: str = "") -> None:
        self.path = path
        self.prefix = prefix
        if not isinstance(data, dict):
            raise ValueError(f"{path}: {prefix.rstrip('.')}: expected a table")
        self.data = data
        self.used: set[str] = set()

    def error(self, key: str, problem: str) -> ValueError:
        return ValueError(f"{self.path}: {self.prefix}{key}: {problem}")

    def _get(self, key: str, kinds: tuple[type, ...], default: Any, required: bool) -> Any:
        self.used.add(key)
        if key not in self.data:
            if required:
                raise self.error(key, "missing")
            return default
        value = self.data[key]
        # bool is an int in Python; a TOML true where a number belongs is a mistake.
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.error(key, f"expected {' or '.join(k.__name__ for k in kinds)}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        return self._get(key, (str,), default, default is None)

    def flag(self, key: str, default: bool = False) -> bool:
        return self._get(key, (bool,), default, False)

    def number(self, key: str, default: int, low: int, high: int) -> int:
        value = self._get(key, (int,), default, False)
        if not low <= value <= high:
            raise self.error(key, f"{value} is not within {low}..{high}")
        return value

    def optional_number(self, key: str, low: int, high: int) -> int | None:
        return None if key not in self.data else self.number(key, low, low, high)

    def mapping(self, key: str) -> dict[str, Any]:
        return self._get(key, (dict,), None, True)

    def strings(self, key: str) -> list[str]:
        values = self._get(key, (list,), [], False)
        if not all(isinstance(value, str) for value in values):
            raise self.error(key, "expected a list of strings")
        return values

    def hex_bytes(self, key: str, sizes: range, required: bool = True) -> bytes | None:
        value = self._get(key, (str,), None, required)
        if value is None:
            return None
        try:
            raw = bytes.fromhex(value.replace(" ", ""))
        except ValueError:
            raise self.error(key, f"{value!r} is not hex") from None
        if len(raw) not in sizes:
            raise self.error(key, f"{len(raw)} bytes, expected {sizes.start}..{sizes.stop - 1}")
        return raw

    def day(self, key: str) -> date | None:
        value = self._get(key, (date, str), None, False)
        if isinstance(value, datetime):
            raise self.error(key, "expected a date without a time")
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise self.error(key, f"{value!r} is not YYYY-MM-DD") from None
        return value

    def digits(self, key: str, count: int, default: str | None = None) -> str:
        value = self.text(key, default)
        if len(value) != count or not value.isascii() or not value.isdigit():
            raise self.error(key, f"{value!r} is not {count} digits")
        return value

    def table(self, key: str) -> _Table | None:
        value = self._get(key, (dict,), None, False)
        return None if value is None else _Table(value, self.path, f"{self.prefix}{key}.")

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(", ".join(unknown), "unknown key")


def _gbk_fits(table: _Table, key: str, length: int, default: str | None = None) -> str:
    value = table.text(key, default)
    try:
        encode_an(value, length)
    except ValueError as error:
        raise table.error(key, str(error)) from None
    return value


def _read_issuer(table: _Table) -> CardIssuer:
    spec_version = table.text("spec_version")
    if spec_version not in ("1.00", "2.00", "3.00"):
        raise table.error("spec_version", f"{spec_version!r} is not 1.00, 2.00 or 3.00")
    card_number = table.text("card_number")
    if len(card_number) != 9 or not card_number.isascii() or not card_number.isalnum():
        raise table.error("card_number", f"{card_number!r} is not 9 letters or digits")
    issuer = CardIssuer(
        card_id_code=table.hex_bytes("card_id_code", range(16, 17)) or b"",
        card_type=_gbk_fits(table, "card_type", 1, "3"),
        spec_version=spec_version,
        init_org=table.digits("init_org", 12),
        issue_date=table.day("issue_date"),
        expiry_date=table.day("expiry_date"),
        card_number=card_number,
    )
    table.finish()
    return issuer


def _read_holder(table: _Table, spec_version: str) -> tuple[CardHolder, str | None]:
    resident_id = table.text("resident_id")
    if len(resident_id) != 18 or not resident_id[:17].isdigit() or resident_id[17] not in "0123456789X":
        raise table.error("resident_id", f"{resident_id!r} is not an 18-character ID number")
    sex = table.text("sex")
    if sex not in ("1", "2"):
        raise table.error("sex", f"{sex!r} is not 1 (male) or 2 (female)")
    holder = CardHolder(
        resident_id=resident_id,
        name=_gbk_fits(table, "name", 30),
        sex=sex,
        nation=table.digits("nation", 2, "01"),
        birthplace=table.digits("birthplace", 6),
        birth_date=table.day("birth_date"),
    )
    extension = None
    if "name_extension" in table.data:
        if spec_version < "3.00":
            raise table.error("name_extension", "only 3.00 cards have item 4E")
        extension = _gbk_fits(table, "name_extension", 20)
    table.finish()
    return holder, extension


def _read_pin(table: _Table | None) -> PinSetup:
    if table is None:
        return PinSetup()
    value = table.text("value", "123456")
    try:
        pin_to_bcd(value)
    except ValueError as error:
        raise table.error("value", str(error)) from None
    max_tries = table.number("max_tries", 3, 1, 15)
    setup = PinSetup(
        value=value,
        max_tries=max_tries,
        tries_left=table.number("tries_left", max_tries, 0, max_tries),
        reports_tries=table.flag("reports_tries", True),
    )
    table.finish()
    return setup


def _read_behaviour(table: _Table | None) -> CardBehaviour:
    if table is None:
        return CardBehaviour()
    long_record = table.text("long_record", "6cxx")
    if long_record not in LONG_RECORD_ANSWERS:
        raise table.error("long_record", f"{long_record!r} is not {' or '.join(LONG_RECORD_ANSWERS)}")
    short_record_sw = table.text("short_record_sw", "6282")
    if short_record_sw not in ("6282", "9000"):
        raise table.error("short_record_sw", f"{short_record_sw!r} is not 6282 or 9000")
    behaviour = CardBehaviour(
        t0_get_response=table.flag("t0_get_response"),
        strict_le=table.flag("strict_le"),
        slow_ms=table.number("slow_ms", 0, 0, 60_000),
        fci=table.flag("fci", True),
        long_record=long_record,
        short_record_sw=int(short_record_sw, 16),
    )
    table.finish()
    return behaviour


def _read_layout(table: _Table | None) -> CardLayout:
    if table is None:
        return CardLayout()
    sizes_table = table.table("sizes")
    sizes: dict[str, int] = {}
    if sizes_table is not None:
        for name in list(sizes_table.data):
            if name not in ITEM_NAMES:
                raise sizes_table.error(name, f"no such item; items: {', '.join(ITEM_NAMES)}")
            sizes[name] = sizes_table.number(name, 0, 0, 253)
        sizes_table.finish()
    padding_byte = table.text("padding_byte", "00").strip().upper()
    if padding_byte not in ("00", "FF"):
        raise table.error("padding_byte", f"{padding_byte!r} is not 00 or FF")
    layout = CardLayout(sizes=sizes, record_padding=table.number("record_padding", 0, 0, 64),
                        padding_byte=int(padding_byte, 16))
    table.finish()
    return layout


def _read_faults(table: _Table | None) -> CardFaults:
    if table is None:
        return CardFaults()
    corrupt: list[RecordFault] = []
    for text in table.strings("corrupt"):
        try:
            corrupt.append(RecordFault.parse(text))
        except ValueError as error:
            raise table.error("corrupt", str(error)) from None
    faults = CardFaults(
        pull_after_apdus=table.optional_number("pull_after_apdus", 0, 10_000),
        mute=table.flag("mute"),
        no_ssse=table.flag("no_ssse"),
        corrupt=tuple(corrupt),
    )
    table.finish()
    return faults


def load_profile(path: Path) -> CardProfile:
    """Load one profile file.

    Raises:
        ValueError: naming the file and the key, when the file is not a valid profile.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: {error}") from None
    top = _Table(data, path)
    kind = top.text("kind", "card")
    if kind not in KINDS:
        raise top.error("kind", f"{kind!r} is not card or psam")
    label = LocalText.from_mapping(top.mapping("label"), f"{path}: label")
    description = LocalText.from_mapping(top.mapping("description"), f"{path}: description")
    faults = _read_faults(top.table("faults"))
    atr = top.hex_bytes("atr", range(2, 34), required=not faults.mute) or b""
    fields: dict[str, Any] = {}
    if kind == "psam":
        psam = top.table("psam")
        if psam is None:
            raise top.error("psam", "missing: a PSAM profile needs [psam] master_key")
        fields["master_key"] = psam.hex_bytes("master_key", range(16, 17))
        psam.finish()
    issuer_table, holder_table = top.table("issuer"), top.table("holder")
    if kind == "card" and not (faults.mute or faults.no_ssse) and (issuer_table is None or holder_table is None):
        raise top.error("issuer", "[issuer] and [holder] are needed for a social security card")
    if holder_table is not None and issuer_table is None:
        raise top.error("holder", "[holder] needs [issuer]")
    if issuer_table is not None:
        fields["issuer"] = _read_issuer(issuer_table)
        if holder_table is not None:
            fields["holder"], fields["name_extension"] = _read_holder(holder_table, fields["issuer"].spec_version)
    profile = CardProfile(
        name=path.stem,
        kind=kind,
        label=label,
        description=description,
        atr=atr,
        pin=_read_pin(top.table("pin")),
        behaviour=_read_behaviour(top.table("behaviour")),
        faults=faults,
        layout=_read_layout(top.table("layout")),
        **fields,
    )
    top.finish()
    return profile


def load_profiles(directory: Path) -> dict[str, CardProfile]:
    """Load every `*.toml` profile in `directory`, sorted by name.

    Raises:
        ValueError: naming the file and the key of the first bad profile.
    """
    if not directory.is_dir():
        raise ValueError(f"{directory}: no such directory of card profiles")
    return {path.stem: load_profile(path) for path in sorted(directory.glob("*.toml"))}


def psam_master_key(profiles: dict[str, CardProfile]) -> bytes | None:
    """Returns:
        The master key of the first PSAM profile (the issuer's key the virtual cards are personalised with), or None.
    """
    return next((p.master_key for p in profiles.values() if p.kind == "psam"), None)
