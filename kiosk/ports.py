"""Provides the ports the core needs from the outside world: the card in the reader, the clock, where blocking work runs.

The maintenance console's reader diagnostics have a module of their own (kiosk.reader_diagnostics).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Callable, Protocol

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
                CARD_DATA_INVALID, CARD_DATA_MISSING, CARD_RECORD_MISSING, CARD_AUTH_FAILED,
                CARD_COMMUNICATION, CARD_APDU_LIMIT (a card that keeps answering), READER_LOST,
                READER_UNAVAILABLE.
        """
        ...

    def pin_tries_left(self) -> int | None:
        """Ask the card how many PIN tries are left, without using one.

        Returns:
            The tries left (0: blocked), or None when the card does not tell.
        Raises:
            KioskError: CARD_REMOVED, CARD_COMMUNICATION, CARD_APDU_LIMIT, READER_LOST.
        """
        ...

    def verify_pin(self, pin: str) -> PinResult:
        """Send the PIN (6 digits) to the card read by `read_card`.

        Returns:
            VERIFIED, WRONG with tries left (None when the card did not say), or BLOCKED.
        Raises:
            KioskError: CARD_REMOVED (never counted as a wrong PIN), CARD_COMMUNICATION (also for a
                6Cxx answer: the VERIFY is never sent twice), CARD_APDU_LIMIT, READER_LOST.
        """
        ...

    def has_pin_pad(self) -> bool:
        """True when the reader of the card read takes the PIN on its own PIN pad (then `verify_pin_on_pad`)."""
        ...

    def verify_pin_on_pad(self, entered: Callable[[], None] | None = None) -> PinResult:
        """Let the guardian type the PIN on the reader's pad; the PIN never reaches the kiosk program.

        `entered` is called once the pad says the PIN was confirmed (the card checks it now).
        Returns:
            As `verify_pin`.
        Raises:
            KioskError: PIN_PAD_CANCELLED (the pad timed out or the guardian cancelled: no try spent),
                and what `verify_pin` raises.
        """
        ...

    def release(self) -> None:
        """Drop the connection to the card; safe to call at any time, any number of times."""
        ...


class EffectRunner(Protocol):
    """Where the session's blocking work (card and registry I/O) runs: thread workers in the app, at once in
    automation and tests.

    A job does the I/O and hands its answer back to the session as an event; it never raises. The
    session never holds its lock while it calls `run`, so a runner may run the job on the spot.
    """

    def run(self, job: Callable[[], None], name: str) -> None:
        """Run `job` (now, or on a thread of its own) and return.

        Args:
            job: the work, answer included; safe to call from any thread.
            name: what the work is ("read_card", "poll_ticket", ...), for logs and worker names.
        """
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


class OffsetClock:
    """The system clock plus an offset a tester sets (the tester panel's "jump the clock", simulated mode).

    Everything that reads the kiosk's clock moves with it: idle timeouts, QR code expiry, and
    "today" for a card's expiry date. The offset only grows or shrinks when `jump` says so.
    """

    def __init__(self, offset_seconds: float = 0.0) -> None:
        self._offset = timedelta(seconds=offset_seconds)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset

    @property
    def offset(self) -> timedelta:
        """How far this clock is ahead of the system clock (negative: behind)."""
        return self._offset

    def jump(self, seconds: float) -> None:
        """Move the clock `seconds` on (negative: back); `jump(-offset)` returns to the system time."""
        self._offset += timedelta(seconds=seconds)


class VirtualCardChoice(Protocol):
    """One virtual card a tester can insert."""

    name: str
    label: "object"  # kiosk.text.LocalText
    description: "object"  # kiosk.text.LocalText


class PhoneScan(Protocol):
    """What the tester's phone scan came to: the e-card it activated (the embedded registry's ActivationResult,
    or the registry service's PhoneAnswer)."""

    @property
    def ecard_id(self) -> int | None: ...


class SimulatedPinPad(Protocol):
    """The simulated reader's own PIN pad (devices.pinpad.VirtualPinPad), whose keys a tester presses.

    A real PIN pad reader takes the PIN on its own keys and the kiosk never sees it; only the simulated
    pad's keys may come from the kiosk's keyboard or the tester panel, and only while it waits.
    """

    @property
    def active(self) -> bool:
        """True while a verification waits for digits on the pad."""
        ...

    @property
    def typed(self) -> int:
        """How many digits the pad's own display shows now (0 when it is not waiting)."""
        ...

    def press(self, key: str) -> None:
        """One key on the pad: a digit, "ok", "clear" or "cancel"."""
        ...


class TesterBench(Protocol):
    """What a tester's panel can do with the simulated reader (implemented in devices/)."""

    @property
    def pin_pad(self) -> SimulatedPinPad | None:
        """The simulated reader's PIN pad (None: the reader has none)."""
        ...

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

    def state(self, name: str) -> VirtualCardState:
        """The virtual card of profile `name` as it is now."""
        ...

    def set_pin_tries(self, name: str, tries: int) -> int:
        """Set the card's PIN tries left (0 blocks it); returns the value set (capped at the maximum)."""
        ...

    def toggle_expiry(self, name: str, today: date) -> date | None:
        """Expire the card (yesterday) or renew an expired one; returns the new expiry date."""
        ...

    def set_pull_after(self, name: str, apdus: int | None) -> None:
        """The card leaves the reader at this APDU after power-on (None: never)."""
        ...

    def set_mute(self, name: str, mute: bool) -> None:
        """A mute card gives no answer to reset."""
        ...

    def reset(self, name: str) -> None:
        """Forget what happened to the card; one in the reader is put back in fresh."""
        ...

    def scan(self, presented: str) -> PhoneScan:
        """The guardian's phone scanning `presented` (the QR's URL or the code).

        Raises:
            KioskError: ACTIVATION_UNKNOWN, ACTIVATION_USED, ACTIVATION_EXPIRED (through the registry service
                also ACTIVATION_DENIED, ACTIVATION_SLOW_DOWN, SERVICE_UNREACHABLE).
        """
        ...


class VirtualCardState(Protocol):
    """One virtual card as a tester sees it (devices.simulated.VirtualCardState)."""

    name: str
    in_reader: bool
    pin_tries_left: int
    pin_max_tries: int
    expiry: date | None
    has_issuer_file: bool
    pull_after_apdus: int | None
    apdus_since_power_on: int
    mute: bool


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
