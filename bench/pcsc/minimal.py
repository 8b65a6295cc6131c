"""Provides the spec's minimal reads (/work/shared/spec/social-security-card.md) sent by a small reference reader, and the comparison with the kiosk's APDUs."""
from __future__ import annotations

import difflib
from typing import Any

from bench.pcsc.apdus import Apdu, describe, keyed, sequence_json, sequence_text, shown_command

# Item sizes of EF05/EF06 as the spec's table gives them (bytes of the value; READ RECORD also returns
# the tag and length bytes, so Le = size + 2). The table lists item 04 as "12, cn": twelve digits,
# which packed BCD holds in 6 bytes, so 6 is used here.
SPEC_EF05_ITEMS = {0x01: 16, 0x02: 1, 0x03: 4, 0x04: 6, 0x05: 4, 0x06: 4, 0x07: 9}
SPEC_EF06_ITEMS = {0x08: 18, 0x09: 30, 0x0A: 1, 0x0B: 1, 0x0C: 3, 0x0D: 4}
SPEC_EF06_300_ITEMS = {0x08: 18, 0x09: 30, 0x4E: 20, 0x0A: 1, 0x0B: 1, 0x0C: 3, 0x0D: 4}
SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")


class ReferenceReader:
    """Sends the spec's commands straight to a virtual card (no PC/SC), following 61xx and 6Cxx as the spec says."""

    def __init__(self, card, psam, log: list[Apdu]) -> None:
        self.card, self.psam, self.log = card, psam, log

    def _raw(self, slot: int, command: bytes) -> bytes:
        response = (self.card if slot == 0 else self.psam).answer(command)
        self.log.append(Apdu(slot, command, response))
        return response

    def send(self, command: bytes, slot: int = 0) -> tuple[bytes, int]:
        response = self._raw(slot, command)
        if response[-2] == 0x6C:  # wrong Le: the same command again with Le = xx
            command = command[:-1] + response[-1:]
            response = self._raw(slot, command)
        data = response[:-2]
        while response[-2] == 0x61:  # more data: GET RESPONSE 00 C0 00 00 xx while 61xx
            response = self._raw(slot, bytes([0x00, 0xC0, 0x00, 0x00, response[-1]]))
            data += response[:-2]
        return data, (response[-2] << 8) | response[-1]

    def read(self, tag: int, size: int) -> bytes:
        data, _sw = self.send(bytes([0x00, 0xB2, tag, 0x00, (size + 2) & 0xFF]))
        return data

    def run(self, version_300: bool, pin: str) -> None:
        self.send(bytes([0x00, 0xA4, 0x04, 0x00, len(SSSE_AID)]) + SSSE_AID)
        self.send(bytes.fromhex("00A4020002EF05"))
        issuer = {tag: self.read(tag, size) for tag, size in SPEC_EF05_ITEMS.items()}
        if version_300:
            challenge, _sw = self.send(bytes.fromhex("0084000008"))
            card_id_code = issuer[0x01][2:]
            # Common PSAM pattern (the P1 P2 and data layout are the kiosk's model, devices/psam.py).
            self.send(bytes.fromhex("801A450108") + card_id_code[-8:], slot=1)
            cryptogram, _sw = self.send(bytes([0x80, 0xFA, 0x00, 0x00, 16]) + challenge + bytes(8), slot=1)
            self.send(bytes([0x00, 0x82, 0x00, 0x01, 8]) + cryptogram[:8])
        self.send(bytes.fromhex("00A4020002EF06"))
        for tag, size in (SPEC_EF06_300_ITEMS if version_300 else SPEC_EF06_ITEMS).items():
            self.read(tag, size)
        digits = pin + "F" * (len(pin) % 2)
        self.send(bytes([0x00, 0x20, 0x00, 0x00, len(digits) // 2]) + bytes.fromhex(digits))


def compare(kiosk: list[Apdu], minimal: list[Apdu]) -> tuple[list[dict], list[dict]]:
    """Returns:
        The kiosk's APDUs that the minimal sequence does not have, and the minimal ones the kiosk did not send.
    """
    extra, missing = [], []
    matcher = difflib.SequenceMatcher(a=keyed(kiosk), b=keyed(minimal), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            for i in range(i1, i2):
                extra.append({"index": i, "command": shown_command(kiosk[i]),
                              "what": describe(kiosk[i], kiosk[i - 1] if i else None)})
        if tag in ("replace", "insert"):
            for j in range(j1, j2):
                missing.append({"index": j, "command": shown_command(minimal[j]),
                                "what": describe(minimal[j], minimal[j - 1] if j else None)})
    return extra, missing


def explain_minimal(minimal: list[Apdu]) -> dict:
    """How the minimal count is made up: the spec's commands and what the card's answers forced on top."""
    spec = sum(1 for a in minimal if a.command[1] != 0xC0)
    get_response = sum(1 for a in minimal if a.slot == 0 and a.command[1] == 0xC0)
    resend = sum(1 for i, a in enumerate(minimal)
                 if i and minimal[i - 1].response[-2] == 0x6C and minimal[i - 1].command[:4] == a.command[:4])
    return {"spec_commands": spec - resend, "get_response_forced_by_61xx": get_response,
            "resend_forced_by_6Cxx": resend}




def apdu_economy(sequence: list[Apdu], card: Any, psam: Any, version_300: bool, pin: str) -> dict:
    """The kiosk's APDUs (`sequence`) next to the minimal ones, sent by the reference reader to `card` and `psam`.

    Args:
        sequence: what the kiosk sent for read_card + verify_pin, both slots in order.
        card: a fresh virtual card of the same profile (same fixed challenge); psam: a fresh PSAM.
        version_300: the card is a 3.00 one (external authentication with the PSAM).
        pin: the PIN the kiosk verified.
    Returns:
        The JSON of the comparison: counts, what the minimum is made of, both sequences, extra and missing APDUs.
    """
    minimal: list[Apdu] = []
    ReferenceReader(card, psam, minimal).run(version_300, pin)
    extra, missing = compare(sequence, minimal)
    return {
        "card": sum(1 for a in minimal if a.slot == 0),
        "psam": sum(1 for a in minimal if a.slot == 1),
        "made_of": explain_minimal([a for a in minimal if a.slot == 0]),
        "sequence": sequence_json(minimal),
        "sequence_text": sequence_text(minimal),
        "same_as_kiosk": keyed(minimal) == keyed(sequence),
        "kiosk_extra": extra,
        "kiosk_missing": missing,
    }
