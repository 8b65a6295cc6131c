"""Provides VirtualCard: a social security card that answers command APDUs from a profile, faults included."""
from __future__ import annotations

import os
import threading
import time
from datetime import date
from typing import Callable, Iterable

from devices.apdu import ApduResponder, CommandApdu, ResponseApdu, StatusWord
from devices.codec import encode_an, encode_cn, encode_cn_date, encode_tlv, pin_to_bcd
from devices.profiles import ITEM_NAMES, CardBehaviour, CardFaults, CardLayout, CardProfile, PinSetup, RecordFault
from devices.psam import VirtualPsam, compute_cryptogram, derive_card_key, diversification_data
from devices.sscard import CHALLENGE_LENGTH, EF05, EF06, EXTERNAL_AUTH_KEY_REF, ITEMS, SSSE_AID
from kiosk.errors import KioskError

MF = 0x3F00
# File control information answered to SELECT SSSE: FCI template holding the DF name.
_SSSE_FCI = bytes([0x6F, len(SSSE_AID) + 2, 0x84, len(SSSE_AID)]) + SSSE_AID


class VirtualCard(ApduResponder):
    """A card that answers APDUs like a real social security card.

    Everything a tester panel may change on the fly is a plain attribute (`pin_tries_left`,
    `pull_after_apdus`, `slow_ms`, `mute`, `corrupt`, ...) or a setter (`set_item`,
    `set_expiry_date`); the card's lock keeps each APDU consistent with those changes.
    """

    def __init__(
        self,
        atr: bytes,
        records: dict[int, Iterable[bytes]] | None = None,
        *,
        requires_external_auth: bool = False,
        card_key: bytes | None = None,
        pin: PinSetup = PinSetup(),
        behaviour: CardBehaviour = CardBehaviour(),
        faults: CardFaults = CardFaults(),
        record_padding: bytes = b"",
        sleep: Callable[[float], None] = time.sleep,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self._atr = atr
        self._records: dict[int, list[bytes]] = {fid: list(rs) for fid, rs in (records or {}).items()}
        self.requires_external_auth = requires_external_auth
        self.card_key = card_key
        self.auth_key_ref = EXTERNAL_AUTH_KEY_REF
        self.pin_value = pin.value
        self.pin_max_tries = pin.max_tries
        self.pin_tries_left = pin.tries_left
        self.pin_reports_tries = pin.reports_tries
        self.t0_get_response = behaviour.t0_get_response
        self.strict_le = behaviour.strict_le
        self.slow_ms = behaviour.slow_ms
        self.fci = behaviour.fci
        self.long_record = behaviour.long_record
        self.short_record_sw = behaviour.short_record_sw
        self.record_padding = record_padding  # filler after each value that set_item writes, as the issuer laid it
        self.pull_after_apdus = faults.pull_after_apdus
        self.mute = faults.mute
        self.no_ssse = faults.no_ssse
        self.corrupt: set[RecordFault] = set(faults.corrupt)
        self._sleep = sleep
        self._random_bytes = random_bytes
        self._lock = threading.RLock()
        self.apdus_since_power_on = 0
        self._reset()

    @classmethod
    def from_profile(cls, profile: CardProfile, psam_master_key: bytes | None) -> VirtualCard:
        """Personalise a card from `profile`.

        Args:
            profile: a card profile (kind "card").
            psam_master_key: the issuer's master key; a 3.00 card gets its key derived from it.
                Without it a 3.00 card refuses every external authentication.
        Raises:
            ValueError: for a PSAM profile.
        """
        if profile.kind != "card":
            raise ValueError(f"profile {profile.name} is a {profile.kind}, not a card")
        lay = _Personaliser(profile.layout)
        records: dict[int, list[bytes]] = {}
        card_key = None
        if profile.issuer is not None:
            issuer = profile.issuer
            records[EF05] = [
                lay.binary(0x01, issuer.card_id_code),
                lay.an(0x02, issuer.card_type),
                lay.an(0x03, issuer.spec_version),
                lay.cn(0x04, issuer.init_org),
                lay.date(0x05, issuer.issue_date),
                lay.date(0x06, issuer.expiry_date),
                lay.an(0x07, issuer.card_number),
            ]
            if issuer.needs_external_auth and psam_master_key is not None:
                card_key = derive_card_key(psam_master_key, diversification_data(issuer.card_id_code))
        if profile.holder is not None:
            holder = profile.holder
            records[EF06] = [
                lay.an(0x08, holder.resident_id),
                lay.an(0x09, holder.name),
                lay.an(0x0A, holder.sex),
                lay.cn(0x0B, holder.nation),
                lay.cn(0x0C, holder.birthplace),
                lay.date(0x0D, holder.birth_date),
            ]
            if profile.name_extension is not None:
                # Cards issued without an extension carry an empty 4E record.
                records[EF06].append(lay.an(0x4E, profile.name_extension) if profile.name_extension
                                     else lay.record(0x4E, b""))
        return cls(
            profile.atr,
            records,
            requires_external_auth=profile.issuer is not None and profile.issuer.needs_external_auth,
            card_key=card_key,
            pin=profile.pin,
            behaviour=profile.behaviour,
            faults=profile.faults,
            record_padding=lay.padding,
        )

    # The tester's handles -------------------------------------------------------------

    @property
    def atr(self) -> bytes | None:
        return None if self.mute else self._atr

    def item(self, file_id: int, tag: int) -> bytes | None:
        """Returns:
            The value stored under `tag` in `file_id`, or None.
        """
        with self._lock:
            index = self._find(file_id, tag)
            if index is None:
                return None
            record = self._records[file_id][index]
            return record[2:2 + record[1]]

    def set_item(self, file_id: int, tag: int, value: bytes) -> None:
        """Store `value` as the record `tag` of `file_id` (with the card's record padding), replacing it or appending it."""
        padding = self.record_padding
        if tag in ITEMS and ITEMS[tag].encoding == "cn":
            padding = b"\xff" * len(padding)  # after a cn value only its F padding can follow
        self.set_record(file_id, tag, encode_tlv(tag, value) + padding)

    def set_record(self, file_id: int, tag: int, record: bytes) -> None:
        """Store the raw `record` (tag, length, value and whatever follows, as the card sends it) under `tag` of `file_id`."""
        with self._lock:
            records = self._records.setdefault(file_id, [])
            index = self._find(file_id, tag)
            if index is None:
                records.append(record)
            else:
                records[index] = record

    def remove_item(self, file_id: int, tag: int) -> None:
        """Delete the record `tag` of `file_id`, so that reading it answers 6A83."""
        with self._lock:
            index = self._find(file_id, tag)
            if index is not None:
                del self._records[file_id][index]

    def set_expiry_date(self, expiry: date | None) -> None:
        """Rewrite the expiry date (EF05 item 06), in the size the card has it; None writes all-F padding (no date)."""
        size = len(self.item(EF05, 0x06) or b"") or ITEMS[0x06].length
        self.set_item(EF05, 0x06, encode_cn(expiry.strftime("%Y%m%d"), size) if expiry else b"\xff" * size)

    # The card's side of the wire -------------------------------------------------------

    def power_on(self) -> None:
        with self._lock:
            self._reset()

    def answer(self, command: bytes) -> bytes:
        with self._lock:
            if self.pull_after_apdus is not None and self.apdus_since_power_on >= self.pull_after_apdus:
                pulled_after = self.pull_after_apdus
                # The fault fires once, so the guardian can put the card back and go on.
                self.pull_after_apdus = None
                raise KioskError("CARD_REMOVED", f"virtual card pulled after {pulled_after} APDUs")
            self.apdus_since_power_on += 1
            delay = self.slow_ms
        if delay:
            # Outside the lock: the tester panel must stay responsive while the card is slow.
            self._sleep(delay / 1000)
        with self._lock:
            return self._dispatch(command).to_bytes()

    def _reset(self) -> None:
        self.apdus_since_power_on = 0
        self._in_ssse = False
        self._current_ef: int | None = None
        self._authenticated = False
        self._challenge: bytes | None = None
        self._pending: tuple[bytes, int] | None = None  # data still waiting for GET RESPONSE, final SW

    def _find(self, file_id: int, tag: int) -> int | None:
        for index, record in enumerate(self._records.get(file_id, [])):
            if record and record[0] == tag:
                return index
        return None

    def _dispatch(self, raw: bytes) -> ResponseApdu:
        try:
            command = CommandApdu.from_bytes(raw)
        except ValueError:
            return ResponseApdu.of(StatusWord.WRONG_LENGTH)
        if command.cla == 0x00 and command.ins == 0xC0:
            return self._get_response(command)
        self._pending = None
        if command.cla != 0x00:
            return ResponseApdu.of(StatusWord.CLA_NOT_SUPPORTED)
        handler = {
            0xA4: self._select,
            0xB2: self._read_record,
            0x84: self._get_challenge,
            0x82: self._external_authenticate,
            0x20: self._verify,
        }.get(command.ins)
        if handler is None:
            return ResponseApdu.of(StatusWord.INS_NOT_SUPPORTED)
        return self._deliver(command, handler(command))

    def _deliver(self, command: CommandApdu, response: ResponseApdu) -> ResponseApdu:
        """Apply Le and the transport's manners to a response that carries data."""
        data, sw = response.data, response.sw
        if not data:
            return response
        le = command.le
        if le is not None and len(data) <= 256:
            if self.strict_le and le != len(data):
                return ResponseApdu.of(0x6C00 | (len(data) & 0xFF))
            if le < len(data):
                if self.long_record != "truncate" or command.ins != 0xB2:
                    return ResponseApdu.of(0x6C00 | (len(data) & 0xFF))
                data = data[:le]  # ISO 7816-4: the first Le bytes of the record, with 9000
            elif le > len(data) and le != 256 and sw == StatusWord.OK:
                sw = self.short_record_sw
        # T=0 cards hand data out through GET RESPONSE; so must any card with more than 256 bytes.
        if self.t0_get_response or len(data) > 256:
            self._pending = (data, sw)
            return ResponseApdu.of(0x6100 | (min(len(data), 256) & 0xFF))
        return ResponseApdu.of(sw, data)

    def _get_response(self, command: CommandApdu) -> ResponseApdu:
        if self._pending is None:
            return ResponseApdu.of(StatusWord.CONDITIONS_NOT_SATISFIED)
        data, sw = self._pending
        le = command.le or 256
        if le > len(data):
            if self.strict_le:
                return ResponseApdu.of(0x6C00 | (len(data) & 0xFF))
            le = len(data)
        chunk, rest = data[:le], data[le:]
        if rest:
            self._pending = (rest, sw)
            return ResponseApdu.of(0x6100 | (min(len(rest), 256) & 0xFF), chunk)
        self._pending = None
        return ResponseApdu.of(sw, chunk)

    def _select(self, command: CommandApdu) -> ResponseApdu:
        if command.p1 == 0x04:
            if command.data == SSSE_AID and not self.no_ssse and EF05 in self._records:
                self._in_ssse, self._current_ef = True, None
                fci = self.fci and (command.le is not None or self.t0_get_response)
                return ResponseApdu.of(StatusWord.OK, _SSSE_FCI if fci else b"")
            return ResponseApdu.of(StatusWord.FILE_NOT_FOUND)
        if command.p1 not in (0x00, 0x02) or len(command.data) != 2:
            return ResponseApdu.of(StatusWord.WRONG_P1_P2)
        file_id = int.from_bytes(command.data, "big")
        if file_id == MF:
            self._in_ssse, self._current_ef, self._authenticated = False, None, False
            return ResponseApdu.of(StatusWord.OK)
        if self._in_ssse and file_id in self._records:
            self._current_ef = file_id
            return ResponseApdu.of(StatusWord.OK)
        return ResponseApdu.of(StatusWord.FILE_NOT_FOUND)

    def _read_record(self, command: CommandApdu) -> ResponseApdu:
        if self._current_ef is None:
            return ResponseApdu.of(StatusWord.NO_CURRENT_EF)
        if self._current_ef == EF06 and self.requires_external_auth and not self._authenticated:
            return ResponseApdu.of(StatusWord.SECURITY_NOT_SATISFIED)
        records = self._records[self._current_ef]
        if command.p2 == 0x00:
            index = self._find(self._current_ef, command.p1)
        elif command.p2 == 0x04:
            index = command.p1 - 1 if 1 <= command.p1 <= len(records) else None
        else:
            return ResponseApdu.of(StatusWord.WRONG_P1_P2)
        if index is None:
            return ResponseApdu.of(StatusWord.RECORD_NOT_FOUND)
        return ResponseApdu.of(StatusWord.OK, self._as_answered(self._current_ef, records[index]))

    def _as_answered(self, file_id: int, record: bytes) -> bytes:
        """The record as the card sends it, broken the way a `corrupt` fault says."""
        tag, rest = record[0], record[2:]  # the value and any record padding after it
        for fault in self.corrupt:
            if (fault.file_id, fault.tag) != (file_id, tag):
                continue
            if fault.kind == "tag":
                return bytes([tag ^ 0x80, record[1]]) + rest
            if fault.kind == "tlv":
                # The length byte promises one byte more than follows.
                return bytes([tag, len(rest) + 1]) + rest if len(rest) < 255 else record[:-1]
            # "gbk": a byte that starts no GBK character.
            return bytes([tag, max(record[1], 1), 0xFF]) + rest[1:]
        return record

    def _get_challenge(self, command: CommandApdu) -> ResponseApdu:
        if (command.p1, command.p2) != (0x00, 0x00):
            return ResponseApdu.of(StatusWord.WRONG_P1_P2)
        self._challenge = self._random_bytes(CHALLENGE_LENGTH)
        return ResponseApdu.of(StatusWord.OK, self._challenge)

    def _external_authenticate(self, command: CommandApdu) -> ResponseApdu:
        if command.p1 != 0x00 or command.p2 != self.auth_key_ref or self.card_key is None:
            return ResponseApdu.of(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if len(command.data) != CHALLENGE_LENGTH:
            return ResponseApdu.of(StatusWord.WRONG_LENGTH)
        challenge, self._challenge = self._challenge, None  # a challenge is good for one try
        if challenge is None:
            return ResponseApdu.of(StatusWord.CONDITIONS_NOT_SATISFIED)
        if command.data != compute_cryptogram(self.card_key, challenge):
            return ResponseApdu.of(StatusWord.VERIFICATION_FAILED)
        self._authenticated = True
        return ResponseApdu.of(StatusWord.OK)

    def _verify(self, command: CommandApdu) -> ResponseApdu:
        if (command.p1, command.p2) != (0x00, 0x00):
            return ResponseApdu.of(StatusWord.WRONG_P1_P2)
        if not command.data:
            # ISO 7816-4: VERIFY without data asks for the try counter and uses no try.
            if self.pin_tries_left <= 0:
                return ResponseApdu.of(StatusWord.AUTH_METHOD_BLOCKED)
            if not self.pin_reports_tries:
                return ResponseApdu.of(StatusWord.WRONG_LENGTH)
            return ResponseApdu.of(0x63C0 | min(self.pin_tries_left, 0x0F))
        if self.pin_tries_left <= 0:
            return ResponseApdu.of(StatusWord.AUTH_METHOD_BLOCKED)
        if command.data == pin_to_bcd(self.pin_value):
            self.pin_tries_left = self.pin_max_tries
            return ResponseApdu.of(StatusWord.OK)
        self.pin_tries_left -= 1
        if not self.pin_reports_tries:
            return ResponseApdu.of(StatusWord.VERIFICATION_FAILED)
        return ResponseApdu.of(0x63C0 | min(self.pin_tries_left, 0x0F))


class _Personaliser:
    """Writes a profile's items as records, in the sizes and with the record padding of its layout."""

    def __init__(self, layout: CardLayout) -> None:
        self._sizes = {ITEM_NAMES[name]: size for name, size in layout.sizes.items()}
        self.padding = bytes([layout.padding_byte]) * layout.record_padding
        self._cn_padding = b"\xff" * layout.record_padding  # after a cn value only F padding can follow

    def size(self, tag: int) -> int:
        return self._sizes.get(tag, ITEMS[tag].length)

    def record(self, tag: int, value: bytes) -> bytes:
        return encode_tlv(tag, value) + (self._cn_padding if ITEMS[tag].encoding == "cn" else self.padding)

    def binary(self, tag: int, value: bytes) -> bytes:
        return self.record(tag, value.ljust(self.size(tag), b"\x00"))

    def an(self, tag: int, text: str) -> bytes:
        return self.record(tag, encode_an(text, max(self.size(tag), len(encode_an(text)))))

    def cn(self, tag: int, digits: str) -> bytes:
        return self.record(tag, encode_cn(digits, max(self.size(tag), (len(digits) + 1) // 2)))

    def date(self, tag: int, day: date | None) -> bytes:
        size = self.size(tag)
        if day is None:
            return self.record(tag, b"\xff" * size)
        return self.record(tag, encode_cn(day.strftime("%Y%m%d"), size) if size >= 4 else encode_cn_date(day)[:size])


def virtual_device(profile: CardProfile, psam_master_key: bytes | None) -> ApduResponder:
    """Build what a profile describes: a `VirtualPsam` for kind "psam", else a `VirtualCard`.

    Args:
        profile: the loaded profile.
        psam_master_key: the issuer's master key, for personalising 3.00 cards.
    """
    if profile.kind == "psam":
        return VirtualPsam.from_profile(profile)
    return VirtualCard.from_profile(profile, psam_master_key)
