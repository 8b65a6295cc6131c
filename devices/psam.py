"""Provides the key holder for 3.00 external authentication: the interface, the PSAM client and a virtual PSAM.

Key scheme (model, not the national one; vendors keep theirs secret):
  diversification data = the 8 card-unique bytes of the card identification code (its last 8 bytes)
  card key    = SM4-ECB(master key, div || bitwise-not(div))
  cryptogram  = first 8 bytes of SM4-ECB(card key, challenge || 8 zero bytes)
The issuer writes the card key into each 3.00 card; the PSAM holds the master key. The published
test master key lives only in config/cards/psam-test.toml, never in code.
"""
from __future__ import annotations

import abc
import threading
from typing import Callable

from devices.apdu import ApduChannel, ApduResponder, CommandApdu, ResponseApdu, StatusWord, sw_text
from devices.profiles import CardProfile
from devices.reader import CardConnection, CardReader
from kiosk.errors import KioskError

_CHALLENGE_LENGTH = 8
# 80 1A P1 P2: P1 = key usage (45, external authentication key), P2 = key version 01 (model).
_INIT_P1 = 0x45
_INIT_P2 = 0x01
# Errors from the PSAM slot are the kiosk's problem, never the guardian's card's.
_PSAM_SLOT_CODES = frozenset({"CARD_ABSENT", "CARD_MUTE", "CARD_REMOVED", "CARD_COMMUNICATION", "READER_LOST", "READER_UNAVAILABLE"})


def _sm4_ecb(key: bytes, block: bytes) -> bytes:
    # Imported here: the kiosk's start-up (before any card) need not load the cipher library.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def diversification_data(card_id_code: bytes) -> bytes:
    """Returns:
        The 8 card-unique bytes that diversify the master key: the card id code's last 8 bytes.
    Raises:
        ValueError: when the card identification code is not 16 bytes.
    """
    if len(card_id_code) != 16:
        raise ValueError(f"a card identification code has 16 bytes, not {len(card_id_code)}")
    return card_id_code[-8:]


def derive_card_key(master_key: bytes, diversification: bytes) -> bytes:
    """Returns:
        The card's 16-byte SM4 key: SM4-ECB(master, div || not div).
    Raises:
        ValueError: for a master key that is not 16 bytes or diversification data that is not 8.
    """
    if len(master_key) != 16 or len(diversification) != 8:
        raise ValueError("SM4 needs a 16-byte master key and 8 bytes of diversification data")
    return _sm4_ecb(master_key, diversification + bytes(b ^ 0xFF for b in diversification))


def compute_cryptogram(card_key: bytes, challenge: bytes) -> bytes:
    """Returns:
        The 8-byte cryptogram for `challenge`: SM4-ECB(card key, challenge || 8 zero bytes)[:8].
    Raises:
        ValueError: when the challenge is not 8 bytes.
    """
    if len(challenge) != _CHALLENGE_LENGTH:
        raise ValueError(f"a challenge has {_CHALLENGE_LENGTH} bytes")
    return _sm4_ecb(card_key, challenge + bytes(8))[:8]


class KeyHolder(abc.ABC):
    """Whatever computes external-authentication cryptograms for 3.00 cards: a PSAM, or later an HSM."""

    @abc.abstractmethod
    def cryptogram(self, card_id_code: bytes, challenge: bytes) -> bytes:
        """Compute the cryptogram one user card expects for its challenge.

        Args:
            card_id_code: the card's 16-byte identification code (EF05 item 01); it
                diversifies the key.
            challenge: the 8 bytes the user card returned to GET CHALLENGE.
        Returns:
            The 8-byte cryptogram to send with EXTERNAL AUTHENTICATE.
        Raises:
            KioskError: PSAM_UNAVAILABLE when the key holder cannot be reached,
                CARD_AUTH_FAILED when it refuses to compute.
        """

    def close(self) -> None:
        """Let go of the key holder's resources; safe to call twice. The default holds none."""


class PsamKeyHolder(KeyHolder):
    """A PSAM in a reader slot, driven with the common `80 1A` / `80 FA` pattern (model)."""

    def __init__(self, connection: CardConnection) -> None:
        self._channel = ApduChannel(connection)

    def cryptogram(self, card_id_code: bytes, challenge: bytes) -> bytes:
        try:
            diversification = diversification_data(card_id_code)
        except ValueError as error:
            raise KioskError("CARD_DATA_INVALID", str(error)) from error
        if len(challenge) != _CHALLENGE_LENGTH:
            raise KioskError("CARD_AUTH_FAILED", f"challenge of {len(challenge)} bytes")
        try:
            with self._channel.connection.transaction():
                self._expect_ok(CommandApdu(0x80, 0x1A, _INIT_P1, _INIT_P2, diversification), "80 1A")
                answer = self._expect_ok(CommandApdu(0x80, 0xFA, 0x00, 0x00, challenge + bytes(8)), "80 FA")
        except KioskError as error:
            if error.code in _PSAM_SLOT_CODES:
                raise KioskError("PSAM_UNAVAILABLE", f"PSAM slot: {error}") from error
            raise
        if len(answer.data) < _CHALLENGE_LENGTH:
            raise KioskError("CARD_AUTH_FAILED", f"PSAM returned {len(answer.data)} bytes of cryptogram")
        return answer.data[:_CHALLENGE_LENGTH]

    def _expect_ok(self, command: CommandApdu, step: str) -> ResponseApdu:
        response = self._channel.transmit(command)
        if response.sw != StatusWord.OK:
            raise KioskError("CARD_AUTH_FAILED", f"PSAM {step} answered {sw_text(response.sw)}")
        return response

    def close(self) -> None:
        self._channel.connection.close()


class _KeptPsam(KeyHolder):
    """The PSAM connection, opened on first use and kept between card reads.

    Connecting to the PSAM for every 3.00 card costs more PC/SC calls than the cryptogram
    itself; a kept connection that went stale (PSAM taken out, pcscd restarted) is opened
    again once.
    """

    def __init__(self, reader: CardReader) -> None:
        self._reader = reader
        self._holder: PsamKeyHolder | None = None
        self._lock = threading.Lock()

    def _connect(self) -> PsamKeyHolder:
        try:
            return PsamKeyHolder(self._reader.connect())
        except KioskError as error:
            if error.code in _PSAM_SLOT_CODES:
                raise KioskError("PSAM_UNAVAILABLE", f"PSAM slot {self._reader.name}: {error}") from error
            raise

    def _drop(self) -> None:
        holder, self._holder = self._holder, None
        if holder is not None:
            holder.close()

    def cryptogram(self, card_id_code: bytes, challenge: bytes) -> bytes:
        with self._lock:
            fresh = self._holder is None
            if fresh:
                self._holder = self._connect()
            try:
                return self._holder.cryptogram(card_id_code, challenge)
            except KioskError as error:
                if error.code != "PSAM_UNAVAILABLE":
                    raise
                self._drop()
                if fresh:
                    raise
            self._holder = self._connect()
            return self._holder.cryptogram(card_id_code, challenge)

    def close(self) -> None:
        """Kept open for the next card; `release` lets it go."""

    def release(self) -> None:
        with self._lock:
            self._drop()


def psam_key_holder_factory(reader: CardReader) -> Callable[[], KeyHolder]:
    """Build the `key_holder_factory` for a kiosk with a PSAM slot.

    Args:
        reader: the reader slot that holds the PSAM.
    Returns:
        A function returning the kiosk's PSAM key holder; its connection is opened on first use
        and kept between cards. Its `cryptogram` raises KioskError PSAM_UNAVAILABLE when the
        slot is empty or the PSAM is mute.
    """
    kept = _KeptPsam(reader)
    return lambda: kept


class VirtualPsam(ApduResponder):
    """A PSAM that answers `80 1A` / `80 FA` with the model SM4 scheme and holds the master key."""

    def __init__(self, master_key: bytes, atr: bytes) -> None:
        if len(master_key) != 16:
            raise ValueError("an SM4 master key has 16 bytes")
        self._master_key = master_key
        self._atr = atr
        self._card_key: bytes | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_profile(cls, profile: CardProfile) -> VirtualPsam:
        """Build the PSAM a profile of kind "psam" describes.

        Raises:
            ValueError: for a profile that is not a PSAM with a master key.
        """
        if profile.kind != "psam" or profile.master_key is None:
            raise ValueError(f"profile {profile.name} is not a PSAM with a master key")
        return cls(profile.master_key, profile.atr)

    @property
    def atr(self) -> bytes | None:
        return self._atr

    def power_on(self) -> None:
        with self._lock:
            self._card_key = None

    def answer(self, command: bytes) -> bytes:
        with self._lock:
            return self._answer(command).to_bytes()

    def _answer(self, raw: bytes) -> ResponseApdu:
        try:
            command = CommandApdu.from_bytes(raw)
        except ValueError:
            return ResponseApdu.of(StatusWord.WRONG_LENGTH)
        if command.cla != 0x80:
            return ResponseApdu.of(StatusWord.CLA_NOT_SUPPORTED)
        if command.ins == 0x1A:
            return self._initialise(command)
        if command.ins == 0xFA:
            return self._compute(command)
        return ResponseApdu.of(StatusWord.INS_NOT_SUPPORTED)

    def _initialise(self, command: CommandApdu) -> ResponseApdu:
        if (command.p1, command.p2) != (_INIT_P1, _INIT_P2):
            return ResponseApdu.of(StatusWord.REFERENCED_DATA_NOT_FOUND)
        if len(command.data) != 8:
            return ResponseApdu.of(StatusWord.WRONG_LENGTH)
        self._card_key = derive_card_key(self._master_key, command.data)
        return ResponseApdu.of(StatusWord.OK)

    def _compute(self, command: CommandApdu) -> ResponseApdu:
        if (command.p1, command.p2) != (0x00, 0x00):
            return ResponseApdu.of(StatusWord.WRONG_P1_P2)
        if len(command.data) != 16:
            return ResponseApdu.of(StatusWord.WRONG_LENGTH)
        if self._card_key is None:
            return ResponseApdu.of(StatusWord.CONDITIONS_NOT_SATISFIED)
        # Same computation as compute_cryptogram, whose input is challenge || 8 zero bytes.
        block = _sm4_ecb(self._card_key, command.data)
        return ResponseApdu.of(StatusWord.OK, block[:8])
