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

Where each part lives: rig.py (settings, cards, the timed read), apdus.py (the APDU log and its
words), card.py (a.-c. per card), floor.py (b.), profile.py (where the time goes), direct.py (the
protocol code without PC/SC), minimal.py (c.), recovery.py (d.); this file runs them in turn.
"""
from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from bench.common import CARDS, BenchError, load_root, progress
from bench.pcsc.apdus import ApduLog
from bench.pcsc.card import TARGET_RATIO, bench_card
from bench.pcsc.recovery import recovery
from bench.pcsc.rig import GAP_S, PSAM_PROFILE, fail

__all__ = ["run"]


class _WarningLog(logging.Handler):
    """Collects what is logged at WARNING and above while the benchmark runs, with the phase it ran in."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.phase = ""
        self.seen: list[dict] = []

    def enter(self, phase: str) -> None:
        """What runs from now on, for the warnings logged meanwhile."""
        self.phase = phase

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append({"phase": self.phase, "thread": record.threadName,
                          "message": f"{record.name}: {record.getMessage()}"})


WARNINGS = _WarningLog()


def run(repetitions: int, warmup: int = 3, profile_reps: int = 20, gap_s: float = GAP_S, recovery_runs: int = 5,
        recovery_hold_s: float = 3.0, recovery_hold_runs: int = 2, scratch: Path | None = None) -> dict:
    """Run benchmark 4 on a private pcscd (see the module's text and bench/README.md).

    Returns:
        The figures as JSON (bench/run.py prints them).
    Raises:
        BenchError: pcscd would not start, or a read or screen did not come out as it must.
    """
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
    WARNINGS.seen = []
    WARNINGS.enter("start")
    try:
        with private_pcscd(workdir, fail=fail, notify=lambda text: progress(f"bench: {text}")) as daemon:
            guardian_slot, psam_slot = CardSlot(daemon, 0), CardSlot(daemon, 1)
            try:
                psam = VirtualPsam.from_profile(profiles[PSAM_PROFILE])
                log.wrap(psam, 1)
                psam_slot.insert(psam)
                for demo in CARDS:
                    WARNINGS.enter(demo.profile)
                    progress(f"bench:   {demo.profile}: {warmup}+{repetitions} reads and floor passes, "
                             f"{profile_reps} profiled reads, APDU check...")
                    results["cards"][demo.profile] = bench_card(
                        root, daemon, guardian_slot, demo, profiles, master_key, log,
                        repetitions, warmup, profile_reps, gap_s, scratch)
                progress(f"bench:   recovery: pcscd killed and started again, {recovery_runs} times at once and "
                         f"{recovery_hold_runs} after a {recovery_hold_s:g} s outage...")
                results["recovery"] = asyncio.run(recovery(root, daemon, recovery_runs, 1, 0.0, scratch, WARNINGS.enter))
                if recovery_hold_runs:
                    results["recovery_after_outage"] = asyncio.run(
                        recovery(root, daemon, recovery_hold_runs, 0, recovery_hold_s, scratch, WARNINGS.enter))
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
