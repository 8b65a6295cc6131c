"""Benchmark 1: the guardian's journey driven on the KioskSession directly, card insert to QR ticket, no UI."""
from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from pathlib import Path
from typing import Iterator

from bench.common import CARDS, PIN, BenchError, DemoCard, load_root, settings_in, summary


@contextlib.contextmanager
def _instrumented_build(root) -> Iterator[dict]:
    """While active, build_kiosk times open_registry_lazily and keeps the card service it makes.

    open_registry_lazily is looked up in the bench's own copy of kiosk.py; ReaderCardService is imported
    by build_kiosk from devices.service at call time, so a recording subclass is put there for the
    duration of the build only.
    """
    import devices.service as service_module

    record: dict = {"db_seconds": None, "service": None}
    original_open = root.open_registry_lazily  # what build_kiosk calls
    original_service = service_module.ReaderCardService

    def timed_open(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original_open(*args, **kwargs)
        finally:
            record["db_seconds"] = time.perf_counter() - start

    class RecordingService(original_service):
        """Keeps the last GuardianCard it read, for its APDU count."""

        last_card = None

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            record["service"] = self

        def read_card(self):
            card = super().read_card()
            self.last_card = card
            return card

    root.open_registry_lazily = timed_open
    service_module.ReaderCardService = RecordingService
    try:
        yield record
    finally:
        root.open_registry_lazily = original_open
        service_module.ReaderCardService = original_service


def _count_card_apdus(virtual_card) -> list[int]:
    """Count every APDU the virtual card answers (read and PIN), by wrapping its `answer`."""
    counter = [0]
    answer = virtual_card.answer

    def counting(command: bytes) -> bytes:
        counter[0] += 1
        return answer(command)

    virtual_card.answer = counting
    return counter


def _expect(session, step, what: str) -> None:
    if session.step is not step:
        view = session.view
        raise BenchError(f"{what}: expected step {step.value}, session at {view.step.value} "
                         f"(error {view.error}, notice {view.notice})")


def one_journey(root, card: DemoCard, data_dir: Path) -> dict:
    """Build a kiosk on a fresh data dir (timed apart), then time insert -> ACTIVATION with a ticket."""
    from kiosk.session import InlineRunner, Step

    settings = settings_in(data_dir)
    build_start = time.perf_counter()
    with _instrumented_build(root) as record:
        kiosk = root.build_kiosk(settings)
    build_seconds = time.perf_counter() - build_start
    session = kiosk.session
    runner = InlineRunner()
    session.use_runner(runner)  # the session's work runs here, at once, as in the automation interface
    try:
        card_apdus = _count_card_apdus(kiosk.bench.card(card.profile))  # built before the clock starts
        marks = []
        start = time.perf_counter()
        runner.hold()
        kiosk.bench.insert(card.profile)  # the reader's event moves the session to READING
        _expect(session, Step.READING, "insert")
        runner.resume()  # the card read
        marks.append(("read_card", time.perf_counter()))
        _expect(session, Step.HOLDER, "read_card")
        session.confirm_holder()
        session.submit_pin(PIN)
        marks.append(("confirm_holder+submit_pin", time.perf_counter()))
        _expect(session, Step.CHILD_ID, "submit_pin")
        session.submit_child_id(card.child_id)
        marks.append(("submit_child_id", time.perf_counter()))
        _expect(session, Step.CHILD_CONFIRM, "submit_child_id")
        session.confirm_child()
        _expect(session, Step.ELIGIBLE, "confirm_child")
        session.consent()
        ticket = session.view.ticket
        elapsed = time.perf_counter() - start
        marks.append(("confirm_child+consent", start + elapsed))
        _expect(session, Step.ACTIVATION, "consent")
        if ticket is None:
            raise BenchError("consent: ACTIVATION without a ticket")
        service = record["service"]
        read = getattr(service, "last_card", None)
        steps, previous = {}, start
        for name, at in marks:
            steps[name], previous = at - previous, at
        return {
            "journey_s": elapsed,
            "steps_s": steps,
            "build_s": build_seconds,
            "db_s": record["db_seconds"],
            "apdus_per_read": read.apdu_count if read is not None else None,
            "apdus_journey": card_apdus[0],
            "spec_version": read.issuer.spec_version if read is not None else None,
        }
    finally:
        kiosk.bench.remove()
        kiosk.registry.close()


def run(repetitions: int, warmup: int = 1, scratch: Path | None = None) -> dict:
    """Each card: `warmup` discarded journeys, then `repetitions` timed ones, each on its own data dir."""
    root = load_root()
    results: dict = {"repetitions": repetitions, "warmup": warmup, "cards": {}}
    builds, dbs = [], []
    for card in CARDS:
        journeys, apdus, apdus_journey, warm, steps = [], set(), set(), [], {}
        version = None
        for index in range(warmup + repetitions):
            with tempfile.TemporaryDirectory(prefix="bench-headless-", dir=scratch) as tmp:
                sample = one_journey(root, card, Path(tmp) / "data")
            if index < warmup:
                warm.append(sample["journey_s"])
                continue
            journeys.append(sample["journey_s"])
            for name, seconds in sample["steps_s"].items():
                steps.setdefault(name, []).append(seconds)
            builds.append(sample["build_s"])
            if sample["db_s"] is not None:
                dbs.append(sample["db_s"])
            apdus.add(sample["apdus_per_read"])
            apdus_journey.add(sample["apdus_journey"])
            version = sample["spec_version"]
        results["cards"][card.profile] = {
            "label": card.label,
            "spec_version": version,
            "journey": summary(journeys),
            "steps_median_ms": {name: round(statistics.median(v) * 1000, 3) for name, v in steps.items()},
            "warmup_ms": [round(s * 1000, 3) for s in warm],
            "apdus_per_read": _one_or_all(apdus),
            "apdus_to_card_per_journey": _one_or_all(apdus_journey),
        }
    results["db_creation"] = summary(dbs)
    results["kiosk_build_incl_db"] = summary(builds)
    return results


def _one_or_all(values: set):
    values.discard(None)
    if not values:
        return None
    return next(iter(values)) if len(values) == 1 else sorted(values)
