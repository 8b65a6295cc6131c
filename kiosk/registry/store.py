"""Provides Registry: the queries and writes the kiosk session needs, each one transaction, returning plain values."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Sequence

import sqlalchemy as sa

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import select

from kiosk.domain import CardStatus, ECardState
from kiosk.errors import KioskError
from kiosk.masking import mask_id, scrub
from kiosk.ports import Clock
from kiosk.registry import activation, schema, upkeep
from kiosk.registry.children import children_of
from kiosk.registry.database import DEFAULT_BUSY_TIMEOUT_MS, Database
from kiosk.registry.models import AuditEvent, ECard, Guardianship, Person, RegistrationRequest, SocialSecurityCard, Throttle
from kiosk.registry.port import ChildSummary, RegistryHealth
from kiosk.registry.probe import probe
from kiosk.registry.records import (
    AuditRecord,
    ChildECard,
    ConsistencyFinding,
    PendingActivation,
    PendingRegistration,
    PersonRecord,
    RegistrationRefused,
    RegistryCounts,
    StorageInfo,
)
from kiosk.registry.schema import SchemaStatus
from kiosk.resident_id import ResidentId
from kiosk.tickets import ActivationResult, ActivationTicket, TicketState

_LIVE = (ECardState.PENDING, ECardState.ACTIVE)
PURGE_BATCH = 500
"""Expired tickets deleted per transaction: some 10-20 ms of SQLite's write lock."""
PURGE_MIN_PAUSE_S = 0.01
IDEMPOTENCY_DAYS = 7
"""How long a kiosk's idempotency key is remembered (a retry comes within seconds; a week is generous)."""


class _LiveECardRace(Exception):
    """Another kiosk registered the same child between our look and our write."""


def _rid(resident_id: str | ResidentId) -> str:
    return str(resident_id).strip().upper()


class Registry:
    """The kiosk's registry of people, cards, guardianships, e-cards and activation tickets.

    Every method is one transaction and blocks (database I/O): call it from a worker thread.
    Every database failure (unreachable server, missing or read-only file, lock timeout, ...)
    raises `KioskError("DATABASE_UNAVAILABLE")`, after rolling back: nothing is half-written.
    Times come from the clock and are stored as UTC.
    """

    def __init__(self, database: Database, clock: Clock, kiosk_id: str = "") -> None:
        self._database = database
        self._clock = clock
        self._kiosk_id = kiosk_id

    @classmethod
    def open(
        cls, url: str, clock: Clock, kiosk_id: str = "", busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    ) -> Registry:
        """Open the registry at a database URL ("sqlite:///path/registry.sqlite3", "sqlite://" in memory,
        "postgresql+psycopg://user:password@host/db").

        Args:
            kiosk_id: written into the audit events this registry writes.
            busy_timeout_ms: how long SQLite waits for another writer before giving up.
        Raises:
            KioskError: DATABASE_UNAVAILABLE when a SQLite file or its folder cannot be made.
        """
        return cls(Database.open(url, busy_timeout_ms), clock, kiosk_id)

    def for_kiosk(self, kiosk_id: str) -> Registry:
        """The same registry (same database and connections) writing as another kiosk: the service's view
        for the kiosk a credential names."""
        return Registry(self._database, self._clock, kiosk_id)

    @property
    def kiosk_id(self) -> str:
        """The kiosk this registry writes as (audit events, registrations, tickets)."""
        return self._kiosk_id

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def database(self) -> Database:
        """The engine and transactions underneath (for the registry's own modules and tests)."""
        return self._database

    def close(self) -> None:
        """Let go of every connection."""
        self._database.dispose()

    def upgrade_schema(self) -> SchemaStatus:
        """Bring the schema to this release's head with the Alembic migrations (an empty database gets
        every table; one the last release made is upgraded with its data; one at head is left alone).

        Raises:
            SchemaNotCurrent: the schema is ahead of this release, or not a registry; nothing changed.
            KioskError: DATABASE_UNAVAILABLE.
        """
        return schema.upgrade(self._database)

    def schema_status(self) -> SchemaStatus:
        """Where the schema stands: current, behind (with the command that upgrades it), ahead or unknown.

        Raises:
            KioskError: DATABASE_UNAVAILABLE.
        """
        return schema.schema_status(self._database)

    def create_all(self) -> None:
        """The last release's way to make the tables; the migrations do it now (`upgrade_schema`)."""
        self.upgrade_schema()

    def health(self) -> RegistryHealth:
        """Probe what a visit needs: the schema's revision read and current, a write taken (and rolled back)."""
        return probe(self._database)

    def ping(self) -> None:
        """The health probe, for those who want it to raise (the service monitor).

        Raises:
            KioskError: DATABASE_UNAVAILABLE when the registry cannot serve a visit; the detail says why.
        """
        report = self.health()
        if not report.ok:
            raise KioskError("DATABASE_UNAVAILABLE", report.detail)

    def is_empty(self) -> bool:
        """Whether the registry knows nobody yet."""
        with self._database.transaction("is_empty") as session:
            return session.exec(select(Person.id).limit(1)).first() is None

    # ------------------------------------------------------------------ lookups
    def card_status(self, card_number: str) -> CardStatus:
        """The card's status; UNKNOWN when the registry has no such card."""
        with self._database.transaction("card_status") as session:
            status = session.exec(
                select(SocialSecurityCard.status).where(SocialSecurityCard.card_number == card_number.strip().upper())
            ).first()
        return CardStatus(status) if status is not None else CardStatus.UNKNOWN

    def find_person(self, resident_id: str | ResidentId) -> PersonRecord | None:
        """The person with this ID number, or None."""
        with self._database.transaction("find_person") as session:
            person = session.exec(select(Person).where(Person.resident_id == _rid(resident_id))).first()
            if person is None:
                return None
            return PersonRecord(
                resident_id=person.resident_id,
                name=person.name,
                birth_date=person.birth_date,
                sex=person.sex,
                has_physical_card=person.has_physical_card,
            )

    def relationship(self, guardian_rid: str | ResidentId, child_rid: str | ResidentId) -> str | None:
        """The guardian's relationship to the child on record ("father", "mother", "guardian"), or None."""
        guardian, child = aliased(Person), aliased(Person)
        with self._database.transaction("relationship") as session:
            return session.exec(
                select(Guardianship.relationship)
                .join(guardian, guardian.id == Guardianship.guardian_id)
                .join(child, child.id == Guardianship.child_id)
                .where(guardian.resident_id == _rid(guardian_rid), child.resident_id == _rid(child_rid))
            ).first()

    def child_ecard(self, child_rid: str | ResidentId) -> ChildECard | None:
        """The child's newest e-card that is not cancelled, with who applied for it; None if none."""
        child, applicant = aliased(Person), aliased(Person)
        with self._database.transaction("child_ecard") as session:
            row = session.exec(
                select(ECard.id, ECard.state, applicant.resident_id, ECard.created_at)
                .join(child, child.id == ECard.child_id)
                .join(applicant, applicant.id == ECard.applicant_id)
                .where(child.resident_id == _rid(child_rid), ECard.state != ECardState.CANCELLED)
                .order_by(ECard.created_at.desc(), ECard.id.desc())
            ).first()
        if row is None:
            return None
        ecard_id, state, applicant_rid, created_at = row
        return ChildECard(ecard_id, ECardState(state), applicant_rid, created_at)

    def guardian_children_with_ecards(
        self, guardian_rid: str | ResidentId, excluding_child_rid: str | ResidentId | None = None
    ) -> int:
        """How many of the guardian's children have an active or pending e-card, leaving one child out."""
        guardian, child = aliased(Person), aliased(Person)
        query = (
            select(func.count(func.distinct(ECard.child_id)))
            .join(Guardianship, Guardianship.child_id == ECard.child_id)
            .join(guardian, guardian.id == Guardianship.guardian_id)
            .join(child, child.id == ECard.child_id)
            .where(guardian.resident_id == _rid(guardian_rid), ECard.state.in_(_LIVE))
        )
        if excluding_child_rid is not None:
            query = query.where(child.resident_id != _rid(excluding_child_rid))
        with self._database.transaction("guardian_children_with_ecards") as session:
            return int(session.exec(query).one())

    def guardian_children(self, guardian_rid: str | ResidentId) -> tuple[ChildSummary, ...]:
        """The guardian's children on record with their e-card's state, as the registry port gives them."""
        return children_of(self._database, _rid(guardian_rid))

    def pending_for_guardian(self, guardian_rid: str | ResidentId) -> list[PendingRegistration]:
        """The pending e-cards of the guardian's children (whichever guardian registered them), oldest first."""
        guardian, child, applicant = aliased(Person), aliased(Person), aliased(Person)
        with self._database.transaction("pending_for_guardian") as session:
            rows = session.exec(
                select(ECard.id, child.resident_id, child.name, ECard.created_at, applicant.resident_id)
                .join(Guardianship, Guardianship.child_id == ECard.child_id)
                .join(guardian, guardian.id == Guardianship.guardian_id)
                .join(child, child.id == ECard.child_id)
                .join(applicant, applicant.id == ECard.applicant_id)
                .where(guardian.resident_id == _rid(guardian_rid), ECard.state == ECardState.PENDING)
                .order_by(ECard.created_at, ECard.id)
            ).all()
        return [
            PendingRegistration(ecard_id, child_id, name, created_at, applicant_id == _rid(guardian_rid))
            for ecard_id, child_id, name, created_at, applicant_id in rows
        ]

    # ------------------------------------------------------------------ writes
    def register_ecard(self, guardian_rid: str | ResidentId, child_rid: str | ResidentId, kiosk_id: str) -> int:
        """Register a pending level-1 e-card for the child, applied for by the guardian.

        Idempotent: when the child already has a pending e-card (from any of their guardians,
        or a concurrent kiosk), its id is returned and nothing is written.

        Returns:
            The e-card id.
        Raises:
            RegistrationRefused: CHILD_UNKNOWN, NOT_GUARDIAN or CHILD_HAS_ECARD when the records
                say no at the moment of writing.
            KioskError: DATABASE_UNAVAILABLE.
        """
        try:
            return self._register_once(_rid(guardian_rid), _rid(child_rid), kiosk_id)
        except _LiveECardRace:
            return self._register_once(_rid(guardian_rid), _rid(child_rid), kiosk_id, race_lost=True)

    def _register_once(self, guardian_rid: str, child_rid: str, kiosk_id: str, race_lost: bool = False) -> int:
        now = self._clock.now()
        with self._database.transaction("register_ecard", writes=True) as session:
            child = session.exec(select(Person).where(Person.resident_id == child_rid)).first()
            if child is None:
                raise RegistrationRefused("CHILD_UNKNOWN", f"child {mask_id(child_rid)} is not in the registry")
            guardian = session.exec(select(Person).where(Person.resident_id == guardian_rid)).first()
            link = None
            if guardian is not None:
                link = session.exec(
                    select(Guardianship.id).where(
                        Guardianship.guardian_id == guardian.id, Guardianship.child_id == child.id
                    )
                ).first()
            if guardian is None or link is None:
                raise RegistrationRefused("NOT_GUARDIAN", f"no guardianship for child {mask_id(child_rid)}")
            live = session.exec(
                select(ECard).where(ECard.child_id == child.id, ECard.state.in_(_LIVE)).order_by(ECard.id.desc())
            ).first()
            if live is not None and live.state is ECardState.ACTIVE:
                raise RegistrationRefused("CHILD_HAS_ECARD", f"child {mask_id(child_rid)} has e-card {live.id}")
            if live is not None:
                assert live.id is not None
                return live.id
            assert child.id is not None and guardian.id is not None
            ecard = ECard(
                child_id=child.id, applicant_id=guardian.id, state=ECardState.PENDING, created_at=now, kiosk_id=kiosk_id
            )
            session.add(ecard)
            try:
                session.flush()
            except IntegrityError:
                if race_lost:
                    raise
                raise _LiveECardRace() from None
            assert ecard.id is not None
            session.add(
                AuditEvent(
                    at=now,
                    kind="ecard_registered",
                    detail=f"ecard={ecard.id} child={mask_id(child_rid)} guardian={mask_id(guardian_rid)}",
                    kiosk_id=kiosk_id,
                )
            )
            return ecard.id

    def audit(self, kind: str, detail: str, kiosk_id: str | None = None) -> None:
        """Record an audit event. `detail` should hold masked data only; ID numbers left in it are masked."""
        with self._database.transaction("audit", writes=True) as session:
            session.add(
                AuditEvent(
                    at=self._clock.now(),
                    kind=kind[:40],
                    detail=scrub(detail)[:500],
                    kiosk_id=self._kiosk_id if kiosk_id is None else kiosk_id,
                )
            )

    def recent_audit(self, limit: int = 50) -> list[AuditRecord]:
        """The newest audit events, newest first."""
        with self._database.transaction("recent_audit") as session:
            rows = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)).all()
            return [AuditRecord(row.at, row.kind, row.detail, row.kiosk_id) for row in rows]

    # ------------------------------------------------------------------ activation tickets
    def issue_ticket(self, ecard_id: int, url_base: str, ttl_seconds: int) -> ActivationTicket:
        """Issue an activation ticket for a pending e-card; its earlier unused tickets are revoked.

        The token and user code exist only in the returned value; the registry stores their SHA-256.

        Raises:
            RegistrationRefused: CHILD_HAS_ECARD when the e-card was activated meanwhile.
            LookupError: when there is no such e-card, or it was cancelled.
            KioskError: DATABASE_UNAVAILABLE.
        """
        with self._database.transaction("issue_ticket", writes=True) as session:
            return activation.issue(session, self._clock.now(), ecard_id, url_base, ttl_seconds, self._kiosk_id)

    def ticket_state(self, ticket_id: int) -> TicketState:
        """"pending", "activated", "expired" or "revoked" (replaced by a newer ticket).

        Raises:
            KioskError: ACTIVATION_UNKNOWN for a ticket that does not exist (or was purged);
                DATABASE_UNAVAILABLE.
        """
        with self._database.transaction("ticket_state") as session:
            return activation.state(session, self._clock.now(), ticket_id)

    def activate(self, token_or_url_or_code: str) -> ActivationResult:
        """What the guardian's app does: present the scanned URL, the bare token, or the typed user code.

        Marks the ticket used and the e-card ACTIVE in one transaction; a ticket works once.

        Raises:
            KioskError: ACTIVATION_UNKNOWN, ACTIVATION_USED, ACTIVATION_EXPIRED (also for a
                revoked ticket), DATABASE_UNAVAILABLE.
        """
        with self._database.transaction("activate", writes=True) as session:
            return activation.activate(session, self._clock.now(), token_or_url_or_code, self._kiosk_id)

    def purge_expired(self, grace_seconds: float = 0.0, batch_size: int = PURGE_BATCH) -> int:
        """Delete unused tickets that have run out (at least `grace_seconds` ago); returns how many.

        The work goes in batches of `batch_size`, each its own short transaction; on SQLite, whose
        writers take turns on the whole file, each batch is followed by a pause as long as it took
        (5 ms at least): another kiosk's writer, asking for the file every few milliseconds
        (database._begin_writing), gets it in the first pause.
        Idempotency keys older than IDEMPOTENCY_DAYS go too, and throttle rows untouched for a day.
        """
        cutoff = self._clock.now() - timedelta(seconds=grace_seconds)
        total = 0
        with self._database.one_connection("purge_expired", writes=True) as connection:
            while True:
                began = time.monotonic()
                with connection.begin():
                    deleted = activation.purge_batch(connection, cutoff, batch_size)
                total += deleted
                if deleted < batch_size:
                    break
                if self._database.dialect == "sqlite":
                    time.sleep(max(PURGE_MIN_PAUSE_S, time.monotonic() - began))
        with self._database.transaction("forget idempotency keys", writes=True) as session:
            session.exec(sa.delete(RegistrationRequest).where(  # type: ignore[call-overload]
                RegistrationRequest.created_at < self._clock.now() - timedelta(days=IDEMPOTENCY_DAYS)))
            # The phone's throttle rows (wrong codes per client, a ticket's poll pace) matter for minutes.
            session.exec(sa.delete(Throttle).where(  # type: ignore[call-overload]
                Throttle.window_start < self._clock.now() - timedelta(days=1)))
        return total

    # ------------------------------------------------------------------ maintenance console
    def counts(self, day_start: datetime) -> RegistryCounts:
        """Registrations since `day_start` (the kiosk's local midnight), e-cards by state, expired codes, last write."""
        with self._database.transaction("counts") as session:
            return upkeep.counts(session, self._clock.now(), day_start)

    def storage(self) -> StorageInfo:
        """The backend, the URL with its password hidden, and the database's size in bytes."""
        with self._database.transaction("storage") as session:
            return upkeep.storage(session, self._database.engine, self._database.url)

    def pending_activations(self, limit: int = 200) -> list[PendingActivation]:
        """Every pending e-card, whoever registered it at whichever kiosk, oldest first."""
        with self._database.transaction("pending_activations") as session:
            return upkeep.pending_activations(session, limit)

    def cancel_pending(self, ecard_id: int, reason: str = "") -> bool:
        """Cancel a pending e-card and revoke its unused codes (audited as `ecard_cancelled`).

        Returns:
            False when the e-card was not pending (activated or cancelled meanwhile, or unknown).
        """
        with self._database.transaction("cancel_pending", writes=True) as session:
            return upkeep.cancel_pending(session, self._clock.now(), ecard_id, self._kiosk_id, scrub(reason))

    def audit_events(self, kinds: Sequence[str] | None = None, limit: int = 200) -> list[AuditRecord]:
        """Audit events newest first, only those of `kinds` when given."""
        with self._database.transaction("audit_events") as session:
            return upkeep.audit_events(session, kinds, limit)

    def audit_kinds(self) -> list[str]:
        """The kinds of audit events recorded so far, in name order."""
        with self._database.transaction("audit_kinds") as session:
            return upkeep.audit_kinds(session)

    def consistency(self) -> list[ConsistencyFinding]:
        """Check the registry's consistency rules (`upkeep.CONSISTENCY_RULES`); one finding per rule."""
        with self._database.transaction("consistency") as session:
            return upkeep.consistency(session, self._clock.now())
