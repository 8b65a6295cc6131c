"""Provides the service's state built once per process: the database pool, the rules, the ticket policy, the credentials, the fleet."""
from __future__ import annotations

# Built at start-up, shared by every request: one engine and connection pool per process, the region's
# rules parsed once, the SQL statements compiled on first use and cached by SQLAlchemy. A request
# only makes a LocalRegistry (three attribute assignments) for the kiosk its credential names.

from dataclasses import dataclass

from kiosk.eligibility.region import Region, load_region
from kiosk.ports import Clock, SystemClock
from kiosk.registry import schema
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.database import Database
from kiosk.registry.local import LocalRegistry
from kiosk.registry.schema import SchemaNotCurrent
from kiosk.registry.store import Registry
from registry_service.credentials import Credentials
from registry_service.fleet import Fleet
from registry_service.operators import Operators
from registry_service.settings import ServiceSettings
from registry_service.technicians import Technicians

UPGRADE_COMMAND = "ecard-registry upgrade"
"""What brings the service's database to this release's schema (with the same --config and variables)."""


@dataclass
class Service:
    """Everything the routes share."""

    settings: ServiceSettings
    database: Database
    registry: Registry
    region: Region
    policy: TicketPolicy
    credentials: Credentials
    fleet: Fleet
    technicians: Technicians
    operators: Operators
    clock: Clock

    @classmethod
    def open(cls, settings: ServiceSettings, clock: Clock | None = None, *, check_schema: bool = True) -> Service:
        """Open the database and load the rules; refuse a database whose schema is not this release's.

        Raises:
            SchemaNotCurrent: the schema is behind (its advice names `ecard-registry upgrade`), ahead or unknown.
            KioskError: DATABASE_UNAVAILABLE.
            RegionFileError: the region file cannot be used.
        """
        clock = clock or SystemClock()
        database = open_database(settings)
        try:
            if check_schema:
                status = schema.schema_status(database)
                if not status.current:
                    raise SchemaNotCurrent(status, UPGRADE_COMMAND)
            region = load_region(settings.region_file)
        except BaseException:
            database.dispose()
            raise
        policy = TicketPolicy(settings.activation_url_base, settings.activation_ttl_seconds,
                              settings.activation_poll_seconds)
        return cls(settings, database, Registry(database, clock), region, policy,
                   Credentials(database, clock, settings.credential_cache_seconds),
                   Fleet(database, clock, settings.heartbeat_seconds), Technicians(database, clock),
                   Operators(database, clock, settings.console_lockout_tries, settings.console_session_seconds), clock)

    def for_kiosk(self, kiosk_id: str) -> LocalRegistry:
        """The registry port as the kiosk `kiosk_id` sees it: the embedded kiosk's very code."""
        return LocalRegistry(self.registry.for_kiosk(kiosk_id), self.region, self.policy)

    def close(self) -> None:
        self.database.dispose()


def open_database(settings: ServiceSettings) -> Database:
    """The service's one engine: a pool of `pool_size` connections (PostgreSQL) per process.

    No pre-ping: a connection that died is answered with 503 once and replaced by the pool, which
    saves a round trip on every request.
    """
    return Database.open(settings.resolved_database_url, pool_size=settings.pool_size, pre_ping=False)
