"""Provides PcscCallProfile: where the kiosk's read time goes, every smartcard.scard call and the kiosk's layers above them timed."""
from __future__ import annotations

import statistics
import threading
import time
from typing import Any, Callable

from bench.pcsc.apdus import SLOT_NAMES

_PCSC_CALLS = ("SCardEstablishContext", "SCardReleaseContext", "SCardListReaders", "SCardGetStatusChange",
               "SCardConnect", "SCardReconnect", "SCardStatus", "SCardBeginTransaction", "SCardEndTransaction",
               "SCardTransmit", "SCardDisconnect")


# (module, class, method): the kiosk's layers between read_card and SCardTransmit. Private methods too:
# a profiler times the internals it explains, and is the one to change when they move.
_LAYERS = (
    ("devices.pcsc", "PcscReader", "connect"),
    ("devices.pcsc", "PcscConnection", "transmit"),
    ("devices.pcsc", "PcscConnection", "_begin"),
    ("devices.pcsc", "PcscConnection", "_end"),
    ("devices.pcsc", "PcscConnection", "close"),
    ("devices.apdu", "ApduChannel", "transmit"),
)


class PcscCallProfile:
    """While active, times every smartcard.scard call made on the calling thread (devices.pcsc looks them up at
    call time) and the kiosk's layers above them (`_LAYERS`, patched on their classes for the duration).

    Calls are attributed to a slot: SCardConnect by the reader name, later calls by the card handle.
    The reader watcher's own thread is not counted (it waits in SCardGetStatusChange by design); calls
    other threads make while a read is timed are counted apart.
    """

    def __init__(self, slot_of_reader: dict[str, int]) -> None:
        self.slot_of_reader = slot_of_reader
        self.thread = threading.get_ident()
        self.handles: dict[int, int] = {}
        self.calls: dict[tuple[str, str], list[float]] = {}
        self.other_threads: dict[tuple[str, str], int] = {}  # calls made on other threads while active
        self.active = False  # only calls inside the timed reads are counted
        self.layers: dict[str, list[float]] = {}
        self._saved: dict[str, Callable] = {}
        self._saved_layers: list[tuple[type, str, Callable]] = []

    def __enter__(self) -> PcscCallProfile:
        import importlib

        from smartcard import scard

        for name in _PCSC_CALLS:
            original = getattr(scard, name)
            self._saved[name] = original
            setattr(scard, name, self._timed(name, original))
        for module, cls_name, method in _LAYERS:
            cls = getattr(importlib.import_module(module), cls_name)
            original = cls.__dict__[method]
            self._saved_layers.append((cls, method, original))
            setattr(cls, method, self._layer(f"{cls_name}.{method}", original))
        return self

    def __exit__(self, *exc: object) -> None:
        from smartcard import scard

        for name, original in self._saved.items():
            setattr(scard, name, original)
        for cls, method, original in self._saved_layers:
            setattr(cls, method, original)

    def _layer(self, name: str, original: Callable) -> Callable:
        def call(*args: Any, **kwargs: Any) -> Any:
            if not self.active or threading.get_ident() != self.thread:
                return original(*args, **kwargs)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.layers.setdefault(name, []).append(time.perf_counter() - start)

        return call

    def _timed(self, name: str, original: Callable) -> Callable:
        def call(*args: Any) -> Any:
            if threading.get_ident() != self.thread:
                if self.active:
                    key = (threading.current_thread().name, name)
                    self.other_threads[key] = self.other_threads.get(key, 0) + 1
                return original(*args)
            start = time.perf_counter()
            result = original(*args)
            elapsed = time.perf_counter() - start
            if name == "SCardConnect" and isinstance(result, (tuple, list)) and result[0] == 0:
                slot = self.slot_of_reader.get(args[1])
                if slot is not None:
                    self.handles[result[1]] = slot
            if not self.active:
                return result
            where = "-"
            if name == "SCardConnect":
                where = SLOT_NAMES.get(self.slot_of_reader.get(args[1]), "-")
            elif name in ("SCardReconnect", "SCardStatus", "SCardBeginTransaction", "SCardEndTransaction",
                          "SCardTransmit", "SCardDisconnect") and args:
                where = SLOT_NAMES.get(self.handles.get(args[0]), "-")
            self.calls.setdefault((name, where), []).append(elapsed)
            return result

        return call

    def report(self, reads: int, total_s: float) -> dict:
        rows = []
        spent = 0.0
        for (name, where), times in sorted(self.calls.items(), key=lambda kv: -sum(kv[1])):
            spent += sum(times)
            rows.append({"call": name, "slot": where, "calls_per_read": round(len(times) / reads, 2),
                         "ms_per_read": round(sum(times) * 1000 / reads, 3),
                         "median_ms_per_call": round(statistics.median(times) * 1000, 3)})
        transmit = sum(sum(times) for (name, _w), times in self.calls.items() if name == "SCardTransmit")
        layer = {name: sum(times) for name, times in self.layers.items()}
        count = {name: len(times) for name, times in self.layers.items()}
        pcsc_transmit = layer.get("PcscConnection.transmit", 0.0)
        channel = layer.get("ApduChannel.transmit", 0.0)
        around = sum(layer.get(name, 0.0) for name in ("PcscReader.connect", "PcscConnection._begin",
                                                       "PcscConnection._end", "PcscConnection.close"))
        def per(seconds: float) -> float:
            return round(seconds * 1000 / reads, 3)

        python = {
            # Python in devices/pcsc/connection.py PcscConnection.transmit around SCardTransmit (locks, checks, list/bytes).
            "pcsc_transmit_glue_ms": per(pcsc_transmit - transmit),
            "pcsc_transmit_glue_us_per_apdu": round((pcsc_transmit - transmit) * 1e6 / max(1, count.get(
                "PcscConnection.transmit", 0)), 1),
            # Python in devices/pcsc/ PcscReader.connect, PcscConnection._begin/_end/close around their PC/SC calls.
            "pcsc_connect_transaction_glue_ms": per(around - (spent - transmit)),
            # devices/apdu.py ApduChannel.transmit around the connection (CommandApdu/ResponseApdu, 61xx/6Cxx).
            "apdu_channel_ms": per(channel - pcsc_transmit),
            # devices/sscard.py, service.py, psam.py, codec.py: commands, TLV parsing, decoding, checks.
            "card_protocol_ms": per(total_s - channel - around),
        }
        return {"reads": reads, "total_ms_per_read": round(total_s * 1000 / reads, 3),
                "transmit_ms_per_read": round(transmit * 1000 / reads, 3),
                "other_pcsc_calls_ms_per_read": round((spent - transmit) * 1000 / reads, 3),
                "other_pcsc_calls_per_read": round(sum(len(t) for (n, _w), t in self.calls.items()
                                                       if n != "SCardTransmit") / reads, 2),
                "outside_pcsc_ms_per_read": round((total_s - spent) * 1000 / reads, 3),
                "python_ms_per_read": python, "layer_calls_per_read": {k: round(v / reads, 2) for k, v in count.items()},
                "calls": rows,
                "other_threads_calls_per_read": {f"{thread}: {name}": round(n / reads, 2)
                                                 for (thread, name), n in sorted(self.other_threads.items())}}
