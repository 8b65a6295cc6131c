"""Provides APDUs and status words, the answering-side interface, and a counting channel that hides 61xx/6Cxx."""
from __future__ import annotations

import abc
import contextlib
import enum
from dataclasses import dataclass
from functools import cached_property
from typing import Iterator, NamedTuple

from devices.reader import CardConnection
from kiosk.errors import KioskError

MAX_GET_RESPONSES = 8
"""GET RESPONSEs one command may take. A record (at most 257 bytes with its tag and length) comes in one or two
pieces; a card still saying 61xx after this many never stops (endless 61xx, or one byte at a time)."""
READ_APDU_LIMIT = 96
"""APDUs one whole card read may take (N). A normal read takes 16 (2.00) to 40 (3.00, T=0, strict Le); the oddest
card that still reads right (T=0, records longer than the spec's, answered the ISO way, so read twice) about 70."""
PIN_APDU_LIMIT = 4
"""APDUs one PIN check or try-counter query may take: the command, and GET RESPONSEs for a T=0 card."""

# A response bigger than this is not a smart card talking sense; stop collecting GET RESPONSE data.
_MAX_RESPONSE_BYTES = 65536
# Instructions that only read: SELECT, READ BINARY, READ RECORD, GET RESPONSE, GET DATA. Only these are sent again
# on 6Cxx; anything else may have changed the card already (a PIN try used, a challenge consumed, a key computed).
_READS = frozenset({0xA4, 0xB0, 0xB2, 0xC0, 0xCA, 0xCB})


class StatusWord(enum.IntEnum):
    """The status words the kiosk and its virtual cards speak (ISO/IEC 7816-4)."""

    OK = 0x9000
    END_OF_RECORD = 0x6282  # fewer bytes than Le: the data returned is all there is
    VERIFICATION_FAILED = 0x6300  # wrong PIN or refused authentication, no counter given
    WRONG_LENGTH = 0x6700
    SECURITY_NOT_SATISFIED = 0x6982
    AUTH_METHOD_BLOCKED = 0x6983
    CONDITIONS_NOT_SATISFIED = 0x6985
    NO_CURRENT_EF = 0x6986
    FILE_NOT_FOUND = 0x6A82
    RECORD_NOT_FOUND = 0x6A83
    WRONG_P1_P2 = 0x6A86
    REFERENCED_DATA_NOT_FOUND = 0x6A88
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


def sw_text(sw: int) -> str:
    """Returns:
        The status word as four hex digits, the way technicians read it ("6A82").
    """
    return f"{sw:04X}"


def more_data_length(sw: int) -> int | None:
    """Returns:
        For 61xx the number of bytes waiting for GET RESPONSE (00 means 256), else None.
    """
    if sw >> 8 == 0x61:
        return (sw & 0xFF) or 256
    return None


def correct_le(sw: int) -> int | None:
    """Returns:
        For 6Cxx the Le the card wants instead (00 means 256), else None.
    """
    if sw >> 8 == 0x6C:
        return (sw & 0xFF) or 256
    return None


def pin_tries_left(sw: int) -> int | None:
    """Returns:
        For 63Cx the tries left (x), else None.
    """
    if sw & 0xFFF0 == 0x63C0:
        return sw & 0x0F
    return None


@dataclass(frozen=True)
class CommandApdu:
    """A short command APDU; `le` None means no Le byte, 256 is sent as 00."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        if not (0 <= self.cla <= 0xFF and 0 <= self.ins <= 0xFF and 0 <= self.p1 <= 0xFF and 0 <= self.p2 <= 0xFF):
            name = next(n for n in ("cla", "ins", "p1", "p2") if not 0 <= getattr(self, n) <= 0xFF)
            raise ValueError(f"{name} must fit one byte")
        if len(self.data) > 255:
            raise ValueError("short APDUs carry at most 255 data bytes")
        if self.le is not None and not 1 <= self.le <= 256:
            raise ValueError("le must be 1..256 or None")

    @cached_property
    def raw(self) -> bytes:
        """The APDU as sent, built once (commands the card layer sends again and again are module constants)."""
        return self.to_bytes()

    def to_bytes(self) -> bytes:
        """Returns:
            The APDU as sent: header, Lc and data when there is data, Le when given.
        """
        raw = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            raw += bytes([len(self.data)]) + self.data
        if self.le is not None:
            raw += bytes([self.le & 0xFF])
        return raw

    def with_le(self, le: int) -> CommandApdu:
        """Returns:
            The same command asking for `le` bytes.
        """
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le)

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandApdu:
        """Parse a short command APDU (cases 1 to 4), as a card does.

        Raises:
            ValueError: when the bytes are not a short APDU (a card answers 6700).
        """
        if len(raw) < 4:
            raise ValueError("an APDU has at least four header bytes")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        lc = body[0]
        if lc == 0:
            raise ValueError("extended APDUs are not supported")
        if len(body) == 1 + lc:
            return cls(cla, ins, p1, p2, bytes(body[1:]))
        if len(body) == 2 + lc:
            return cls(cla, ins, p1, p2, bytes(body[1:-1]), body[-1] or 256)
        raise ValueError("Lc does not match the data length")


class ResponseApdu(NamedTuple):
    """A card's answer: data, then SW1 SW2 (a tuple: made once per APDU, so made cheaply)."""

    data: bytes
    sw1: int
    sw2: int

    @property
    def sw(self) -> int:
        """The status word as one int, 0x9000 for success."""
        return (self.sw1 << 8) | self.sw2

    def to_bytes(self) -> bytes:
        """Returns:
            The response as it travels: data followed by SW1 SW2.
        """
        return self.data + bytes([self.sw1, self.sw2])

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseApdu:
        """Split a raw response.

        Raises:
            KioskError: CARD_COMMUNICATION when there is no status word.
        """
        if len(raw) < 2:
            raise KioskError("CARD_COMMUNICATION", f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), raw[-2], raw[-1])

    @classmethod
    def of(cls, sw: int, data: bytes = b"") -> ResponseApdu:
        """Returns:
            A response with `data` and status word `sw` (for answering sides).
        """
        return cls(data, sw >> 8, sw & 0xFF)


class ApduResponder(abc.ABC):
    """Anything that answers APDUs like a card in a slot: a virtual card or a virtual PSAM."""

    @property
    @abc.abstractmethod
    def atr(self) -> bytes | None:
        """The answer to reset; None when the card stays mute."""

    @abc.abstractmethod
    def power_on(self) -> None:
        """Reset the card as a new connection does: selections and authentications are lost."""

    @abc.abstractmethod
    def answer(self, command: bytes) -> bytes:
        """Answer one command APDU.

        Args:
            command: the raw command APDU.
        Returns:
            The raw response, data followed by SW1 SW2.
        Raises:
            KioskError: CARD_REMOVED when the card has just left its reader (a fault the
                reader must act on: the slot is empty from now on).
        """


class ApduChannel:
    """A card connection that resolves 61xx and 6Cxx and counts every APDU it actually sends.

    Every loop over the card's answers is bounded: at most `MAX_GET_RESPONSES` GET RESPONSEs per
    command, and inside `budget(n)` at most n APDUs in all; past either bound the channel raises
    CARD_APDU_LIMIT instead of sending, so no card can keep a read going.
    """

    def __init__(self, connection: CardConnection) -> None:
        self.connection = connection
        self.count = 0
        self._stop_at: int | None = None  # the count at which the current budget is spent

    @contextlib.contextmanager
    def budget(self, apdus: int) -> Iterator[None]:
        """Allow at most `apdus` APDUs until the block ends (a budget inside a budget cannot extend it).

        Raises:
            KioskError: CARD_APDU_LIMIT from the first transmit that would go past it.
        """
        outer = self._stop_at
        stop_at = self.count + apdus
        self._stop_at = stop_at if outer is None else min(outer, stop_at)
        try:
            yield
        finally:
            self._stop_at = outer

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        """Send `command`, fetch all of its data, and return the final answer.

        On 61xx sends GET RESPONSE (`00 C0 00 00 xx`) while the card says more data waits,
        concatenating the pieces; on 6Cxx sends the same command again once with Le=xx, but
        only when the command is a read (SELECT, READ BINARY, READ RECORD, GET DATA): for any
        other command (VERIFY, EXTERNAL AUTHENTICATE, GET CHALLENGE, the PSAM's) the 6Cxx is
        returned as the answer, because sending it again could cost a PIN try or a challenge.

        Returns:
            The whole response data with the last status word.
        Raises:
            KioskError: whatever the connection raises (CARD_REMOVED, CARD_COMMUNICATION,
                READER_LOST), CARD_COMMUNICATION for a response without status word,
                CARD_APDU_LIMIT for a GET RESPONSE chain that does not end or a spent budget.
        """
        response = self._send(command)
        if response.sw1 != 0x61 and response.sw1 != 0x6C:  # the usual case: the whole answer at once
            return response
        wanted = correct_le(response.sw)
        if wanted is not None:
            if command.ins not in _READS or command.cla & 0x80:
                return response
            # Re-sent once only: a card that asks again is answered by the caller's SW check.
            response = self._send(command.with_le(wanted))
        data = response.data
        waiting = more_data_length(response.sw)
        pieces = 0
        while waiting is not None:
            pieces += 1
            if pieces > MAX_GET_RESPONSES or len(data) > _MAX_RESPONSE_BYTES:
                raise KioskError("CARD_APDU_LIMIT", f"still 61xx after {MAX_GET_RESPONSES} GET RESPONSEs "
                                                    f"({len(data)} bytes so far)")
            response = self._send(CommandApdu(0x00, 0xC0, 0x00, 0x00, le=waiting))
            data += response.data
            waiting = more_data_length(response.sw)
        return ResponseApdu(data, response.sw1, response.sw2)

    def _send(self, command: CommandApdu) -> ResponseApdu:
        if self._stop_at is not None and self.count >= self._stop_at:
            raise KioskError("CARD_APDU_LIMIT", f"the budget is spent at {self.count} APDUs")
        # Counted before sending: an APDU that made the card leave still went out.
        self.count += 1
        raw = self.connection.transmit(command.raw)
        if len(raw) < 2:
            raise KioskError("CARD_COMMUNICATION", f"response of {len(raw)} bytes has no status word")
        return ResponseApdu(raw[:-2], raw[-2], raw[-1])
