"""Provides ReaderCardService: the kiosk's CardService over any CardReader, with an optional PSAM key holder."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable

from devices.apdu import PIN_APDU_LIMIT, READ_APDU_LIMIT, ApduChannel
from devices.reader import CardReader
from kiosk.domain import GuardianCard, PinResult, is_pin_format
from kiosk.errors import KioskError

# The card's commands (devices.sscard, with the resident ID and area code checks) load with the first card read:
# the service is made before the kiosk's first screen, which reads no card.
if TYPE_CHECKING:
    from devices.psam import KeyHolder
    from devices.sscard import SocialSecurityCard


class ReaderCardService:
    """Implements `kiosk.ports.CardService` for the guardian's reader slot.

    The connection opened by `read_card` stays open for `verify_pin`, so the PIN goes to the
    very card that was read; `release` (or a new `read_card`) drops it.
    """

    def __init__(self, reader: CardReader, key_holder_factory: Callable[[], KeyHolder | None]) -> None:
        """Args:
            reader: the guardian's card slot.
            key_holder_factory: called once per 3.00 card read; returns the key holder for
                external authentication, or None in a kiosk without one (the card is then
                returned with `holder` None). May raise KioskError PSAM_UNAVAILABLE.
        """
        self._reader = reader
        self._key_holder_factory = key_holder_factory
        self._lock = threading.Lock()
        self._card: SocialSecurityCard | None = None

    def card_present(self) -> bool:
        return self._reader.card_present()

    def read_card(self) -> GuardianCard:
        self.release()
        connection = self._reader.connect()
        from devices.sscard import SocialSecurityCard

        card = SocialSecurityCard(ApduChannel(connection))
        try:
            # READ_APDU_LIMIT: no card keeps a read going (endless 61xx, 6Cxx on every command, ...).
            with connection.transaction(), card.channel.budget(READ_APDU_LIMIT):
                card.select_ssse()
                issuer = card.read_issuer()
                holder = None
                if not issuer.needs_external_auth:
                    holder = card.read_holder(issuer.spec_version)
                else:
                    key_holder = self._key_holder_factory()
                    if key_holder is not None:
                        try:
                            card.authenticate(key_holder, issuer.card_id_code)
                        finally:
                            key_holder.close()
                        holder = card.read_holder(issuer.spec_version)
        except BaseException:
            connection.close()
            raise
        with self._lock:
            self._card = card
        return GuardianCard(connection.atr, issuer, holder, card.channel.count)

    def pin_tries_left(self) -> int | None:
        with self._lock:
            card = self._card
        if card is None:
            raise KioskError("CARD_ABSENT", "pin_tries_left without a card read first")
        with card.channel.connection.transaction(), card.channel.budget(PIN_APDU_LIMIT):
            return card.pin_tries_left()

    def verify_pin(self, pin: str) -> PinResult:
        if not is_pin_format(pin):
            raise KioskError("PIN_FORMAT", "the PIN typed is not 6 digits")
        with self._lock:
            card = self._card
        if card is None:
            raise KioskError("CARD_ABSENT", "verify_pin without a card read first")
        # A pulled card raises CARD_REMOVED from the transmit: it is never turned into a PinResult.
        with card.channel.connection.transaction(), card.channel.budget(PIN_APDU_LIMIT):
            return card.verify_pin(pin)

    def has_pin_pad(self) -> bool:
        with self._lock:
            card = self._card
        return card is not None and card.channel.connection.has_pin_pad

    def verify_pin_on_pad(self, entered: Callable[[], None] | None = None) -> PinResult:
        with self._lock:
            card = self._card
        if card is None:
            raise KioskError("CARD_ABSENT", "verify_pin_on_pad without a card read first")
        # Not under the connection's transaction: the guardian may take a minute on the pad, and a pulled
        # card must be told at once (the pad's VERIFY is one exchange with the card, like one APDU).
        return card.verify_pin_on_pad(entered)

    def release(self) -> None:
        with self._lock:
            card, self._card = self._card, None
        if card is not None:
            card.channel.connection.close()

