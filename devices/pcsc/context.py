"""Provides PcscContext: one PC/SC context, established on first use and renewed when pcscd restarted under it."""
from __future__ import annotations

import threading
from typing import Any, Callable

from devices.pcsc.status import SERVICE_GONE, SUCCESS, establish_context, pcsc_error, release_context, u32


class PcscContext:
    """One PC/SC context of a reader, for one kind of work (card handles, or status queries)."""

    def __init__(self, owner: str) -> None:
        """Args:
            owner: the reader's name, for the detail of a failure.
        """
        self._owner = owner
        self._lock = threading.Lock()
        self._context: int | None = None

    def call(self, action: Callable[[int], Any]) -> Any:
        """Run `action(context)`, whose result is a tuple starting with a PC/SC result or the result alone.

        A context left over from a pcscd that went away answers SCARD_E_NO_SERVICE for ever
        (SCardIsValidContext still says it is fine); it is replaced and the action runs once more.

        Returns:
            What `action` returned the last time it ran.
        Raises:
            KioskError: READER_UNAVAILABLE when no context can be established.
        """
        result: Any = None
        for _attempt in range(2):
            context = self._get()
            result = action(context)
            rv = result[0] if isinstance(result, (tuple, list)) else result
            if u32(rv) not in SERVICE_GONE:
                return result
            self.drop(context)
        return result

    def _get(self) -> int:
        with self._lock:
            if self._context is None:
                rv, context = establish_context()
                if rv != SUCCESS:
                    raise pcsc_error(rv, f"{self._owner}: SCardEstablishContext", in_session=False)
                self._context = context
            return self._context

    def drop(self, context: int | None = None) -> None:
        """Release the context (only `context`, when given and still current); the next call establishes a new one."""
        with self._lock:
            if self._context is None or (context is not None and context != self._context):
                return
            context, self._context = self._context, None
        release_context(context)
