"""Provides the maintenance console's reader diagnostics (kiosk.reader_diagnostics.ReaderDiagnostics) for the simulated and the PC/SC readers:
slots and ATRs, the PSAM check, the card self-test, one raw APDU, and timestamped reader events."""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import TYPE_CHECKING, Callable

from devices.apdu import ApduChannel, CommandApdu
from devices.codec import decode_an, decode_cn, decode_cn_date
from devices.psam import KeyHolder, PsamKeyHolder
from devices.reader import CardConnection, CardReader, ReaderEvent
from devices.sscard import EF05, EF06, ITEMS, SocialSecurityCard
from kiosk.errors import KioskError
from kiosk.masking import mask_card_number, mask_id, mask_name
from kiosk.ports import Clock

# The console's values (kiosk.reader_diagnostics) and the ATR decoder (devices.atr) load with the console's first
# question: the diagnostics are made before the kiosk's first screen, which asks them nothing.
if TYPE_CHECKING:
    from kiosk.reader_diagnostics import (
        ApduExchange,
        CardSelfTest,
        PsamStatus,
        ReaderEventRecord,
        ReaderSlotStatus,
        SelfTestItem,
    )
    from devices.pcsc import PcscReader
    from devices.simulated import SimulatedReader

log = logging.getLogger(__name__)

KEPT_EVENTS = 200
OPTIONAL_TAGS = frozenset({0x4E})
"""Items a card may lack: the 3.00 name extension."""
_DATE_TAGS = frozenset({0x05, 0x06, 0x0D})
# Test input for the PSAM check: an all-zero card identification code and challenge (no real card's).
_TEST_CARD_ID = bytes(16)
_TEST_CHALLENGE = bytes(8)


def shown_value(tag: int, value: bytes) -> str:
    """An item's value as the console shows it: decoded, personal data masked.

    Raises:
        KioskError: CARD_DATA_INVALID when the value does not decode by its item's encoding.
    """
    item = ITEMS[tag]
    if tag == 0x01:
        return f"{value[:8].hex(' ').upper()} ** ** ** ** ** ** ** **" if len(value) == 16 else value.hex(" ").upper()
    if tag in _DATE_TAGS:
        day = decode_cn_date(value)
        if day is None:
            return "-"
        return f"{day.year}-**-**" if tag == 0x0D else day.isoformat()
    text = decode_an(value) if item.encoding == "an" else decode_cn(value) if item.encoding == "cn" else value.hex()
    if tag == 0x07:
        return mask_card_number(text)
    if tag == 0x08:
        return mask_id(text)
    if tag in (0x09, 0x4E):
        return mask_name(text) if text else ""
    if tag == 0x0C:
        return text[:4] + "**" if len(text) >= 4 else text
    return text


class ReaderDiagnosticsBase:
    """What both reader kinds share: events, the PSAM check, the self-test and raw APDUs.

    Connections the console opens to send APDUs are kept between sends (so a SELECT can be
    followed by a READ RECORD) and let go by `close`, or before a self-test or PSAM check.
    """

    def __init__(
        self,
        guardian: CardReader,
        psam: CardReader | None,
        key_holder_factory: Callable[[], KeyHolder | None],
        clock: Clock,
    ) -> None:
        self._guardian = guardian
        self._psam = psam
        self._key_holder_factory = key_holder_factory
        self._clock = clock
        self._events: collections.deque[ReaderEventRecord] = collections.deque(maxlen=KEPT_EVENTS)
        self._events_lock = threading.Lock()
        self._kept: dict[str, tuple[CardReader, CardConnection]] = {}
        self._kept_lock = threading.Lock()
        for reader in (guardian, psam):
            if reader is not None:
                reader.add_listener(self._on_reader_event)

    # Events ----------------------------------------------------------------------------
    def _on_reader_event(self, event: ReaderEvent) -> None:
        self._record(event.reader, event.kind.value, event.atr)

    def _record(self, reader: str, kind: str, atr: bytes = b"") -> None:
        from kiosk.reader_diagnostics import ReaderEventRecord

        with self._events_lock:
            self._events.appendleft(ReaderEventRecord(self._clock.now(), reader, kind, atr))

    def events(self) -> list[ReaderEventRecord]:
        with self._events_lock:
            return list(self._events)

    # Slots (per reader kind) -----------------------------------------------------------
    def slots(self) -> list[ReaderSlotStatus]:
        raise NotImplementedError

    def _reader_for(self, slot: str) -> CardReader:
        """The reader behind the slot name `slot`.

        Raises:
            KioskError: READER_UNAVAILABLE for a name that is no slot.
        """
        raise NotImplementedError

    # The PSAM --------------------------------------------------------------------------
    def psam(self) -> PsamStatus:
        from kiosk.reader_diagnostics import PsamStatus

        if self._psam is None:
            return PsamStatus(configured=False, present=False, working=False)
        self._drop_kept(self._psam)
        try:
            present = self._psam.card_present()
        except KioskError as exc:
            return PsamStatus(True, False, False, error=exc.code, detail=exc.detail)
        if not present:
            return PsamStatus(True, False, False, error="PSAM_UNAVAILABLE", detail="no card in the PSAM slot")
        try:
            connection = self._psam.connect()
        except KioskError as exc:
            return PsamStatus(True, True, False, error=exc.code, detail=exc.detail)
        holder = PsamKeyHolder(connection)
        try:
            cryptogram = holder.cryptogram(_TEST_CARD_ID, _TEST_CHALLENGE)
        except KioskError as exc:
            return PsamStatus(True, True, False, connection.atr, exc.code, exc.detail)
        finally:
            holder.close()
        return PsamStatus(True, True, len(cryptogram) == 8, connection.atr, detail="80 1A + 80 FA: 9000")

    # The card self-test ----------------------------------------------------------------
    def self_test(self) -> CardSelfTest:
        from kiosk.reader_diagnostics import CardSelfTest, SelfTestItem

        self._drop_kept(self._guardian)
        started = time.perf_counter()
        try:
            connection = self._guardian.connect()
        except KioskError as exc:
            return CardSelfTest(False, error=exc.code, detail=exc.detail)
        channel = ApduChannel(connection)
        card = SocialSecurityCard(channel)
        items: list[SelfTestItem] = []
        spec_version: str | None = None
        authenticated: bool | None = None
        error: KioskError | None = None
        try:
            with connection.transaction():
                card.select_ssse()
                items += [self._test_item(card, tag) for tag in _tags(EF05)]
                version = card.read_item(0x03, required=False)
                spec_version = decode_an(version) if version else None
                if spec_version is not None and spec_version >= "3.00":
                    authenticated, error = self._authenticate(card)
                holder_tags = [tag for tag in _tags(EF06) if tag != 0x4E or (spec_version or "") >= "3.00"]
                if authenticated is False:
                    reason = error.code if error is not None else "CARD_NEEDS_PSAM"
                    items += [SelfTestItem("EF06", tag, "refused", detail=reason) for tag in holder_tags]
                else:
                    items += [self._test_item(card, tag) for tag in holder_tags]
        except KioskError as exc:
            error = exc
        finally:
            connection.close()
        milliseconds = (time.perf_counter() - started) * 1000
        complete = bool(items) and all(item.status in ("ok", "optional_missing") for item in items)
        passed = error is None and complete
        return CardSelfTest(
            passed, connection.atr, spec_version, tuple(items), authenticated, channel.count, round(milliseconds, 1),
            error.code if error is not None else None, error.detail if error is not None else "")

    def _authenticate(self, card: SocialSecurityCard) -> tuple[bool, KioskError | None]:
        try:
            key_holder = self._key_holder_factory()
        except KioskError as exc:
            return False, exc
        if key_holder is None:
            return False, KioskError("CARD_NEEDS_PSAM", "no PSAM in this kiosk")
        try:
            id_code = card.read_item(0x01) or b""
            card.authenticate(key_holder, id_code)
        except KioskError as exc:
            if exc.code in ("CARD_REMOVED", "READER_LOST"):
                raise
            return False, exc
        finally:
            key_holder.close()
        return True, None

    @staticmethod
    def _test_item(card: SocialSecurityCard, tag: int) -> SelfTestItem:
        from kiosk.reader_diagnostics import SelfTestItem

        file = "EF05" if ITEMS[tag].file_id == EF05 else "EF06"
        try:
            value = card.read_item(tag, required=False)
        except KioskError as exc:
            if exc.code in ("CARD_NEEDS_PSAM", "CARD_AUTH_FAILED"):
                return SelfTestItem(file, tag, "refused", detail=exc.detail)
            if exc.code in ("CARD_DATA_INVALID", "CARD_COMMUNICATION", "CARD_RECORD_MISSING"):
                return SelfTestItem(file, tag, "invalid", detail=exc.detail)
            raise
        if value is None:
            return SelfTestItem(file, tag, "optional_missing" if tag in OPTIONAL_TAGS else "missing")
        try:
            return SelfTestItem(file, tag, "ok", shown_value(tag, value))
        except KioskError as exc:
            return SelfTestItem(file, tag, "invalid", detail=exc.detail)

    # One APDU --------------------------------------------------------------------------
    def send_apdu(self, slot: str, command: bytes) -> ApduExchange:
        from kiosk.reader_diagnostics import ApduExchange

        CommandApdu.from_bytes(command)  # ValueError for anything that is not a short APDU
        reader = self._reader_for(slot)
        with self._kept_lock:
            kept = self._kept.get(slot)
        connection = kept[1] if kept is not None else None
        if connection is None:
            connection = reader.connect()
            with self._kept_lock:
                self._kept[slot] = (reader, connection)
        started = time.perf_counter()
        try:
            with connection.transaction():
                raw = connection.transmit(command)
        except KioskError:
            self._drop_slot(slot)
            raise
        milliseconds = round((time.perf_counter() - started) * 1000, 1)
        # Only the header goes to the log: the data of a VERIFY would be a PIN.
        log.info("console APDU to %s: %s ... -> %s", slot, command[:4].hex(" ").upper(), raw[-2:].hex().upper())
        return ApduExchange(slot, command, raw[:-2], int.from_bytes(raw[-2:], "big"), milliseconds)

    def _drop_slot(self, slot: str) -> None:
        with self._kept_lock:
            kept = self._kept.pop(slot, None)
        if kept is not None:
            kept[1].close()

    def _drop_kept(self, reader: CardReader) -> None:
        with self._kept_lock:
            slots = [slot for slot, (owner, _) in self._kept.items() if owner is reader]
        for slot in slots:
            self._drop_slot(slot)

    def close(self) -> None:
        """Let go of the connections the console kept open (maintenance ends)."""
        with self._kept_lock:
            slots = list(self._kept)
        for slot in slots:
            self._drop_slot(slot)


def _tags(file_id: int) -> list[int]:
    return [tag for tag, item in ITEMS.items() if item.file_id == file_id]


class SimulatedDiagnostics(ReaderDiagnosticsBase):
    """Diagnostics of the simulated guardian's reader and PSAM slot."""

    def __init__(self, guardian: "SimulatedReader", psam: "SimulatedReader | None",
                 key_holder_factory: Callable[[], KeyHolder | None], clock: Clock) -> None:
        super().__init__(guardian, psam, key_holder_factory, clock)
        self._simulated = [(guardian, "guardian")] + ([(psam, "psam")] if psam is not None else [])

    def slots(self) -> list[ReaderSlotStatus]:
        from devices.atr import parse_atr
        from kiosk.reader_diagnostics import ReaderSlotStatus

        result = []
        for number, (reader, role) in enumerate(self._simulated):
            card = reader.card
            atr = (card.atr if card is not None else None) or b""
            result.append(ReaderSlotStatus(number, reader.name, role, card is not None, atr,
                                           mute=card is not None and not atr,
                                           atr_facts=parse_atr(atr) if atr else None))
        return result

    def _reader_for(self, slot: str) -> CardReader:
        for reader, _role in self._simulated:
            if reader.name == slot:
                return reader
        raise KioskError("READER_UNAVAILABLE", f"no slot named {slot!r}")


class PcscDiagnostics(ReaderDiagnosticsBase):
    """Diagnostics of every PC/SC reader: the guardian's, the PSAM's, and any other one pcscd shows.

    The kiosk's own readers report their events as they happen; the others are compared with
    the last look each time `slots` runs.
    """

    def __init__(self, guardian: "PcscReader", psam: "PcscReader | None",
                 key_holder_factory: Callable[[], KeyHolder | None], clock: Clock) -> None:
        super().__init__(guardian, psam, key_holder_factory, clock)
        self._pcsc_guardian = guardian
        self._pcsc_psam = psam
        self._others: dict[str, "PcscReader"] = {}
        self._roles: dict[str, str] = {}
        self._previous: dict[str, bytes | None] | None = None

    def slots(self) -> list[ReaderSlotStatus]:
        from devices.atr import parse_atr
        from devices.pcsc import list_readers
        from kiosk.reader_diagnostics import ReaderSlotStatus

        readers = list_readers()
        guardian = next((r.name for r in readers if self._pcsc_guardian.matches(r.name)), None)
        psam = next((r.name for r in readers if self._pcsc_psam is not None and self._pcsc_psam.matches(r.name)), None)
        roles = {r.name: "guardian" if r.name == guardian else "psam" if r.name == psam else "other" for r in readers}
        self._roles = roles
        current = {r.name: (r.atr if r.card_present else None) for r in readers}
        self._note_changes({name: atr for name, atr in current.items() if roles[name] == "other"})
        return [
            ReaderSlotStatus(number, r.name, roles[r.name], r.card_present, r.atr, mute=r.mute,
                             atr_facts=parse_atr(r.atr) if r.atr else None)
            for number, r in enumerate(readers)
        ]

    def _note_changes(self, current: dict[str, bytes | None]) -> None:
        previous, self._previous = self._previous, current
        if previous is None:
            return
        for name in current.keys() - previous.keys():
            self._record(name, "reader_added")
        for name in previous.keys() - current.keys():
            self._record(name, "reader_removed")
        for name in current.keys():
            before, now = previous.get(name), current[name]
            if before is None and now is not None:
                self._record(name, "card_inserted", now)
            elif before is not None and now is None and name in previous:
                self._record(name, "card_removed")

    def _reader_for(self, slot: str) -> CardReader:
        from devices.pcsc import PcscReader

        role = self._roles.get(slot)
        if role is None:
            self.slots()
            role = self._roles.get(slot)
        if role == "guardian":
            return self._pcsc_guardian
        if role == "psam" and self._pcsc_psam is not None:
            return self._pcsc_psam
        if role is None:
            raise KioskError("READER_UNAVAILABLE", f"no PC/SC reader named {slot!r}")
        if slot not in self._others:
            self._others[slot] = PcscReader(slot, protocol=self._pcsc_guardian.protocol, exclusive=False,
                                            connect_early=False)
        return self._others[slot]

