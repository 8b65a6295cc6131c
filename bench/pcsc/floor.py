"""Provides Floor: the kiosk's recorded APDUs replayed by a bare pyscard loop, what pcscd + vpcd + the virtual card cost without the kiosk."""
from __future__ import annotations

import time

from bench.common import BenchError
from bench.pcsc.apdus import Apdu


class Floor:
    """The same APDUs sent by a bare pyscard loop: SCardTransmit after SCardTransmit on open connections.

    Share modes as the kiosk's (the card exclusive, the PSAM shared), no transactions, no status calls.
    """

    def __init__(self, daemon, sequence: list[Apdu]) -> None:
        from smartcard import scard

        self.scard = scard
        self.daemon = daemon
        self.sequence = sequence
        self.context: int | None = None
        self.handles: dict[int, tuple[int, int]] = {}
        self.steps: list[tuple[int, int, list[int]]] = []

    def open(self) -> None:
        scard = self.scard
        rv, self.context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if rv != scard.SCARD_S_SUCCESS:
            raise BenchError(f"pcsc floor: SCardEstablishContext: {scard.SCardGetErrorMessage(rv)}")
        for slot in sorted({apdu.slot for apdu in self.sequence}):
            share = scard.SCARD_SHARE_EXCLUSIVE if slot == 0 else scard.SCARD_SHARE_SHARED
            rv, handle, protocol = scard.SCardConnect(self.context, self.daemon.reader(slot), share,
                                                     scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
            if rv != scard.SCARD_S_SUCCESS:
                self.close()
                raise BenchError(f"pcsc floor: SCardConnect {self.daemon.reader(slot)}: {scard.SCardGetErrorMessage(rv)}")
            self.handles[slot] = (handle, protocol)
        self.steps = [(*self.handles[apdu.slot], list(apdu.command)) for apdu in self.sequence]

    def one_pass(self) -> float:
        transmit = self.scard.SCardTransmit
        failures = 0
        start = time.perf_counter()
        for handle, protocol, command in self.steps:
            rv, _response = transmit(handle, protocol, command)
            failures += rv != 0
        elapsed = time.perf_counter() - start
        if failures:
            raise BenchError(f"pcsc floor: {failures} SCardTransmit calls failed")
        return elapsed

    def close(self) -> None:
        scard = self.scard
        for slot, (handle, _protocol) in self.handles.items():
            # The card is reset as the kiosk's release resets it; the PSAM is left as it is.
            scard.SCardDisconnect(handle, scard.SCARD_RESET_CARD if slot == 0 else scard.SCARD_LEAVE_CARD)
        self.handles = {}
        if self.context is not None:
            scard.SCardReleaseContext(self.context)
            self.context = None
