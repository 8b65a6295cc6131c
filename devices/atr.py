"""Provides parse_atr: an answer to reset decoded by ISO/IEC 7816-3 (TS, T0, TA..TD, TCK) and -4 (historical bytes)."""
from __future__ import annotations

import re

from kiosk.reader_diagnostics import AtrFacts

# ISO/IEC 7816-3 table 7 and 8: clock rate conversion Fi and baud rate adjustment Di (None: RFU).
_FI = (372, 372, 558, 744, 1116, 1488, 1860, None, None, 512, 768, 1024, 1536, 2048, None, None)
_DI = (None, 1, 2, 4, 8, 16, 32, 64, 12, 20, None, None, None, None, None, None)
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7E]{3,}")


def parse_atr(atr: bytes) -> AtrFacts:
    """Decode `atr` as far as the standards go; never raises (problems are listed in the result)."""
    problems: list[str] = []
    if not atr:
        return AtrFacts("invalid", (), (), b"", "none", (), b"", "", None, "absent", ("no ATR",))
    convention = {0x3B: "direct", 0x3F: "inverse"}.get(atr[0], "invalid")
    if convention == "invalid":
        problems.append(f"TS {atr[0]:02X} is neither 3B nor 3F")
    interface: list[tuple[str, str]] = []
    protocols: list[int] = []
    position = 1
    if len(atr) < 2:
        return AtrFacts(convention, (), (), b"", "none", (), b"", "", None, "absent", (*problems, "no T0 byte"))
    indicator = atr[1]
    historical_length = indicator & 0x0F
    position = 2
    group = 1
    while True:
        present = indicator >> 4
        for bit, letter in ((1, "A"), (2, "B"), (4, "C"), (8, "D")):
            if not present & bit:
                continue
            if position >= len(atr):
                problems.append(f"T{letter}{group} announced but the ATR ends")
                present = 0
                break
            value = atr[position]
            position += 1
            name = f"T{letter}{group}"
            if name == "TA1":
                fi, di = _FI[value >> 4], _DI[value & 0x0F]
                interface.append((name, f"{value:02X} (Fi={fi or 'RFU'} Di={di or 'RFU'})"))
            elif letter == "D":
                protocols.append(value & 0x0F)
                interface.append((name, f"{value:02X} (T={value & 0x0F})"))
            else:
                interface.append((name, f"{value:02X}"))
        if not present & 8 or position > len(atr):
            break
        indicator = atr[position - 1]
        group += 1
    offered = sorted(set(protocols) - {15}) or [0]
    historical = atr[position:position + historical_length]
    if len(historical) < historical_length:
        problems.append(f"{historical_length} historical bytes announced, {len(historical)} present")
    position += len(historical)
    needs_check = any(t != 0 for t in protocols)
    if needs_check:
        if position >= len(atr):
            check = "absent"
            problems.append("TCK missing")
        else:
            xor = 0
            for byte in atr[1:position + 1]:
                xor ^= byte
            check = "ok" if xor == 0 else "wrong"
            position += 1
    else:
        check = "absent"
    if position < len(atr):
        problems.append(f"{len(atr) - position} extra bytes after the ATR")
    category, objects, leftover = _historical(historical)
    text = " ".join(run.decode("ascii") for run in _PRINTABLE_RUN.findall(historical))
    return AtrFacts(
        convention=convention,
        protocols=tuple(f"T={t}" for t in offered),
        interface=tuple(interface),
        historical=historical,
        category=category,
        objects=objects,
        leftover=leftover,
        text=text,
        chip_maker=None,
        check=check,
        problems=tuple(problems),
    )


def _historical(data: bytes) -> tuple[str, tuple[tuple[int, bytes], ...], bytes]:
    """The category indicator and, for categories 00 and 80, the compact-TLV objects (ISO/IEC 7816-4 8.1.1)."""
    if not data:
        return "none", (), b""
    first = data[0]
    if first == 0x80:
        body = data[1:]
    elif first == 0x00:
        body = data[1:-3] if len(data) >= 4 else b""
    elif first == 0x10:
        return "10", (), data[1:]
    else:
        return "proprietary", (), data
    objects: list[tuple[int, bytes]] = []
    position = 0
    while position < len(body):
        tag, length = body[position] >> 4, body[position] & 0x0F
        value = body[position + 1:position + 1 + length]
        if tag == 0 or len(value) < length:
            break  # not compact-TLV from here on: the card maker's own layout
        objects.append((tag, bytes(value)))
        position += 1 + length
    return f"{first:02X}", tuple(objects), bytes(body[position:])
