"""Provides ManagedByService: the maintenance console's registry on a kiosk whose registry is the registry service."""
from __future__ import annotations

# The console's registry pages (pending codes, purge, audit trail, counts, consistency) query the
# registry's database, which a service kiosk does not hold: each says REGISTRY_MANAGED_BY_SERVICE,
# the catalogue's word that those are the service operator's (ecard-registry). The technicians'
# own events (logins, actions) still go to the audit trail, through the service. The Database page
# shows what the kiosk can know of its registry: whether the service answers it, and the service's
# own probe of its database (schema, a write rolled back), never "not reachable" for a managed one.

from typing import TYPE_CHECKING, NoReturn

from kiosk.errors import KioskError

if TYPE_CHECKING:
    from kiosk.registry.port import RegistryHealth, RegistryPort

MANAGED = "REGISTRY_MANAGED_BY_SERVICE"


class ManagedByService:
    """Stands where the console expects the embedded registry; every query answers REGISTRY_MANAGED_BY_SERVICE."""

    def __init__(self, port: RegistryPort, base_url: str) -> None:
        self._port = port
        self._base_url = base_url

    @property
    def base_url(self) -> str:
        """The registry service this kiosk's registry is."""
        return self._base_url

    def health(self) -> RegistryHealth:
        """The service's probe of its registry, through this kiosk's credential (never raises: see RegistryPort.health)."""
        return self._port.health()

    def _managed(self) -> NoReturn:
        raise KioskError(MANAGED, f"the registry is the service at {self._base_url}")

    def audit(self, kind: str, detail: str) -> None:
        self._port.audit(kind, detail)

    def ping(self) -> None:
        self._managed()

    def storage(self) -> NoReturn:
        self._managed()

    def counts(self, since: object) -> NoReturn:
        self._managed()

    def consistency(self) -> NoReturn:
        self._managed()

    def pending_activations(self) -> NoReturn:
        self._managed()

    def cancel_pending(self, ecard_id: int, detail: str) -> NoReturn:
        self._managed()

    def purge_expired(self, grace_seconds: int = 0) -> NoReturn:
        self._managed()

    def audit_events(self, kinds: object = None, limit: int = 0) -> NoReturn:
        self._managed()

    def audit_kinds(self) -> NoReturn:
        self._managed()
