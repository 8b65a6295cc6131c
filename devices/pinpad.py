"""Provides the PIN pad pieces: PC/SC part 10 features and PIN_VERIFY_STRUCTURE, and the simulated reader's virtual pad.

A reader with a PIN pad (PC/SC part 10, FEATURE_VERIFY_PIN_DIRECT) takes the PIN on its own keys
and builds the VERIFY itself from a template: the PIN never passes through the kiosk program.
"""
from __future__ import annotations

import queue
import struct
import threading
from dataclasses import dataclass
from typing import Callable

from kiosk.errors import KioskError

CM_IOCTL_GET_FEATURE_REQUEST = 3400
"""PC/SC part 10: the control code that lists a reader's features (as SCARD_CTL_CODE(3400))."""
FEATURE_VERIFY_PIN_DIRECT = 0x06
"""PC/SC part 10 feature tag: the reader takes the PIN and sends the VERIFY (PIN_VERIFY_STRUCTURE)."""

SW_PAD_TIMEOUT = b"\x64\x00"
SW_PAD_CANCELLED = b"\x64\x01"
"""What a PIN pad answers instead of the card when the guardian typed nothing in time, or pressed Cancel."""


def scard_ctl_code(code: int) -> int:
    """SCARD_CTL_CODE as pcsc-lite defines it on Linux (0x42000000 + code)."""
    return 0x42000000 + code


def parse_features(answer: bytes) -> dict[int, int]:
    """The reader's features from its CM_IOCTL_GET_FEATURE_REQUEST answer: tag -> control code.

    The answer is TLV: one byte tag, one byte length (4), the control code big-endian. A truncated
    or oddly sized entry ends the list (what came before it stands).
    """
    features: dict[int, int] = {}
    offset = 0
    while offset + 2 <= len(answer):
        tag, length = answer[offset], answer[offset + 1]
        value = answer[offset + 2:offset + 2 + length]
        if length != 4 or len(value) != 4:
            break
        features[tag] = int.from_bytes(value, "big")
        offset += 2 + length
    return features


@dataclass(frozen=True)
class PinPadVerify:
    """What the reader needs to build the VERIFY: the APDU's header and how the PIN goes in it (BCD, packed)."""

    cla: int = 0x00
    ins: int = 0x20
    p1: int = 0x00
    p2: int = 0x00
    pin_length: int = 6
    timeout_seconds: int = 60
    """How long the pad waits for the guardian (the reader's own timer; 0 would be the reader's default)."""

    @property
    def block_size(self) -> int:
        return (self.pin_length + 1) // 2

    def apdu_template(self) -> bytes:
        """The VERIFY the reader completes: header, Lc, and the PIN block it overwrites (F-filled)."""
        return bytes([self.cla, self.ins, self.p1, self.p2, self.block_size]) + b"\xff" * self.block_size

    def apdu(self, digits: str) -> bytes:
        """The VERIFY as the pad sends it once `digits` were typed (the simulated pad; a real one does it itself)."""
        packed = (digits + "F" * (2 * self.block_size - len(digits))).encode()
        return self.apdu_template()[:5] + bytes.fromhex(packed.decode())

    def pcsc_structure(self) -> bytes:
        """PIN_VERIFY_STRUCTURE (PC/SC part 10 v2.02, 2.5.2), little-endian multi-byte fields."""
        template = self.apdu_template()
        return struct.pack(
            "<BBBBBHBBHB3sI",
            self.timeout_seconds,  # bTimerOut
            self.timeout_seconds,  # bTimerOut2: after the first key
            0x81,  # bmFormatString: units are bytes, PIN at offset 0 of the data, left justified, BCD
            self.block_size,  # bmPINBlockString: no PIN length field, a block of block_size bytes
            0x00,  # bmPINLengthFormat: no PIN length in the APDU
            (self.pin_length << 8) | self.pin_length,  # wPINMaxExtraDigit: min digits (high), max digits (low)
            0x02,  # bEntryValidationCondition: the pad's OK key
            0x01,  # bNumberMessage: one message ("enter PIN")
            0x0409,  # wLangId
            0x00,  # bMsgIndex
            b"\x00\x00\x00",  # bTeoPrologue (T=1 only; the reader fills it)
            len(template),  # ulDataLength
        ) + template


def read_pcsc_structure(structure: bytes) -> tuple[dict[str, int], bytes]:
    """A PIN_VERIFY_STRUCTURE taken apart: its fields by name, and the APDU template (for tests and diagnostics).

    Raises:
        ValueError: when the structure is shorter than its header or its data length is wrong.
    """
    header = struct.calcsize("<BBBBBHBBHB3sI")
    if len(structure) < header:
        raise ValueError("PIN_VERIFY_STRUCTURE shorter than its header")
    names = ("bTimerOut", "bTimerOut2", "bmFormatString", "bmPINBlockString", "bmPINLengthFormat",
             "wPINMaxExtraDigit", "bEntryValidationCondition", "bNumberMessage", "wLangId", "bMsgIndex",
             "bTeoPrologue", "ulDataLength")
    values = struct.unpack("<BBBBBHBBHB3sI", structure[:header])
    fields = {name: value for name, value in zip(names, values) if name != "bTeoPrologue"}
    data = structure[header:]
    if len(data) != fields["ulDataLength"]:
        raise ValueError("PIN_VERIFY_STRUCTURE data length does not match ulDataLength")
    return fields, data


class VirtualPinPad:
    """The simulated reader's own keypad: digits come from the tester (the bench, the tester panel, a test), never
    from the kiosk program, which only hears the card's answer to the VERIFY the pad builds.

    `press` may come from any thread; `take_pin` blocks the card worker until OK (or Cancel, or the timeout).
    """

    def __init__(self) -> None:
        self._keys: queue.Queue[str] = queue.Queue()
        self._lock = threading.Lock()
        self._active = False
        self._typed = 0  # the pad's own display: how many digits it shows (never which)
        self._closed = threading.Event()

    def close(self) -> None:
        """The kiosk stops: a verification still waiting ends at once (as the pad's Cancel key would end it)."""
        self._closed.set()

    @property
    def active(self) -> bool:
        """True while a verification waits for the guardian's digits on the pad."""
        with self._lock:
            return self._active

    @property
    def typed(self) -> int:
        """How many digits the pad's display shows now (0 when no verification waits)."""
        with self._lock:
            return self._typed if self._active else 0

    def press(self, key: str) -> None:
        """One key on the pad: a digit, "ok", "cancel" or "clear"."""
        self._keys.put(key)

    def type_pin(self, pin: str) -> None:
        """The digits, then OK, as a guardian types them."""
        for digit in pin:
            self.press(digit)
        self.press("ok")

    def take_pin(self, verify: PinPadVerify, entered: Callable[[], None] | None = None,
                 stop: Callable[[], bool] | None = None) -> str | None:
        """Wait for the digits and OK; None when cancelled, timed out, or `stop()` says the card left.

        `entered` is called once the digits are confirmed (the kiosk can say "checking").
        """
        with self._lock:
            self._active = True
            self._typed = 0
        digits = ""
        try:
            waited = 0.0
            while waited < verify.timeout_seconds:
                if self._closed.is_set() or (stop is not None and stop()):
                    return None
                try:
                    key = self._keys.get(timeout=0.05)
                except queue.Empty:
                    waited += 0.05
                    continue
                if key == "cancel":
                    return None
                if key == "clear":
                    digits = ""
                elif key == "ok":
                    if len(digits) == verify.pin_length:
                        if entered is not None:
                            entered()
                        return digits
                elif key.isdigit() and len(digits) < verify.pin_length:
                    digits += key
                with self._lock:
                    self._typed = len(digits)
            return None
        finally:
            with self._lock:
                self._active = False
                self._typed = 0

    def verify(self, verify: PinPadVerify, transmit: Callable[[bytes], bytes], entered: Callable[[], None] | None,
               stop: Callable[[], bool] | None = None) -> bytes:
        """What a real pad does: take the PIN, send the VERIFY to the card, hand back only the card's answer."""
        digits = self.take_pin(verify, entered, stop)
        if digits is None:
            if stop is not None and stop():
                raise KioskError("CARD_REMOVED", "the card left while the PIN pad waited")
            return SW_PAD_CANCELLED
        return transmit(verify.apdu(digits))
