"""Benchmark 4: the card side on the real PC/SC stack (a private pcscd with the vpcd driver, virtual cards over vpcd).

a. The kiosk's holder read with PIN check (`ReaderCardService.read_card()` + `verify_pin(PIN)`, on the
   readers the composition root builds for reader = pcsc), every APDU logged in order per slot.
b. The floor: the very same APDUs (both slots, same order) replayed by a bare pyscard loop over
   connections opened once: what pcscd + vpcd + the virtual card cost without the kiosk.
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


class PcscCallProfile:
    """While active, times every smartcard.scard call made on the calling thread (devices.pcsc looks them up at call time).

    Calls are attributed to a slot: SCardConnect by the reader name, later calls by the card handle.
    The reader watcher's own thread is not counted (it waits in SCardGetStatusChange by design).
    """

    def __init__(self, slot_of_reader: dict[str, int]) -> None:
        self.slot_of_reader = slot_of_reader
        self.thread = threading.get_ident()
        self.handles: dict[int, int] = {}
        self.calls: dict[tuple[str, str], list[float]] = {}
        self._saved: dict[str, Callable] = {}

    def __enter__(self) -> PcscCallProfile:
        from smartcard import scard

        for name in _PCSC_CALLS:
            original = getattr(scard, name)
            self._saved[name] = original
            setattr(scard, name, self._timed(name, original))
        return self

    def __exit__(self, *exc: object) -> None:
        from smartcard import scard

        for name, original in self._saved.items():
            setattr(scard, name, original)

    def _timed(self, name: str, original: Callable) -> Callable:
        def call(*args: Any) -> Any:
            if threading.get_ident() != self.thread:
                return original(*args)
            start = time.perf_counter()
            result = original(*args)
            elapsed = time.perf_counter() - start
            where = "-"
            if name == "SCardConnect":
                slot = self.slot_of_reader.get(args[1])
                where = SLOT_NAMES.get(slot, "-")
                if slot is not None and isinstance(result, (tuple, list)) and result[0] == 0:
                    self.handles[result[1]] = slot
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
        return {"reads": reads, "total_ms_per_read": round(total_s * 1000 / reads, 3),
                "pcsc_calls_ms_per_read": round(spent * 1000 / reads, 3),
                "outside_pcsc_ms_per_read": round((total_s - spent) * 1000 / reads, 3), "calls": rows}


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


def _floor(daemon, sequence: list[Apdu], reps: int, warmup: int, log: ApduLog) -> dict:
    """Replay `sequence` with bare SCardTransmit calls on connections opened once; time each pass."""
    from smartcard import scard

    rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rv != scard.SCARD_S_SUCCESS:
        raise BenchError(f"pcsc floor: SCardEstablishContext: {scard.SCardGetErrorMessage(rv)}")
    handles: dict[int, tuple[int, int]] = {}
    try:
        for slot in sorted({apdu.slot for apdu in sequence}):
            share = scard.SCARD_SHARE_EXCLUSIVE if slot == 0 else scard.SCARD_SHARE_SHARED  # as the kiosk
            rv, handle, protocol = scard.SCardConnect(context, daemon.reader(slot), share,
                                                     scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
            if rv != scard.SCARD_S_SUCCESS:
                raise BenchError(f"pcsc floor: SCardConnect {daemon.reader(slot)}: {scard.SCardGetErrorMessage(rv)}")
            handles[slot] = (handle, protocol)
        steps = [(handles[apdu.slot][0], handles[apdu.slot][1], list(apdu.command)) for apdu in sequence]
        transmit = scard.SCardTransmit
        samples, failures = [], 0
        log.take()
        matches = True
        for index in range(warmup + reps):
            start = time.perf_counter()
            for handle, protocol, command in steps:
                rv, _response = transmit(handle, protocol, command)
                if rv:
                    failures += 1
            elapsed = time.perf_counter() - start
            replayed = log.take()
            if [a.response for a in replayed] != [a.response for a in sequence]:
                matches = False
            if index >= warmup:
                samples.append(elapsed)
        if failures:
            raise BenchError(f"pcsc floor: {failures} SCardTransmit calls failed")
        return {"pass": summary(samples), "responses_identical": matches}
    finally:
        for slot, (handle, _protocol) in handles.items():
            scard.SCardDisconnect(handle, scard.SCARD_RESET_CARD if slot == 0 else scard.SCARD_LEAVE_CARD)
        scard.SCardReleaseContext(context)


def _session_flow(root, daemon, scratch: Path, log: ApduLog) -> dict:
    """Drive the KioskSession over PC/SC (card already in): which APDUs each step sends."""
    from kiosk.session import Step

    kiosk = root.build_kiosk(_pcsc_settings(root, daemon, scratch))
    session = kiosk.session
    steps: dict[str, list[Apdu]] = {}
    try:
        root.start_reader(kiosk)  # the card is in: the session goes to READING
        if session.step is not Step.READING:
            raise BenchError(f"pcsc session: expected READING after start_reader, at {session.step.value}")
        log.take()
        session.read_card()
        steps["read_card"] = log.take()
        session.confirm_holder()
        session.check_pin_tries()  # what the app runs on entering the PIN step (screens/app.py)
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


def bench_card(root, daemon, slot, demo: DemoCard, profiles, master_key, psam, log: ApduLog,
               reps: int, warmup: int, profile_reps: int, scratch: Path) -> dict:
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
    try:
        samples, releases, sequences, counts = [], [], [], set()
        for index in range(warmup + reps):
            elapsed, guardian, result = _one_read(service)
            _check_read(guardian, result, demo)
            apdus = log.take()
            start = time.perf_counter()
            service.release()
            released = time.perf_counter() - start
            log.take()  # nothing is sent on release (the card is reset by the disconnect)
            if index < warmup:
                continue
            samples.append(elapsed)
            releases.append(released)
            sequences.append(apdus)
            counts.add(guardian.apdu_count)
            out["spec_version"] = guardian.issuer.spec_version
        sequence = sequences[-1]
        stable = all(_keyed(s) == _keyed(sequence) for s in sequences)
        out["kiosk"] = summary(samples)
        out["release"] = summary(releases)
        out["apdus"] = {
            "card": sum(1 for a in sequence if a.slot == 0),
            "card_read_card_apdu_count": sorted(counts)[0] if len(counts) == 1 else sorted(counts),
            "psam": sum(1 for a in sequence if a.slot == 1),
        }
        out["sequence_same_every_read"] = stable
        out["sequence"] = sequence_json(sequence)

        # Where the kiosk's time goes: every PC/SC call of a few more reads, timed (not in the figures above).
        slots = {daemon.reader(0): 0, daemon.reader(1): 1}
        with PcscCallProfile(slots) as profiler:
            total = 0.0
            for _ in range(profile_reps):
                elapsed, guardian, result = _one_read(service)
                total += elapsed
                service.release()
                log.take()
        out["pcsc_calls"] = profiler.report(profile_reps, total)
    finally:
        service.release()
        side.reader.close()

    floor = _floor(daemon, sequence, reps, warmup, log)
    out["floor"] = floor["pass"]
    out["floor_responses_identical"] = floor["responses_identical"]
    out["ratio_kiosk_over_floor"] = round(out["kiosk"]["median_ms"] / out["floor"]["median_ms"], 2)
    out["within_target"] = out["ratio_kiosk_over_floor"] <= TARGET_RATIO

    # c. the spec's minimal sequence, on a fresh card of the same profile, straight (no PC/SC).
    from devices.psam import VirtualPsam

    reference_card = VirtualCard.from_profile(profiles[demo.profile], master_key)
    reference_card._random_bytes = lambda n: FIXED_CHALLENGE[:n]
    minimal: list[Apdu] = []
    _ReferenceReader(reference_card, VirtualPsam.from_profile(profiles[PSAM_PROFILE]), minimal).run(
        out.get("spec_version") == "3.00", PIN)
    extra, missing = compare(sequence, minimal)
    out["minimal"] = {
        "card": sum(1 for a in minimal if a.slot == 0),
        "psam": sum(1 for a in minimal if a.slot == 1),
        "made_of": _explain_minimal([a for a in minimal if a.slot == 0]),
        "sequence": sequence_json(minimal),
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
async def _wait_screen(app, session, step, timeout: float = SCREEN_TIMEOUT_S) -> float:
    """Poll every 2 ms until `step`'s screen is the app's current, mounted screen; return the time then."""
    from screens.registry import SCREEN_FOR_STEP

    wanted = SCREEN_FOR_STEP[step]
    deadline = time.perf_counter() + timeout
    while True:
        screen = app.screen
        if session.step is step and isinstance(screen, wanted) and screen.is_mounted:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise BenchError(f"pcsc recovery: no {wanted.__name__} within {timeout} s "
                             f"(session at {session.step.value}, screen {type(screen).__name__})")
        await asyncio.sleep(POLL_S)


async def _recovery(root, daemon, runs: int, warmup: int, hold_s: float, scratch: Path) -> dict:
    from kiosk.session import Step

    kiosk = root.build_kiosk(_pcsc_settings(root, daemon, scratch))
    app = root.build_app(kiosk)
    session = kiosk.session
    samples: dict[str, list[float]] = {k: [] for k in ("kill_to_out_of_service", "start_to_listed",
                                                      "listed_to_welcome", "start_to_welcome")}
    daemon.ready_poll = 0.002  # see "pcscd back" within 2 ms
    try:
        async with app.run_test(size=SIZE):
            root.start_reader(kiosk)
            await _wait_screen(app, session, Step.WELCOME)
            for index in range(warmup + runs):
                killed = time.perf_counter()
                await asyncio.to_thread(daemon.kill)
                out_of_service = await _wait_screen(app, session, Step.OUT_OF_SERVICE)
                if hold_s:
                    await asyncio.sleep(hold_s)
                marks: dict[str, float] = {}

                def start() -> None:
                    marks["start"] = time.perf_counter()
                    daemon.start()
                    marks["listed"] = time.perf_counter()

                starting = asyncio.create_task(asyncio.to_thread(start))
                welcome = await _wait_screen(app, session, Step.WELCOME)
                await starting
                if index < warmup:
                    continue
                samples["kill_to_out_of_service"].append(out_of_service - killed)
                samples["start_to_listed"].append(marks["listed"] - marks["start"])
                samples["listed_to_welcome"].append(welcome - marks["listed"])
                samples["start_to_welcome"].append(welcome - marks["start"])
    finally:
        daemon.ready_poll = 0.02
        root.stop_reader(kiosk)
        kiosk.registry.close()
        daemon.start()
    return {"runs": runs, "warmup": warmup, "hold_s": hold_s, **{k: summary(v) for k, v in samples.items()}}


# ---------------------------------------------------------------------------------------- run
def run(repetitions: int, warmup: int = 3, profile_reps: int = 10, recovery_runs: int = 5,
        recovery_hold_s: float = 3.0, recovery_hold_runs: int = 2, scratch: Path | None = None) -> dict:
    from devices.profiles import load_profiles, psam_master_key
    from devices.psam import VirtualPsam
    from kiosk import CONFIG_DIR
    from tests.pcscd_daemon import MARKER, CardSlot, PcscdError, private_pcscd

    root = load_root()
    profiles = load_profiles(CONFIG_DIR / "cards")
    master_key = psam_master_key(profiles)
    workdir = Path(tempfile.mkdtemp(prefix=f"{MARKER}bench-", dir=scratch))  # MARKER: a crashed run's pcscd is found
    results: dict = {"repetitions": repetitions, "warmup": warmup, "target_ratio": TARGET_RATIO, "cards": {}}
    log = ApduLog()
    try:
        with private_pcscd(workdir, fail=_fail, notify=lambda text: progress(f"bench: {text}")) as daemon:
            guardian_slot, psam_slot = CardSlot(daemon, 0), CardSlot(daemon, 1)
            try:
                psam = VirtualPsam.from_profile(profiles[PSAM_PROFILE])
                log.wrap(psam, 1)
                psam_slot.insert(psam)
                for demo in CARDS:
                    progress(f"bench:   {demo.profile}: {warmup}+{repetitions} reads, floor, APDU check...")
                    results["cards"][demo.profile] = bench_card(
                        root, daemon, guardian_slot, demo, profiles, master_key, psam, log,
                        repetitions, warmup, profile_reps, scratch or Path(tempfile.gettempdir()))
                progress(f"bench:   recovery: pcscd killed and started again, {recovery_runs} + "
                         f"{recovery_hold_runs} after a {recovery_hold_s:g} s outage...")
                results["recovery"] = asyncio.run(
                    _recovery(root, daemon, recovery_runs, 1, 0.0, scratch or Path(tempfile.gettempdir())))
                if recovery_hold_runs:
                    results["recovery_after_outage"] = asyncio.run(
                        _recovery(root, daemon, recovery_hold_runs, 0, recovery_hold_s,
                                  scratch or Path(tempfile.gettempdir())))
            finally:
                guardian_slot.close()
                psam_slot.close()
            results["pcscd_starts"] = daemon.starts
    except PcscdError as error:
        raise BenchError(f"pcsc: {error}") from None
    return results
