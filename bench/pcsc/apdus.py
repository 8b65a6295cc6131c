"""Provides the benchmark's APDU log (every APDU the virtual card and PSAM answer, in order) and the words and short names it is shown with."""
from __future__ import annotations

import threading
from dataclasses import dataclass

SLOT_NAMES = {0: "card", 1: "PSAM"}


@dataclass(frozen=True)
class Apdu:
    slot: int  # 0: the guardian's card, 1: the PSAM
    command: bytes
    response: bytes


class ApduLog:
    """One ordered log of every APDU the virtual card and the PSAM answer (their `answer` is wrapped)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[Apdu] = []

    def wrap(self, responder, slot: int) -> None:
        answer = responder.answer

        def logged(command: bytes) -> bytes:
            response = answer(command)
            with self._lock:
                self._entries.append(Apdu(slot, bytes(command), bytes(response)))
            return response

        responder.answer = logged

    def take(self) -> list[Apdu]:
        """Returns:
            The APDUs logged since the last `take`, in order (the log is emptied).
        """
        with self._lock:
            entries, self._entries = self._entries, []
        return entries


def hex_bytes(data: bytes) -> str:
    return data.hex(" ").upper()


def shown_command(apdu: Apdu) -> str:
    """The command as printed: a VERIFY's PIN block is masked (APDUs with a PIN are never shown)."""
    command = apdu.command
    if apdu.slot == 0 and command[1:2] == b"\x20" and len(command) > 5:
        return hex_bytes(command[:5]) + " " + " ".join("**" for _ in command[5:])
    return hex_bytes(command)


def describe(apdu: Apdu, previous: Apdu | None) -> str:
    """What an APDU is, in words (from the spec's command table)."""
    c = apdu.command
    cla, ins, p1, p2 = c[0], c[1], c[2], c[3]
    body = c[4:]
    if apdu.slot == 1:
        if (cla, ins) == (0x80, 0x1A):
            return "PSAM 80 1A: initialise (key usage, card's diversification data)"
        if (cla, ins) == (0x80, 0xFA):
            return "PSAM 80 FA: compute the cryptogram for the challenge"
        return f"PSAM {cla:02X} {ins:02X}"
    resent = (previous is not None and previous.slot == 0 and previous.response[-2:-1] == b"\x6C"
              and previous.command[:4] == c[:4])
    suffix = f" (re-sent with Le={previous.response[-1]:02X} after 6C{previous.response[-1]:02X})" if resent else ""
    if ins == 0xA4 and p1 == 0x04:
        return "SELECT SSSE" + suffix
    if ins == 0xA4:
        return f"SELECT {body[1:3].hex().upper() if len(body) >= 3 else '?'}" + suffix
    if ins == 0xB2:
        return f"READ RECORD item {p1:02X}" + suffix
    if ins == 0xC0:
        sw = f" after {hex_bytes(previous.response[-2:]).replace(' ', '')}" if previous is not None else ""
        return f"GET RESPONSE{sw}"
    if ins == 0x84:
        return "GET CHALLENGE" + suffix
    if ins == 0x82:
        return "EXTERNAL AUTHENTICATE" + suffix
    if ins == 0x20:
        return "VERIFY (PIN)" if len(body) > 1 else "VERIFY without data (asks the try counter)"
    return f"{cla:02X} {ins:02X} {p1:02X} {p2:02X}"


def mnemonic(apdu: Apdu, previous: Apdu | None) -> str:
    """A short name for an APDU, for the printed sequence."""
    c = apdu.command
    if apdu.slot == 1:
        return f"psam:{c[1]:02X}"
    sw = apdu.response[-2:]
    bounced = f"({sw.hex().upper()})" if sw[0] == 0x6C else ""
    ins = c[1]
    if ins == 0xA4:
        name = "SEL SSSE" if c[2] == 0x04 else f"SEL {c[5:7].hex().upper()}"
    elif ins == 0xB2:
        name = f"RD {c[2]:02X}"
    elif ins == 0xC0:
        name = "GR"
    elif ins == 0x84:
        name = "GET-CHAL"
    elif ins == 0x82:
        name = "EXT-AUTH"
    elif ins == 0x20:
        name = "VERIFY" if len(c) > 5 else "VERIFY(no data)"
    else:
        name = c[:4].hex().upper()
    return name + bounced


def sequence_text(apdus: list[Apdu]) -> str:
    return " ".join(mnemonic(a, apdus[i - 1] if i else None) for i, a in enumerate(apdus))


def sequence_json(apdus: list[Apdu]) -> list[dict]:
    out, previous = [], None
    for apdu in apdus:
        out.append({"slot": apdu.slot, "to": SLOT_NAMES[apdu.slot], "command": shown_command(apdu),
                    "sw": apdu.response[-2:].hex().upper(), "response_bytes": len(apdu.response),
                    "what": describe(apdu, previous)})
        previous = apdu
    return out




def keyed(apdus: list[Apdu]) -> list[tuple[int, bytes]]:
    """Returns:
        The (slot, command) pairs of `apdus`: what two sequences are compared by.
    """
    return [(apdu.slot, apdu.command) for apdu in apdus]
