"""Provides the simulated kiosks of the service benchmarks: whole registrations over HTTP, spread over client processes
(the kiosks' own HTTP adapter in threads, or the lean asyncio kiosks of bench/http_kiosks.py)."""
from __future__ import annotations

# Each client process (multiprocessing, spawn) runs its share of the kiosks as threads, each kiosk with
# its own credential and keep-alive httpx clients: the kiosk's HTTP adapter (ServiceRegistry) and one
# for its guardian's phone. One Python process cannot drive 50 kiosks against a service that answers in
# a few milliseconds: its GIL, not the service, sets the pace; several processes can.
#
# A registration: child facts, register (its first ticket with it), poll the ticket, the phone
# activates it (bound to the guardian's ID), poll again: it counts when that poll says activated.
# Every process takes its children from its own arithmetic series (start + k * step), so no two
# kiosks ever register the same child. Times are time.monotonic(), one clock for every process.

import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import date

ROUTES = ("child_facts", "register", "poll", "activate", "poll_activated")


@dataclass(frozen=True)
class Plan:
    """What one client process does."""

    base: str
    credentials: tuple[str, ...]
    people: int
    first_child: int
    child_step: int
    last_child: int
    """Children from first_child up to (not including) last_child, every child_step-th."""


@dataclass
class Done:
    """One client process's record: every registration's end time and route latencies, outcomes, errors."""

    finished: list[tuple[float, float, tuple[float, ...]]] = field(default_factory=list)
    """(end time, whole registration seconds, seconds per route in ROUTES order), activated ones only."""
    outcomes: dict[str, list[float]] = field(default_factory=dict)
    """outcome -> end times (registered, refused, activated, activation x/y, ...)."""
    errors: list[tuple[float, str]] = field(default_factory=list)
    children_used: int = 0
    ran_out: bool = False


def client_process(plan: Plan, ready, go, stop, results) -> None:
    """The body of one client process: its kiosks as threads, from `go` to `stop` (multiprocessing Events)."""
    import httpx

    from bench.registry_fill import Shape, card_number, child_rid, guardian_rid
    from kiosk.registry.phone_client import activate_over_http
    from kiosk.registry.port import PresentedCard
    from kiosk.registry.service_client import ServiceRegistry

    shape = Shape(plan.people)
    done = Done()
    lock = threading.Lock()
    series = iter(range(plan.first_child, plan.last_child, plan.child_step))

    def kiosk(credential: str, started: threading.Barrier) -> None:
        port = ServiceRegistry(plan.base, credential)
        phone = httpx.Client(base_url=plan.base, timeout=30)
        started.wait()
        go.wait()
        try:
            while not stop.is_set():
                with lock:
                    child = next(series, None)
                    if child is None:
                        done.ran_out = True
                        return
                    done.children_used += 1
                guardian = child % shape.guardians
                card = PresentedCard(card_number(guardian), "3.00", date(2035, 1, 1), guardian_rid(guardian), True)
                try:
                    t0 = time.monotonic()
                    port.child_facts(card.holder_resident_id, child_rid(child))
                    t1 = time.monotonic()
                    answer = port.register(card, child_rid(child), f"bench-{child:07d}")
                    t2 = time.monotonic()
                    with lock:
                        done.outcomes.setdefault(answer.outcome, []).append(t2)
                    if answer.ticket is None:
                        continue
                    port.ticket_state(answer.ticket.ticket_id)
                    t3 = time.monotonic()
                    activated = activate_over_http(plan.base, answer.ticket.url, card.holder_resident_id, client=phone)
                    t4 = time.monotonic()
                    state = port.ticket_state(answer.ticket.ticket_id).state
                    t5 = time.monotonic()
                    key = "activated" if activated.ok and state == "activated" else f"activation {activated.outcome}/{state}"
                    with lock:
                        done.outcomes.setdefault(key, []).append(t5)
                        if key == "activated":
                            done.finished.append((t5, t5 - t0, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)))
                except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it does not stop at one
                    with lock:
                        done.errors.append((time.monotonic(), f"{type(exc).__name__}: {exc}"[:200]))
        finally:
            port.close()
            phone.close()

    started = threading.Barrier(len(plan.credentials) + 1)
    threads = [threading.Thread(target=kiosk, args=(c, started), daemon=True) for c in plan.credentials]
    for thread in threads:
        thread.start()
    started.wait()
    ready.set()
    for thread in threads:
        thread.join()
    results.put(done)


class Clients:
    """The client processes for one run: started (kiosks connected and waiting), then `go()`, then `stop()`."""

    def __init__(self, base: str, credentials: list[str], people: int, children: range, processes: int,
                 client: str = "raw") -> None:
        """`client`: "raw", the lean asyncio kiosks (bench/http_kiosks.py), or "httpx", the kiosks' own HTTP adapter."""
        from bench import http_kiosks

        target = {"raw": http_kiosks.client_process, "httpx": client_process}[client]
        context = multiprocessing.get_context("spawn")
        processes = max(1, min(processes, len(credentials)))
        self._go = context.Event()
        self._stop = context.Event()
        self._results = context.Queue()
        self._ready = []
        self._processes = []
        for index in range(processes):
            plan = Plan(base, tuple(credentials[index::processes]), people, children.start + index,
                        processes, children.stop)
            ready = context.Event()
            process = context.Process(target=target, args=(plan, ready, self._go, self._stop, self._results),
                                      daemon=True)
            process.start()
            self._ready.append(ready)
            self._processes.append(process)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        for ready, process in zip(self._ready, self._processes):
            while not ready.wait(0.5):
                if not process.is_alive() or time.monotonic() > deadline:
                    raise SystemExit("a client process did not start its kiosks")

    def go(self) -> None:
        self._go.set()

    def stop(self, timeout: float = 120) -> list[Done]:
        self._stop.set()
        records = [self._results.get(timeout=timeout) for _ in self._processes]
        for process in self._processes:
            process.join(timeout)
        return records

    def kill(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.kill()


def percentiles(samples: list[float]) -> dict:
    """n, p50 and p99 (nearest rank) of samples in seconds, as milliseconds."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, max(0, -(-99 * len(ordered) // 100) - 1))]
    return {"n": len(ordered), "p50": statistics.median(ordered) * 1000, "p99": p99 * 1000}


def window(records: list[Done], t0: float, t1: float) -> dict:
    """What the client processes saw end within [t0, t1]: activated registrations, latencies, outcomes, errors."""
    inside = lambda t: t0 <= t <= t1  # noqa: E731
    finished = [f for r in records for f in r.finished if inside(f[0])]
    outcomes: dict[str, int] = {}
    for record in records:
        for outcome, ends in record.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + sum(1 for t in ends if inside(t))
    errors = [text for r in records for t, text in r.errors if inside(t)]
    latency = {"registration": percentiles([f[1] for f in finished])}
    for index, route in enumerate(ROUTES):
        latency[route] = percentiles([f[2][index] for f in finished])
    return {"registrations": len(finished), "outcomes": outcomes, "errors": len(errors), "first_errors": errors[:3],
            "latency_ms": latency, "children_used": sum(r.children_used for r in records),
            "ran_out": any(r.ran_out for r in records)}
