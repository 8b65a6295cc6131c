"""Provides the ports the core needs from the outside world: the card in the reader, and the clock."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

from kiosk.domain import GuardianCard, PinResult


class CardService(Protocol):
    """The guardian's card as the kiosk session sees it; devices/ implements it for every reader.

    Every method blocks (card I/O): call it from a worker thread, never from the UI thread.
    Failures raise `kiosk.errors.KioskError` with a catalogued code.
    """

    def card_present(self) -> bool:
        """Returns:
            True when a card sits in the guardian's reader slot.
        """
        ...

    def read_card(self) -> GuardianCard:
        """Connect to the card and read issuer (EF05) and holder (EF06) data.

        Returns:
            The card read; `holder` is None for a 3.00 card when no PSAM can authenticate.
        Raises:
            KioskError: CARD_ABSENT, CARD_MUTE, CARD_REMOVED, CARD_NOT_SOCIAL_SECURITY,
                CARD_DATA_INVALID, CARD_RECORD_MISSING, CARD_AUTH_FAILED, CARD_COMMUNICATION,
                READER_LOST, READER_UNAVAILABLE.
        """
        ...

    def pin_tries_left(self) -> int | None:
        """Ask the card how many PIN tries are left, without using one.

        Returns:
            The tries left (0: blocked), or None when the card does not tell.
        Raises:
            KioskError: CARD_REMOVED, CARD_COMMUNICATION, READER_LOST.
        """
        ...

    def verify_pin(self, pin: str) -> PinResult:
        """Send the PIN (6 digits) to the card read by `read_card`.

        Returns:
            VERIFIED, WRONG with tries left (None when the card did not say), or BLOCKED.
        Raises:
            KioskError: CARD_REMOVED (never counted as a wrong PIN), CARD_COMMUNICATION, READER_LOST.
        """
        ...

    def release(self) -> None:
        """Drop the connection to the card; safe to call at any time, any number of times."""
        ...


class Clock(Protocol):
    """Where the kiosk gets the time; tests and the tester panel move it."""

    def now(self) -> datetime:
        """Returns:
            The current time, timezone-aware (UTC).
        """
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that moves only when told to (tests, and the tester's "jump the clock")."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._now += timedelta(seconds=seconds)


class VirtualCardChoice(Protocol):
    """One virtual card a tester can insert."""

    name: str
    label: "object"  # kiosk.text.LocalText
    description: "object"  # kiosk.text.LocalText


class TesterBench(Protocol):
    """What a tester's panel can do with the simulated reader (implemented in devices/)."""

    def choices(self) -> list[VirtualCardChoice]:
        """Returns:
            The virtual card profiles a tester can insert, in a stable order.
        """
        ...

    def inserted(self) -> str | None:
        """Returns:
            The profile name of the card in the reader, or None.
        """
        ...

    def insert(self, name: str) -> None:
        """Put the virtual card of profile `name` into the reader (removing any card first)."""
        ...

    def remove(self) -> None:
        """Take the card out of the reader."""
        ...


class Speaker(Protocol):
    """A voice that reads the kiosk's instructions aloud; devices/ implements it (espeak-ng), or stays silent."""

    @property
    def available(self) -> bool:
        """Returns:
            True when something can actually be heard (an engine and, as far as can be told, a sound device).
        """
        ...

    def speak(self, text: str, lang: str) -> None:
        """Start saying `text` in `lang` ("zh" or "en") and return at once; a new utterance cuts off the last.

        Never raises for a missing engine or sound device: the kiosk goes on silently.
        """
        ...

    def stop(self) -> None:
        """Stop talking now (and drop anything not yet started)."""
        ...
