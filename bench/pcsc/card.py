"""Provides bench_card: one demo card's figures over PC/SC (a. kiosk reads, b. the floor, where the time goes, c. the APDU economy)."""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import PIN, BenchError, DemoCard, summary
from bench.pcsc.apdus import Apdu, ApduLog, keyed, sequence_json, sequence_text
from bench.pcsc.direct import protocol_code_alone
from bench.pcsc.floor import Floor
from bench.pcsc.minimal import apdu_economy
from bench.pcsc.profile import PcscCallProfile
from bench.pcsc.rig import PSAM_PROFILE, check_read, fixed_challenge_card, one_read, pcsc_settings

TARGET_RATIO = 1.25  # kiosk read / floor pass, medians


@dataclass
class _Samples:
    """What the timed loops collect for one card."""

    kiosk: list[float] = field(default_factory=list)
    release: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    floor_open_once: list[float] = field(default_factory=list)
    sequences: list[list[Apdu]] = field(default_factory=list)
    apdu_counts: set[int] = field(default_factory=set)
    identical: bool = True  # the floor's answers were the kiosk's, every pass

    def replayed(self, answers: list[Apdu], recorded: list[Apdu]) -> None:
        self.identical = self.identical and [a.response for a in answers] == [a.response for a in recorded]


def bench_card(root: Any, daemon: Any, slot: Any, demo: DemoCard, profiles: dict, master_key: bytes | None,
               log: ApduLog, reps: int, warmup: int, profile_reps: int, gap_s: float, scratch: Path) -> dict:
    """Insert `demo`'s card into `slot` and measure it (see bench/README.md, benchmark 4 a.-c.).

    Returns:
        The card's JSON figures.
    """
    from devices.psam import VirtualPsam
    from devices.service import ReaderCardService

    card = fixed_challenge_card(profiles[demo.profile], master_key)
    log.wrap(card, 0)
    slot.insert(card)
    log.take()

    side = root.build_pcsc_side(pcsc_settings(daemon, scratch))
    side.reader.start_monitoring()  # as start_reader does: the kiosk reads with its watcher running
    service = ReaderCardService(side.reader, side.key_holder_factory)
    out: dict = {"label": demo.label}
    samples = _Samples()
    try:
        # The APDUs the kiosk sends: recorded on a first read, replayed by the floor.
        _elapsed, guardian, result = one_read(service)
        check_read(guardian, result, demo)
        sequence = log.take()
        service.release()
        out["spec_version"] = guardian.issuer.spec_version
        floor = Floor(daemon, sequence)
        _alternate(service, side.reader, floor, log, sequence, samples, demo, reps, warmup, gap_s)
        _floor_block(side.reader, floor, log, sequence, samples, reps, warmup, gap_s)
        out["pcsc_calls"] = _profiled(service, daemon, log, profile_reps, gap_s)
    finally:
        service.release()
        side.reader.close()

    out["protocol_code_without_pcsc"] = protocol_code_alone(profiles, master_key, demo, profile_reps, gap_s)
    out["kiosk"] = summary(samples.kiosk)
    out["release"] = summary(samples.release)
    out["floor"] = summary(samples.floor)
    out["floor_open_once"] = summary(samples.floor_open_once)
    out["floor_responses_identical"] = samples.identical
    out["ratio_kiosk_over_floor"] = round(out["kiosk"]["median_ms"] / out["floor"]["median_ms"], 2)
    out["ratio_median_of_pairs"] = round(statistics.median(
        k / f for k, f in zip(samples.kiosk, samples.floor, strict=True)), 2)
    out["ratio_kiosk_over_floor_open_once"] = round(
        out["kiosk"]["median_ms"] / out["floor_open_once"]["median_ms"], 2)
    out["within_target"] = out["ratio_kiosk_over_floor"] <= TARGET_RATIO
    counts = samples.apdu_counts
    out["apdus"] = {
        "card": sum(1 for a in sequence if a.slot == 0),
        "card_read_card_apdu_count": min(counts) if len(counts) == 1 else sorted(counts),
        "psam": sum(1 for a in sequence if a.slot == 1),
    }
    out["sequence_same_every_read"] = all(keyed(s) == keyed(sequence) for s in samples.sequences)
    out["sequence"] = sequence_json(sequence)
    out["sequence_text"] = sequence_text(sequence)

    # c. the spec's minimal sequence, on a fresh card of the same profile, straight (no PC/SC).
    out["minimal"] = apdu_economy(sequence, fixed_challenge_card(profiles[demo.profile], master_key),
                                  VirtualPsam.from_profile(profiles[PSAM_PROFILE]), out["spec_version"] == "3.00", PIN)
    flow = session_flow(root, daemon, scratch, log)
    out["session_flow"] = {
        "card_apdus": {name: sum(1 for a in apdus if a["slot"] == 0) for name, apdus in flow.items()},
        "psam_apdus": {name: sum(1 for a in apdus if a["slot"] == 1) for name, apdus in flow.items()},
        "check_pin_tries": flow["check_pin_tries"],
    }
    slot.remove()
    return out


def _alternate(service: Any, reader: Any, floor: Floor, log: ApduLog, sequence: list[Apdu], samples: _Samples,
               demo: DemoCard, reps: int, warmup: int, gap_s: float) -> None:
    """a./b.: kiosk read and floor pass alternate, each after the same quiet gap."""
    for index in range(warmup + reps):
        time.sleep(gap_s)
        elapsed, guardian, result = one_read(service)
        check_read(guardian, result, demo)
        apdus = log.take()
        start = time.perf_counter()
        service.release()
        released = time.perf_counter() - start
        # The floor needs the card: the kiosk's reader lets go of the handle it keeps (card reset)...
        reader.close()
        log.take()
        floor.open()
        try:
            time.sleep(gap_s)
            floor_s = floor.one_pass()
        finally:
            floor.close()
            # ...and takes it again as a kiosk starting with the card in does: its watcher finds the
            # card and opens the handle early, before the timed read asks for it.
            reader.start_monitoring()
        samples.replayed(log.take(), sequence)
        if index < warmup:
            continue
        samples.kiosk.append(elapsed)
        samples.release.append(released)
        samples.floor.append(floor_s)
        samples.sequences.append(apdus)
        samples.apdu_counts.add(guardian.apdu_count)


def _floor_block(reader: Any, floor: Floor, log: ApduLog, sequence: list[Apdu], samples: _Samples,
                 reps: int, warmup: int, gap_s: float) -> None:
    """b'.: the floor as a block: connections opened once, then back-to-back passes (same gap)."""
    reader.close()
    floor.open()
    try:
        for index in range(warmup + reps):
            time.sleep(gap_s)
            floor_s = floor.one_pass()
            samples.replayed(log.take(), sequence)
            if index >= warmup:
                samples.floor_open_once.append(floor_s)
    finally:
        floor.close()
        reader.start_monitoring()
    log.take()


def _profiled(service: Any, daemon: Any, log: ApduLog, reads: int, gap_s: float) -> dict:
    """Where the kiosk's time goes: every PC/SC call of a few more reads, timed (not in the figures above)."""
    with PcscCallProfile({daemon.reader(0): 0, daemon.reader(1): 1}) as profiler:
        total = 0.0
        for _ in range(reads):
            time.sleep(gap_s)
            profiler.active = True
            elapsed, _guardian, _result = one_read(service)
            profiler.active = False
            total += elapsed
            service.release()
    log.take()
    return profiler.report(reads, total)


def session_flow(root: Any, daemon: Any, scratch: Path, log: ApduLog) -> dict:
    """Drive the KioskSession over PC/SC (card already in): which APDUs each step sends.

    Returns:
        The APDUs (as JSON) of read_card, check_pin_tries and submit_pin.
    """
    from kiosk.session import InlineRunner, Step

    kiosk = root.build_kiosk(pcsc_settings(daemon, scratch))
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
