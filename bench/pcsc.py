"""Benchmark 4: the card side on the real PC/SC stack (a private pcscd with the vpcd driver, virtual cards over vpcd).

a. The kiosk's holder read with PIN check (`ReaderCardService.read_card()` + `verify_pin(PIN)`, on the
   readers the composition root builds for reader = pcsc), every APDU logged in order per slot.
b. The floor: the very same APDUs (both slots, same order) replayed by a bare pyscard loop over
   connections opened before its clock starts: what pcscd + vpcd + the virtual card cost without the
   kiosk. Kiosk reads and floor passes alternate, each after the same quiet gap (`GAP_S`); a block of
   passes on connections opened once is timed too. Then a profile of where the kiosk's extra time goes.
c. The APDU economy: the kiosk's sequence next to the minimal one the spec's reads need
   (/work/shared/spec/social-security-card.md), sent by a small reference reader straight to a
   virtual card of the same profile; every extra APDU is named. The session's PIN step (the
   try-counter query) is checked with a session-driven read over PC/SC.
d. Recovery: the Textual app (run_test, reader = pcsc); pcscd is killed, the out-of-service screen
   comes, pcscd is started again, and the clock runs until the welcome screen is back.

The private pcscd comes from tests/pcscd_daemon.py, under the same lock file as the PC/SC tests
(a test run in progress is waited for, and waits for us). It is stopped at the end, whatever happens.
"""
from __future__ import annotations

import asyncio
import difflib
import logging
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NoReturn

from bench.common import CARDS, PIN, BenchError, DemoCard, load_root, progress, settings_in, summary

TARGET_RATIO = 1.25
SIZE = (120, 40)
POLL_S = 0.002
GAP_S = 0.05  # quiet time before every timed read or pass (see bench/README.md)
SCREEN_TIMEOUT_S = 20.0
FIXED_CHALLENGE = bytes.fromhex("0123456789ABCDEF")
PSAM_PROFILE = "psam-test"
SLOT_NAMES = {0: "card", 1: "PSAM"}

# Item sizes of EF05/EF06 as the spec's table gives them (bytes of the value; READ RECORD also returns
# the tag and length bytes, so Le = size + 2). The table lists item 04 as "12, cn": twelve digits,
# which packed BCD holds in 6 bytes, so 6 is used here.
SPEC_EF05_ITEMS = {0x01: 16, 0x02: 1, 0x03: 4, 0x04: 6, 0x05: 4, 0x06: 4, 0x07: 9}
SPEC_EF06_ITEMS = {0x08: 18, 0x09: 30, 0x0A: 1, 0x0B: 1, 0x0C: 3, 0x0D: 4}
SPEC_EF06_300_ITEMS = {0x08: 18, 0x09: 30, 0x4E: 20, 0x0A: 1, 0x0B: 1, 0x0C: 3, 0x0D: 4}
SSSE_AID = bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF")


def _fail(message: str) -> NoReturn:
    raise BenchError(f"pcsc: {message}")


class _WarningLog(logging.Handler):
    """Collects what is logged at WARNING and above while the benchmark runs, with the phase it ran in."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.phase = ""
        self.seen: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append({"phase": self.phase, "thread": record.threadName,
                          "message": f"{record.name}: {record.getMessage()}"})


WARNINGS = _WarningLog()


# ------------------------------------------------------------------------------------ APDU log
@dataclass(frozen=True)
class Apdu:
    slot: int  # 0: the guardian's card, 1: the PSAM
    command: bytes
    response: bytes


class ApduLog:
    """One ordered log of every APDU the virtual card and the PSAM answer (their `answer` is wrapped)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[Apdu] = []

    def wrap(self, responder, slot: int) -> None:
        answer = responder.answer

        def logged(command: bytes) -> bytes:
            response = answer(command)
            with self._lock:
                self._entries.append(Apdu(slot, bytes(command), bytes(response)))
            return response

        responder.answer = logged

    def take(self) -> list[Apdu]:
        """Returns:
            The APDUs logged since the last `take`, in order (the log is emptied).
        """
        with self._lock:
            entries, self._entries = self._entries, []
        return entries


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


def _shown_command(apdu: Apdu) -> str:
    """The command as printed: a VERIFY's PIN block is masked (APDUs with a PIN are never shown)."""
    command = apdu.command
    if apdu.slot == 0 and command[1:2] == b"\x20" and len(command) > 5:
        return _hex(command[:5]) + " " + " ".join("**" for _ in command[5:])
    return _hex(command)


def describe(apdu: Apdu, previous: Apdu | None) -> str:
    """What an APDU is, in words (from the spec's command table)."""
    c = apdu.command
    cla, ins, p1, p2 = c[0], c[1], c[2], c[3]
    body = c[4:]
    if apdu.slot == 1:
        if (cla, ins) == (0x80, 0x1A):
            return "PSAM 80 1A: initialise (key usage, card's diversification data)"
        if (cla, ins) == (0x80, 0xFA):
            return "PSAM 80 FA: compute the cryptogram for the challenge"
        return f"PSAM {cla:02X} {ins:02X}"
    resent = (previous is not None and previous.slot == 0 and previous.response[-2:-1] == b"\x6C"
              and previous.command[:4] == c[:4])
    suffix = f" (re-sent with Le={previous.response[-1]:02X} after 6C{previous.response[-1]:02X})" if resent else ""
    if ins == 0xA4 and p1 == 0x04:
        return "SELECT SSSE" + suffix
    if ins == 0xA4:
        return f"SELECT {body[1:3].hex().upper() if len(body) >= 3 else '?'}" + suffix
    if ins == 0xB2:
        return f"READ RECORD item {p1:02X}" + suffix
    if ins == 0xC0:
        sw = f" after {_hex(previous.response[-2:]).replace(' ', '')}" if previous is not None else ""
        return f"GET RESPONSE{sw}"
    if ins == 0x84:
        return "GET CHALLENGE" + suffix
    if ins == 0x82:
        return "EXTERNAL AUTHENTICATE" + suffix
    if ins == 0x20:
        return "VERIFY (PIN)" if len(body) > 1 else "VERIFY without data (asks the try counter)"
    return f"{cla:02X} {ins:02X} {p1:02X} {p2:02X}"


def mnemonic(apdu: Apdu, previous: Apdu | None) -> str:
    """A short name for an APDU, for the printed sequence."""
    c = apdu.command
    if apdu.slot == 1:
        return f"psam:{c[1]:02X}"
    sw = apdu.response[-2:]
    bounced = f"({sw.hex().upper()})" if sw[0] == 0x6C else ""
    ins = c[1]
    if ins == 0xA4:
        name = "SEL SSSE" if c[2] == 0x04 else f"SEL {c[5:7].hex().upper()}"
    elif ins == 0xB2:
        name = f"RD {c[2]:02X}"
    elif ins == 0xC0:
        name = "GR"
    elif ins == 0x84:
        name = "GET-CHAL"
    elif ins == 0x82:
        name = "EXT-AUTH"
    elif ins == 0x20:
        name = "VERIFY" if len(c) > 5 else "VERIFY(no data)"
    else:
        name = c[:4].hex().upper()
    return name + bounced


def sequence_text(apdus: list[Apdu]) -> str:
    return " ".join(mnemonic(a, apdus[i - 1] if i else None) for i, a in enumerate(apdus))


def sequence_json(apdus: list[Apdu]) -> list[dict]:
    out, previous = [], None
    for apdu in apdus:
        out.append({"slot": apdu.slot, "to": SLOT_NAMES[apdu.slot], "command": _shown_command(apdu),
                    "sw": apdu.response[-2:].hex().upper(), "response_bytes": len(apdu.response),
                    "what": describe(apdu, previous)})
        previous = apdu
    return out


# ------------------------------------------------------------------- c. the spec's minimal reads
class _ReferenceReader:
    """Sends the spec's commands straight to a virtual card (no PC/SC), following 61xx and 6Cxx as the spec says."""

    def __init__(self, card, psam, log: list[Apdu]) -> None:
        self.card, self.psam, self.log = card, psam, log

    def _raw(self, slot: int, command: bytes) -> bytes:
        response = (self.card if slot == 0 else self.psam).answer(command)
        self.log.append(Apdu(slot, command, response))
        return response

    def send(self, command: bytes, slot: int = 0) -> tuple[bytes, int]:
        response = self._raw(slot, command)
        if response[-2] == 0x6C:  # wrong Le: the same command again with Le = xx
            command = command[:-1] + response[-1:]
            response = self._raw(slot, command)
        data = response[:-2]
        while response[-2] == 0x61:  # more data: GET RESPONSE 00 C0 00 00 xx while 61xx
            response = self._raw(slot, bytes([0x00, 0xC0, 0x00, 0x00, response[-1]]))
            data += response[:-2]
        return data, (response[-2] << 8) | response[-1]

    def read(self, tag: int, size: int) -> bytes:
        data, _sw = self.send(bytes([0x00, 0xB2, tag, 0x00, (size + 2) & 0xFF]))
        return data

    def run(self, version_300: bool, pin: str) -> None:
        self.send(bytes([0x00, 0xA4, 0x04, 0x00, len(SSSE_AID)]) + SSSE_AID)
        self.send(bytes.fromhex("00A4020002EF05"))
        issuer = {tag: self.read(tag, size) for tag, size in SPEC_EF05_ITEMS.items()}
        if version_300:
            challenge, _sw = self.send(bytes.fromhex("0084000008"))
            card_id_code = issuer[0x01][2:]
            # Common PSAM pattern (the P1 P2 and data layout are the kiosk's model, devices/psam.py).
            self.send(bytes.fromhex("801A450108") + card_id_code[-8:], slot=1)
            cryptogram, _sw = self.send(bytes([0x80, 0xFA, 0x00, 0x00, 16]) + challenge + bytes(8), slot=1)
            self.send(bytes([0x00, 0x82, 0x00, 0x01, 8]) + cryptogram[:8])
        self.send(bytes.fromhex("00A4020002EF06"))
        for tag, size in (SPEC_EF06_300_ITEMS if version_300 else SPEC_EF06_ITEMS).items():
            self.read(tag, size)
        digits = pin + "F" * (len(pin) % 2)
        self.send(bytes([0x00, 0x20, 0x00, 0x00, len(digits) // 2]) + bytes.fromhex(digits))


def _keyed(apdus: list[Apdu]) -> list[tuple[int, bytes]]:
    return [(apdu.slot, apdu.command) for apdu in apdus]


def compare(kiosk: list[Apdu], minimal: list[Apdu]) -> tuple[list[dict], list[dict]]:
    """Returns:
        The kiosk's APDUs that the minimal sequence does not have, and the minimal ones the kiosk did not send.
    """
    extra, missing = [], []
    matcher = difflib.SequenceMatcher(a=_keyed(kiosk), b=_keyed(minimal), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            for i in range(i1, i2):
                extra.append({"index": i, "command": _shown_command(kiosk[i]),
                              "what": describe(kiosk[i], kiosk[i - 1] if i else None)})
        if tag in ("replace", "insert"):
            for j in range(j1, j2):
                missing.append({"index": j, "command": _shown_command(minimal[j]),
                                "what": describe(minimal[j], minimal[j - 1] if j else None)})
    return extra, missing


def _explain_minimal(minimal: list[Apdu]) -> dict:
    """How the minimal count is made up: the spec's commands and what the card's answers forced on top."""
    spec = sum(1 for a in minimal if a.command[1] != 0xC0)
    get_response = sum(1 for a in minimal if a.slot == 0 and a.command[1] == 0xC0)
    resend = sum(1 for i, a in enumerate(minimal)
                 if i and minimal[i - 1].response[-2] == 0x6C and minimal[i - 1].command[:4] == a.command[:4])
    return {"spec_commands": spec - resend, "get_response_forced_by_61xx": get_response,
            "resend_forced_by_6Cxx": resend}


# ------------------------------------------------------------------------ profile of PC/SC calls
_PCSC_CALLS = ("SCardEstablishContext", "SCardReleaseContext", "SCardListReaders", "SCardGetStatusChange",
               "SCardConnect", "SCardReconnect", "SCardStatus", "SCardBeginTransaction", "SCardEndTransaction",
               "SCardTransmit", "SCardDisconnect")


_LAYERS = (  # (module, class, method): the kiosk's layers between read_card and SCardTransmit
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
            # Python in devices/pcsc.py PcscConnection.transmit around SCardTransmit (locks, checks, list/bytes).
            "pcsc_transmit_glue_ms": per(pcsc_transmit - transmit),
            "pcsc_transmit_glue_us_per_apdu": round((pcsc_transmit - transmit) * 1e6 / max(1, count.get(
                "PcscConnection.transmit", 0)), 1),
            # Python in devices/pcsc.py connect/_begin/_end/close around their PC/SC calls.
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


# ---------------------------------------------------------------------------- a./b. per card
def _pcsc_settings(root, daemon, scratch: Path, **overrides):
    data_dir = Path(tempfile.mkdtemp(prefix="bench-pcsc-", dir=scratch)) / "data"
    values = {"reader": "pcsc", "reader_name": daemon.reader(0), "psam_reader": daemon.reader(1)}
    values.update(overrides)
    return settings_in(data_dir, **values)


def _one_read(service) -> tuple[float, Any, Any]:
    start = time.perf_counter()
    card = service.read_card()
    result = service.verify_pin(PIN)
    return time.perf_counter() - start, card, result


def _check_read(card, result, demo: DemoCard) -> None:
    from kiosk.domain import PinStatus

    if card.holder is None:
        raise BenchError(f"pcsc: {demo.profile}: read_card returned no holder (PSAM not used?)")
    if result.status is not PinStatus.VERIFIED:
        raise BenchError(f"pcsc: {demo.profile}: verify_pin({PIN}) gave {result}")


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


def _session_flow(root, daemon, scratch: Path, log: ApduLog) -> dict:
    """Drive the KioskSession over PC/SC (card already in): which APDUs each step sends."""
    from kiosk.session import InlineRunner, Step

    kiosk = root.build_kiosk(_pcsc_settings(root, daemon, scratch))
    session = kiosk.session
    runner = InlineRunner()
    runner.hold()
    session.use_runner(runner)  # the session's work runs here, step by step
    steps: dict[str, list[Apdu]] = {}
    try:
        root.start_reader(kiosk)  # the card is in: the session goes to READING
        if session.step is not Step.READING:
            raise BenchError(f"pcsc session: expected READING after start_reader, at {session.step.value}")
        log.take()
        runner.resume()  # the card read
        steps["read_card"] = log.take()
        session.confirm_holder()  # entering the PIN step asks the card its try counter
        steps["check_pin_tries"] = log.take()
        session.submit_pin(PIN)
        steps["submit_pin"] = log.take()
        if session.step is not Step.CHILD_ID:
            raise BenchError(f"pcsc session: after the PIN, at {session.step.value} (error {session.view.error})")
    finally:
        root.stop_reader(kiosk)
        kiosk.registry.close()
        log.take()
    return {name: sequence_json(apdus) for name, apdus in steps.items()}


def _protocol_python(profiles, master_key, demo: DemoCard, reps: int, gap_s: float) -> dict:
    """The kiosk's protocol code alone: the same read_card + verify_pin over a connection that hands each APDU
    straight to a virtual card (no PC/SC, no adapter), minus the time the card and PSAM take to answer."""
    from devices.psam import VirtualPsam, psam_key_holder_factory
    from devices.reader import CardConnection, CardReader
    from devices.service import ReaderCardService
    from devices.virtual_card import VirtualCard

    class Direct(CardConnection):
        def __init__(self, responder) -> None:
            self.responder = responder

        @property
        def atr(self) -> bytes:
            return self.responder.atr or b""

        def transmit(self, command: bytes) -> bytes:
            return self.responder.answer(command)

        def close(self) -> None:
            pass

    class DirectReader(CardReader):
        def __init__(self, responder) -> None:
            super().__init__("direct")
            self.responder = responder

        def card_present(self) -> bool:
            return True

        def connect(self) -> CardConnection:
            self.responder.power_on()
            return Direct(self.responder)

    card = VirtualCard.from_profile(profiles[demo.profile], master_key)
    card._random_bytes = lambda n: FIXED_CHALLENGE[:n]
    psam = VirtualPsam.from_profile(profiles[PSAM_PROFILE])
    answering = [0.0]
    for responder in (card, psam):
        answer = responder.answer

        def timed(command: bytes, answer=answer) -> bytes:
            start = time.perf_counter()
            try:
                return answer(command)
            finally:
                answering[0] += time.perf_counter() - start

        responder.answer = timed
    service = ReaderCardService(DirectReader(card), psam_key_holder_factory(DirectReader(psam)))
    samples = []
    for index in range(reps + 3):
        time.sleep(gap_s)
        answering[0] = 0.0
        elapsed, guardian, result = _one_read(service)
        _check_read(guardian, result, demo)
        service.release()
        if index >= 3:
            samples.append(elapsed - answering[0])
    return summary(samples)


def bench_card(root, daemon, slot, demo: DemoCard, profiles, master_key, log: ApduLog,
               reps: int, warmup: int, profile_reps: int, gap_s: float, scratch: Path) -> dict:
    from devices.psam import VirtualPsam
    from devices.service import ReaderCardService
    from devices.virtual_card import VirtualCard

    card = VirtualCard.from_profile(profiles[demo.profile], master_key)
    # A fixed challenge: the EXTERNAL AUTHENTICATE recorded from the kiosk stays right when the floor replays it.
    card._random_bytes = lambda n: FIXED_CHALLENGE[:n]
    log.wrap(card, 0)
    slot.insert(card)
    log.take()

    side = root.build_pcsc_side(_pcsc_settings(root, daemon, scratch))
    side.reader.start_monitoring()  # as start_reader does: the kiosk reads with its watcher running
    service = ReaderCardService(side.reader, side.key_holder_factory)
    out: dict = {"label": demo.label}
    samples: dict[str, list[float]] = {"kiosk": [], "release": [], "floor": [], "floor_open_once": []}
    sequences, counts, identical = [], set(), True
    try:
        # The APDUs the kiosk sends: recorded on a first read, replayed by the floor.
        _elapsed, guardian, result = _one_read(service)
        _check_read(guardian, result, demo)
        sequence = log.take()
        service.release()
        out["spec_version"] = guardian.issuer.spec_version
        floor = Floor(daemon, sequence)
        # a./b. kiosk read and floor pass alternate, each after the same quiet gap.
        for index in range(warmup + reps):
            time.sleep(gap_s)
            elapsed, guardian, result = _one_read(service)
            _check_read(guardian, result, demo)
            apdus = log.take()
            start = time.perf_counter()
            service.release()
            released = time.perf_counter() - start
            # The floor needs the card: the kiosk's reader lets go of the handle it keeps (card reset)...
            side.reader.close()
            log.take()
            floor.open()
            try:
                time.sleep(gap_s)
                floor_s = floor.one_pass()
            finally:
                floor.close()
                # ...and takes it again as a kiosk starting with the card in does: its watcher finds the
                # card and opens the handle early, before the timed read asks for it.
                side.reader.start_monitoring()
            replayed = log.take()
            identical = identical and [a.response for a in replayed] == [a.response for a in sequence]
            if index < warmup:
                continue
            samples["kiosk"].append(elapsed)
            samples["release"].append(released)
            samples["floor"].append(floor_s)
            sequences.append(apdus)
            counts.add(guardian.apdu_count)
        # b'. the floor as a block: connections opened once, then back-to-back passes (same gap).
        side.reader.close()
        floor.open()
        try:
            for index in range(warmup + reps):
                time.sleep(gap_s)
                floor_s = floor.one_pass()
                replayed = log.take()
                identical = identical and [a.response for a in replayed] == [a.response for a in sequence]
                if index >= warmup:
                    samples["floor_open_once"].append(floor_s)
        finally:
            floor.close()
            side.reader.start_monitoring()
        log.take()

        # Where the kiosk's time goes: every PC/SC call of a few more reads, timed (not in the figures above).
        with PcscCallProfile({daemon.reader(0): 0, daemon.reader(1): 1}) as profiler:
            total = 0.0
            for _ in range(profile_reps):
                time.sleep(gap_s)
                profiler.active = True
                elapsed, guardian, result = _one_read(service)
                profiler.active = False
                total += elapsed
                service.release()
        log.take()
        out["pcsc_calls"] = profiler.report(profile_reps, total)
    finally:
        service.release()
        side.reader.close()

    out["protocol_code_without_pcsc"] = _protocol_python(profiles, master_key, demo, profile_reps, gap_s)
    out["kiosk"] = summary(samples["kiosk"])
    out["release"] = summary(samples["release"])
    out["floor"] = summary(samples["floor"])
    out["floor_open_once"] = summary(samples["floor_open_once"])
    out["floor_responses_identical"] = identical
    out["ratio_kiosk_over_floor"] = round(out["kiosk"]["median_ms"] / out["floor"]["median_ms"], 2)
    out["ratio_median_of_pairs"] = round(statistics.median(
        k / f for k, f in zip(samples["kiosk"], samples["floor"], strict=True)), 2)
    out["ratio_kiosk_over_floor_open_once"] = round(
        out["kiosk"]["median_ms"] / out["floor_open_once"]["median_ms"], 2)
    out["within_target"] = out["ratio_kiosk_over_floor"] <= TARGET_RATIO
    out["apdus"] = {
        "card": sum(1 for a in sequence if a.slot == 0),
        "card_read_card_apdu_count": min(counts) if len(counts) == 1 else sorted(counts),
        "psam": sum(1 for a in sequence if a.slot == 1),
    }
    out["sequence_same_every_read"] = all(_keyed(s) == _keyed(sequence) for s in sequences)
    out["sequence"] = sequence_json(sequence)
    out["sequence_text"] = sequence_text(sequence)

    # c. the spec's minimal sequence, on a fresh card of the same profile, straight (no PC/SC).
    reference_card = VirtualCard.from_profile(profiles[demo.profile], master_key)
    reference_card._random_bytes = lambda n: FIXED_CHALLENGE[:n]
    minimal: list[Apdu] = []
    _ReferenceReader(reference_card, VirtualPsam.from_profile(profiles[PSAM_PROFILE]), minimal).run(
        out["spec_version"] == "3.00", PIN)
    extra, missing = compare(sequence, minimal)
    out["minimal"] = {
        "card": sum(1 for a in minimal if a.slot == 0),
        "psam": sum(1 for a in minimal if a.slot == 1),
        "made_of": _explain_minimal([a for a in minimal if a.slot == 0]),
        "sequence": sequence_json(minimal),
        "sequence_text": sequence_text(minimal),
        "same_as_kiosk": _keyed(minimal) == _keyed(sequence),
        "kiosk_extra": extra,
        "kiosk_missing": missing,
    }
    flow = _session_flow(root, daemon, scratch, log)
    out["session_flow"] = {
        "card_apdus": {name: sum(1 for a in apdus if a["slot"] == 0) for name, apdus in flow.items()},
        "psam_apdus": {name: sum(1 for a in apdus if a["slot"] == 1) for name, apdus in flow.items()},
        "check_pin_tries": flow["check_pin_tries"],
    }
    slot.remove()
    return out


# ----------------------------------------------------------------------------- d. recovery
async def _wait_screen(app, session, step, timeout: float = SCREEN_TIMEOUT_S, marks: dict | None = None) -> float:
    """Poll every 2 ms until `step`'s screen is the app's current, mounted screen; return the time then.

    `marks["session"]` gets the first time the session itself was seen at `step`.
    """
    from screens.registry import SCREEN_FOR_STEP

    wanted = SCREEN_FOR_STEP[step]
    deadline = time.perf_counter() + timeout
    while True:
        screen = app.screen
        now = time.perf_counter()
        if marks is not None and "session" not in marks and session.step is step:
            marks["session"] = now
        if session.step is step and isinstance(screen, wanted) and screen.is_mounted:
            return now
        if time.perf_counter() > deadline:
            raise BenchError(f"pcsc recovery: no {wanted.__name__} within {timeout} s "
                             f"(session at {session.step.value}, screen {type(screen).__name__})")
        await asyncio.sleep(POLL_S)


async def _recovery(root, daemon, runs: int, warmup: int, hold_s: float, scratch: Path) -> dict:
    from kiosk.session import Step

    kiosk = root.build_kiosk(_pcsc_settings(root, daemon, scratch))
    app = root.build_app(kiosk)
    session = kiosk.session
    samples: dict[str, list[float]] = {k: [] for k in (
        "kill_to_out_of_service", "start_to_listed", "listed_to_session_welcome", "session_to_welcome_screen",
        "listed_to_welcome", "start_to_welcome")}
    each: list[dict] = []
    daemon.ready_poll = 0.002  # see "pcscd back" within 2 ms
    try:
        async with app.run_test(size=SIZE):
            root.start_reader(kiosk)
            await _wait_screen(app, session, Step.WELCOME)
            for index in range(warmup + runs):
                WARNINGS.phase = f"recovery (outage {hold_s:g} s) run {index + 1 - warmup}: kill -> out of service"
                killed = time.perf_counter()
                await asyncio.to_thread(daemon.kill)
                out_of_service = await _wait_screen(app, session, Step.OUT_OF_SERVICE)
                WARNINGS.phase = f"recovery (outage {hold_s:g} s) run {index + 1 - warmup}: out of service -> welcome"
                if hold_s:
                    await asyncio.sleep(hold_s)
                marks: dict[str, float] = {}

                def start(marks: dict[str, float] = marks) -> None:
                    marks["start"] = time.perf_counter()
                    daemon.start()
                    marks["listed"] = time.perf_counter()

                starting = asyncio.create_task(asyncio.to_thread(start))
                welcome = await _wait_screen(app, session, Step.WELCOME, marks=marks)
                await starting
                if index < warmup:
                    continue
                samples["kill_to_out_of_service"].append(out_of_service - killed)
                samples["start_to_listed"].append(marks["listed"] - marks["start"])
                samples["listed_to_session_welcome"].append(marks["session"] - marks["listed"])
                samples["session_to_welcome_screen"].append(welcome - marks["session"])
                samples["listed_to_welcome"].append(welcome - marks["listed"])
                samples["start_to_welcome"].append(welcome - marks["start"])
                each.append({"kill_to_out_of_service_ms": round((out_of_service - killed) * 1000, 1),
                             "start_to_welcome_ms": round((welcome - marks["start"]) * 1000, 1)})
    finally:
        daemon.ready_poll = 0.02
        root.stop_reader(kiosk)
        kiosk.registry.close()
        daemon.start()
    return {"runs": runs, "warmup": warmup, "hold_s": hold_s, **{k: summary(v) for k, v in samples.items()},
            "each_run": each}


# ---------------------------------------------------------------------------------------- run
def run(repetitions: int, warmup: int = 3, profile_reps: int = 20, gap_s: float = GAP_S, recovery_runs: int = 5,
        recovery_hold_s: float = 3.0, recovery_hold_runs: int = 2, scratch: Path | None = None) -> dict:
    from devices.profiles import load_profiles, psam_master_key
    from devices.psam import VirtualPsam
    from kiosk import CONFIG_DIR
    from tests.pcscd_daemon import MARKER, CardSlot, PcscdError, private_pcscd

    if scratch is None:
        with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
            return run(repetitions, warmup, profile_reps, gap_s, recovery_runs, recovery_hold_s, recovery_hold_runs,
                       Path(tmp))
    root = load_root()
    profiles = load_profiles(CONFIG_DIR / "cards")
    master_key = psam_master_key(profiles)
    workdir = Path(tempfile.mkdtemp(prefix=f"{MARKER}bench-", dir=scratch))  # MARKER: a crashed run's pcscd is found
    results: dict = {"repetitions": repetitions, "warmup": warmup, "gap_ms": round(gap_s * 1000),
                     "profile_reads": profile_reps, "target_ratio": TARGET_RATIO, "cards": {}}
    log = ApduLog()
    logging.getLogger().addHandler(WARNINGS)
    WARNINGS.seen, WARNINGS.phase = [], "start"
    try:
        with private_pcscd(workdir, fail=_fail, notify=lambda text: progress(f"bench: {text}")) as daemon:
            guardian_slot, psam_slot = CardSlot(daemon, 0), CardSlot(daemon, 1)
            try:
                psam = VirtualPsam.from_profile(profiles[PSAM_PROFILE])
                log.wrap(psam, 1)
                psam_slot.insert(psam)
                for demo in CARDS:
                    WARNINGS.phase = demo.profile
                    progress(f"bench:   {demo.profile}: {warmup}+{repetitions} reads and floor passes, "
                             f"{profile_reps} profiled reads, APDU check...")
                    results["cards"][demo.profile] = bench_card(
                        root, daemon, guardian_slot, demo, profiles, master_key, log,
                        repetitions, warmup, profile_reps, gap_s, scratch)
                progress(f"bench:   recovery: pcscd killed and started again, {recovery_runs} times at once and "
                         f"{recovery_hold_runs} after a {recovery_hold_s:g} s outage...")
                results["recovery"] = asyncio.run(_recovery(root, daemon, recovery_runs, 1, 0.0, scratch))
                if recovery_hold_runs:
                    results["recovery_after_outage"] = asyncio.run(
                        _recovery(root, daemon, recovery_hold_runs, 0, recovery_hold_s, scratch))
            finally:
                guardian_slot.close()
                psam_slot.close()
            results["pcscd_starts"] = daemon.starts
    except PcscdError as error:
        raise BenchError(f"pcsc: {error}") from None
    finally:
        logging.getLogger().removeHandler(WARNINGS)
    results["warnings_logged"] = WARNINGS.seen
    return results
