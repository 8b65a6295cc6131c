"""Provides the phone side of activation: bound to the app user's identity, typed codes throttled, RFC 8628 poll answers."""
from __future__ import annotations

# RFC 8628 (the device flow) shapes the answers, as authlib's rfc8628 errors and django-oauth-toolkit's
# device tests do: the kiosk is the device that polls (authorization_pending, slow_down with an
# interval 5 s longer from then on, expired_token, access_denied), the guardian's app the user who
# confirms. The app is real-name, so a ticket works only for the guardian it was issued to: a photo
# of the kiosk's screen is worth nothing to anyone else, and each stranger who tries it brings the
# ticket closer to its lock (then the kiosk draws a fresh QR).
#
# Every counter lives in the database (throttle rows, the ticket's wrong_tries), so all service
# workers and replicas see the same. Refusals are answers, not exceptions: their counting commits.
#
# Lock order as in kiosk.registry.activation (e-card, then tickets); a wrong try updates only the
# ticket row and a throttle row, and an activation takes no throttle row, so the two never wait in a cycle.

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from kiosk.errors import KioskError
from kiosk.masking import mask_id, mask_name
from kiosk.registry import activation
from kiosk.registry.lookup import normal_rid
from kiosk.registry.models import AuditEvent, ECard, Person, Throttle, UtcDateTime
from kiosk.registry.models import ActivationTicket as TicketRow
from kiosk.registry.store import Registry
from kiosk.tickets import ActivationKey, activation_key

PhoneOutcome = Literal["activated", "access_denied", "expired_token", "slow_down", "invalid_code", "already_used"]
"""What the app is told when it presents a ticket:

- activated: the e-card is active now.
- access_denied: the app's user is not the guardian the ticket was issued to, or the ticket is locked.
- expired_token: the ticket ran out, was replaced by a newer QR, or its e-card was cancelled.
- slow_down: this client presented too many wrong codes in the window; `retry_after_seconds` says when to try again.
- invalid_code: no ticket has this code or token (a typo: counted against the client).
- already_used: the ticket was used (perhaps a second tap of the same guardian).
"""
PollError = Literal["authorization_pending", "slow_down", "expired_token", "access_denied"]
PreviewState = Literal["pending", "activated", "expired", "revoked", "locked"]
_CLIENT_KEY = "code:"
_POLL_KEY = "poll:"
_KEY_LENGTH = 120


@dataclass(frozen=True)
class PhoneLimits:
    """How patient the registry is with phones and kiosks."""

    wrong_codes_per_window: int = 5
    """Wrong codes (or wrong identities) one client may present per window before it is told slow_down."""
    window_seconds: int = 60
    wrong_tries_per_ticket: int = 3
    """Presentations by someone who is not the ticket's guardian before the ticket locks."""
    slow_down_step_seconds: float = 5.0
    """RFC 8628 section 3.5: a kiosk polling too fast waits this much longer from then on."""
    poll_tolerance: float = 0.8
    """A poll earlier than this share of the interval is too fast (network jitter makes the rest honest)."""

    def __post_init__(self) -> None:
        if self.wrong_codes_per_window < 1 or self.wrong_tries_per_ticket < 1 or self.window_seconds < 1:
            raise ValueError("phone limits must be positive")


@dataclass(frozen=True)
class PhoneAnswer:
    """The registry's answer to an app presenting a ticket."""

    outcome: PhoneOutcome
    ticket_id: int | None = None
    ecard_id: int | None = None
    child_masked_id: str | None = None
    """Activated: the child's ID number as the app shows it."""
    retry_after_seconds: int = 0
    """slow_down: when this client may present a code again."""
    tries_left: int | None = None
    """access_denied for a wrong identity: how many more the ticket takes before it locks (0: locked)."""

    @property
    def ok(self) -> bool:
        return self.outcome == "activated"


@dataclass(frozen=True)
class TicketPreview:
    """What the confirm page shows before the guardian confirms: nothing more than the kiosk screen showed."""

    ticket_id: int
    state: PreviewState
    child_masked_name: str
    kiosk_id: str
    """The kiosk the QR was shown at."""
    expires_at: datetime


@dataclass(frozen=True)
class PreviewAnswer:
    """A ticket looked up by its QR content or typed code: found, or why not."""

    outcome: Literal["found", "slow_down", "invalid_code"]
    preview: TicketPreview | None = None
    retry_after_seconds: int = 0


@dataclass(frozen=True)
class PollAnswer:
    """A kiosk's poll of its ticket, as RFC 8628's token endpoint answers a device."""

    ticket_id: int
    state: activation.TicketState
    """pending, activated, expired, or revoked (a locked ticket is revoked)."""
    error: PollError | None
    """None when activated; else what RFC 8628 says to the device."""
    interval_seconds: float
    """Wait at least this long before the next poll (raised by slow_down, for this ticket from then on)."""
    expires_at: datetime


def activate_as(
    session: Session, now: datetime, presented: str, phone_user_rid: str, client: str,
    limits: PhoneLimits = PhoneLimits(),
) -> PhoneAnswer:
    """The app presents a ticket (the QR's URL, its token, or the typed code) for its signed-in user.

    Args:
        phone_user_rid: the resident ID of the app's (real-name) user.
        client: who is presenting, for the wrong-code throttle (the app installation, or its address).
    """
    key = activation_key(presented)
    # A QR's token (256 bits) cannot be guessed: only typed codes and nonsense wait for the throttle,
    # so the common path (a scanned QR) does not pay its round trip.
    if key is None or key.kind == "user_code":
        wait = _client_wait(session, now, client, limits)
        if wait:
            return PhoneAnswer("slow_down", retry_after_seconds=wait)
    found_row = _find_with_guardian(session, key, now)
    if found_row is None:
        return _wrong_code(session, now, client, limits)
    row, guardian_rid = found_row
    found = _row_state(row, now)
    if found == "locked":
        return PhoneAnswer("access_denied", row.id, row.ecard_id, tries_left=0)
    if found == "activated":
        return PhoneAnswer("already_used", row.id, row.ecard_id)
    if found in ("expired", "revoked"):
        return PhoneAnswer("expired_token", row.id, row.ecard_id)
    if guardian_rid is None or normal_rid(phone_user_rid) != guardian_rid:
        return _wrong_identity(session, now, row, client, limits)
    try:
        result = activation.use(session, now, row, row.kiosk_id)
    except KioskError as exc:  # raced: another app (or a newer QR) got there first, nothing written
        outcome: PhoneOutcome = {"ACTIVATION_USED": "already_used", "ACTIVATION_EXPIRED": "expired_token"}.get(
            exc.code, "invalid_code")
        return PhoneAnswer(outcome, row.id, row.ecard_id)
    return PhoneAnswer("activated", result.ticket_id, result.ecard_id, mask_id(result.child_resident_id))


def preview(
    session: Session, now: datetime, presented: str, client: str, limits: PhoneLimits = PhoneLimits(),
) -> PreviewAnswer:
    """The ticket behind a QR's content or a typed code, for the confirm page (an unknown one counts as a wrong code)."""
    wait = _client_wait(session, now, client, limits)
    if wait:
        return PreviewAnswer("slow_down", retry_after_seconds=wait)
    row = _find(session, presented, now)
    if row is None:
        answer = _wrong_code(session, now, client, limits)
        return PreviewAnswer("slow_down" if answer.outcome == "slow_down" else "invalid_code",
                             retry_after_seconds=answer.retry_after_seconds)
    name = session.exec(
        select(Person.name).join(ECard, ECard.child_id == Person.id).where(ECard.id == row.ecard_id)
    ).one()
    assert row.id is not None
    return PreviewAnswer("found", TicketPreview(row.id, _row_state(row, now), mask_name(name), row.kiosk_id,
                                                row.expires_at))


def poll(
    session: Session | sa.Connection, now: datetime, ticket_id: int, interval_seconds: float,
    limits: PhoneLimits = PhoneLimits(), kiosk_id: str | None = None,
) -> PollAnswer:
    """A kiosk asks where its ticket stands; polling faster than the interval earns slow_down (RFC 8628 3.5).

    Args:
        kiosk_id: the asking kiosk; a ticket shown at another kiosk is answered as unknown (ticket numbers
            are sequential: no kiosk learns when another's guardians activate). None: any kiosk's.
    Raises:
        KioskError: ACTIVATION_UNKNOWN when there is no such ticket (or it was purged), or it is another kiosk's.
    """
    key = f"{_POLL_KEY}{ticket_id}"
    # Core: the ticket and its pace in one round trip, no ORM objects (PhoneDesk passes a Core connection:
    # no ORM Session to build, begin and commit around the poll's two statements).
    connection = session.connection() if isinstance(session, Session) else session
    row = connection.execute(_poll_look(), {"ticket": ticket_id, "key": key}).first()
    if row is None or (kiosk_id is not None and row.kiosk_id != kiosk_id):
        raise KioskError("ACTIVATION_UNKNOWN", f"ticket {ticket_id}")
    slow_downs = row.hits if row.hits is not None else 0
    interval = interval_seconds + slow_downs * limits.slow_down_step_seconds
    too_fast = row.window_start is not None and (now - row.window_start).total_seconds() < interval * limits.poll_tolerance
    found = _row_state(row, now)
    if too_fast and found == "pending":
        slow_downs += 1
        interval += limits.slow_down_step_seconds
    if found == "pending":
        # Only a pending ticket's pace matters (slow_down is answered to nothing else): the poll that finds the
        # ticket activated, expired or locked, as every registration's last one does, writes nothing.
        connection.execute(_pace_upsert(connection.dialect.name),
                           {"key": key, "window_start": now, "hits": slow_downs})
    state: activation.TicketState = "revoked" if found == "locked" else found
    error: PollError | None = {
        "pending": "slow_down" if too_fast else "authorization_pending", "activated": None,
        "expired": "expired_token", "revoked": "expired_token", "locked": "access_denied",
    }[found]  # type: ignore[assignment]
    return PollAnswer(ticket_id, state, error, interval, row.expires_at)


# ---------------------------------------------------------------------------------------------- the parts
@functools.lru_cache(maxsize=None)
def _poll_look() -> sa.Select:
    """The polled ticket with its pace row (if any), built once; values bound per call."""
    ticket = TicketRow.__table__  # type: ignore[attr-defined]
    pace = Throttle.__table__  # type: ignore[attr-defined]
    return (
        sa.select(ticket.c.kiosk_id, ticket.c.used_at, ticket.c.revoked, ticket.c.expires_at, ticket.c.locked_at,
                  pace.c.hits, pace.c.window_start)
        .select_from(ticket.outerjoin(pace, pace.c.key == sa.bindparam("key")))
        .where(ticket.c.id == sa.bindparam("ticket"))
    )


@functools.lru_cache(maxsize=None)
def _pace_upsert(dialect: str) -> sa.Insert:
    """INSERT .. ON CONFLICT of a poll's pace row, built once: the first poll of a ticket and the later ones alike,
    in one round trip."""
    table = Throttle.__table__  # type: ignore[attr-defined]
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_update(index_elements=["key"], set_={
        "window_start": insert.excluded.window_start, "hits": insert.excluded.hits})


def _find(session: Session, presented: str, now: datetime) -> TicketRow | None:
    key = activation_key(presented)
    if key is None:
        return None
    column = TicketRow.token_hash if key.kind == "token" else TicketRow.user_code_hash
    rows = session.exec(select(TicketRow).where(column == key.digest).order_by(TicketRow.id.desc())).all()  # type: ignore[union-attr]
    # User codes may repeat over time; the live ticket wins, else the newest says what happened.
    return next((r for r in rows if _row_state(r, now) == "pending"), rows[0] if rows else None)


def _row_state(row: TicketRow | sa.Row, now: datetime) -> PreviewState:
    if row.locked_at is not None:
        return "locked"
    if row.used_at is not None:
        return "activated"
    if row.revoked:
        return "revoked"
    return "expired" if row.expires_at <= now else "pending"


def _find_with_guardian(session: Session, key: ActivationKey | None, now: datetime) -> tuple[sa.Row, str | None] | None:
    """The ticket (as _find chooses it) and the resident ID of its guardian, in one query.

    The guardian is the one the ticket was issued to; a last release's ticket (none recorded): the e-card's applicant.
    """
    if key is None:
        return None
    rows = session.connection().execute(_guardian_look(key.kind), {"digest": key.digest}).all()
    if not rows:
        return None
    return next(((r, r.guardian_rid) for r in rows if _row_state(r, now) == "pending"), (rows[0], rows[0].guardian_rid))


@functools.lru_cache(maxsize=None)
def _guardian_look(kind: str) -> sa.Select:
    """_find_with_guardian's SELECT for a token or a user code, built once (Core rows, no ORM objects)."""
    ticket = TicketRow.__table__  # type: ignore[attr-defined]
    ecard = ECard.__table__  # type: ignore[attr-defined]
    person = Person.__table__  # type: ignore[attr-defined]
    column = ticket.c.token_hash if kind == "token" else ticket.c.user_code_hash
    guardian = sa.func.coalesce(ticket.c.guardian_id, ecard.c.applicant_id)
    return (
        sa.select(ticket.c.id, ticket.c.ecard_id, ticket.c.kiosk_id, ticket.c.used_at, ticket.c.revoked,
                  ticket.c.expires_at, ticket.c.locked_at, person.c.resident_id.label("guardian_rid"))
        .select_from(ticket.join(ecard, ecard.c.id == ticket.c.ecard_id).outerjoin(person, person.c.id == guardian))
        .where(column == sa.bindparam("digest")).order_by(ticket.c.id.desc())
    )


def _wrong_identity(session: Session, now: datetime, row: TicketRow | sa.Row, client: str, limits: PhoneLimits) -> PhoneAnswer:
    locks = TicketRow.wrong_tries + 1 >= limits.wrong_tries_per_ticket
    tries = session.execute(
        sa.update(TicketRow).where(TicketRow.id == row.id)  # type: ignore[arg-type]
        .values(wrong_tries=TicketRow.wrong_tries + 1,
                locked_at=sa.case((locks, sa.literal(now, UtcDateTime())), else_=None),
                revoked=sa.or_(TicketRow.revoked, locks))  # type: ignore[arg-type]
        .returning(TicketRow.wrong_tries)
    ).scalar_one()
    left = max(limits.wrong_tries_per_ticket - tries, 0)
    session.add(AuditEvent(at=now, kind="activation_refused",
                           detail=f"ticket={row.id} not the guardian; tries left {left}", kiosk_id=row.kiosk_id))
    _count_wrong(session, now, client, limits)
    return PhoneAnswer("access_denied", row.id, row.ecard_id, tries_left=left)


def _wrong_code(session: Session, now: datetime, client: str, limits: PhoneLimits) -> PhoneAnswer:
    hits = _count_wrong(session, now, client, limits)
    if hits >= limits.wrong_codes_per_window:
        return PhoneAnswer("invalid_code", retry_after_seconds=limits.window_seconds)
    return PhoneAnswer("invalid_code")


def _client_key(client: str) -> str:
    return f"{_CLIENT_KEY}{client}"[:_KEY_LENGTH]


def _client_wait(session: Session, now: datetime, client: str, limits: PhoneLimits) -> int:
    """Seconds this client must wait before presenting again (0: it may)."""
    row = session.exec(select(Throttle).where(Throttle.key == _client_key(client))).first()
    if row is None or row.hits < limits.wrong_codes_per_window:
        return 0
    left = (row.window_start + timedelta(seconds=limits.window_seconds) - now).total_seconds()
    return max(int(left + 0.999), 0)


def _count_wrong(session: Session, now: datetime, client: str, limits: PhoneLimits) -> int:
    """One more wrong code for the client in its window (a window that is over starts again); the count now."""
    # One statement: two wrong codes of one client at once both count, and neither fails on the key.
    table = Throttle.__table__  # type: ignore[attr-defined]
    over = table.c.window_start <= now - timedelta(seconds=limits.window_seconds)
    statement = _insert(session)(table).values(key=_client_key(client), window_start=now, hits=1)
    statement = statement.on_conflict_do_update(index_elements=["key"], set_={
        "hits": sa.case((over, 1), else_=table.c.hits + 1),
        "window_start": sa.case((over, sa.literal(now, UtcDateTime())), else_=table.c.window_start),
    }).returning(table.c.hits)
    return int(session.execute(statement).scalar_one())


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class PhoneDesk:
    """The phone side over a Registry, each call one transaction: what the phone routes and `kiosk.py activate --as` run."""

    def __init__(self, registry: Registry, limits: PhoneLimits = PhoneLimits()) -> None:
        self._registry = registry
        self._limits = limits

    @property
    def limits(self) -> PhoneLimits:
        return self._limits

    def activate(self, presented: str, phone_user_rid: str, client: str) -> PhoneAnswer:
        """See activate_as. Raises KioskError DATABASE_UNAVAILABLE when the registry cannot be used."""
        with self._registry.database.transaction("phone_activate", writes=True) as session:
            return activate_as(session, self._registry.clock.now(), presented, phone_user_rid, client, self._limits)

    def preview(self, presented: str, client: str) -> PreviewAnswer:
        """See preview (it writes: an unknown code counts against the client)."""
        with self._registry.database.transaction("phone_preview", writes=True) as session:
            return preview(session, self._registry.clock.now(), presented, client, self._limits)

    def poll(self, ticket_id: int, interval_seconds: float, kiosk_id: str | None = None) -> PollAnswer:
        """See poll."""
        # Autocommit on PostgreSQL: the read and the pace's upsert each their own transaction (2 round trips,
        # not 4 with BEGIN and COMMIT). Nothing is lost: the read took no lock, so two polls of one ticket at
        # once could always both read the old pace; the upsert is one atomic statement either way.
        with self._registry.database.one_statement("ticket_poll", writes=True) as connection:
            return poll(connection, self._registry.clock.now(), ticket_id, interval_seconds, self._limits, kiosk_id)
