"""Provides `python -m bench.heartbeat_load`: 500 simulated kiosks heartbeating every 15 s while 50 register, against the same run without heartbeats."""
from __future__ import annotations

# The registry benchmark's setting (bench/service.py: a private PostgreSQL server, a filled registry,
# the service as its own process, --kiosks threads doing whole registrations over HTTP), run in
# rounds that alternate without and with heartbeats (A, B, A, B...) so other load on the shared
# machine falls on both alike. The heartbeats: --beaters kiosks, each with its own credential, each
# beating every --interval seconds (spread evenly over the interval from the round's start), sent by
# a few threads with keep-alive clients. Printed: registrations/s and registration p99 per mode, the
# throughput cost of the heartbeats, heartbeat p50/p99 and beats/s.

import argparse
import heapq
import itertools
import os
import signal
import statistics
import sys
import threading
import time
from contextlib import ExitStack

import httpx

from bench.common import progress
from bench.registry_fill import Shape, fill
from bench.service import percentiles, run_kiosks, start_service


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.heartbeat_load", description=__doc__)
    parser.add_argument("--kiosks", type=int, default=50, help="kiosks registering (default 50)")
    parser.add_argument("--beaters", type=int, default=500, help="kiosks heartbeating (default 500)")
    parser.add_argument("--interval", type=float, default=15.0, help="heartbeat interval, s (default 15)")
    parser.add_argument("--seconds", type=float, default=15.0, help="timed seconds per round (default 15)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each mode, alternating (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument("--people", type=int, default=20000, help="people in the registry (default 20000)")
    return parser.parse_args(argv)


def beat_body(index: int) -> dict:
    return {"version": "0.1.0", "settings_fingerprint": f"{index:016x}", "uptime_seconds": 60, "state": "idle",
            "out_of_service_reasons": [], "reader": "ok", "psam": "not_needed",
            "today": {"date": "2026-12-02", "visits": 1, "registrations": 1, "activations": 1, "refusals": {}},
            "last_errors": [], "technicians_etag": None}


class Beaters:
    """--beaters kiosks heartbeating every interval until stopped; their latencies kept."""

    def __init__(self, base: str, credentials: list[str], interval: float, threads: int = 32) -> None:
        self._base, self._credentials, self._interval = base, credentials, interval
        self._threads = threads
        self.latencies: list[float] = []
        self.failures = 0
        self.client_cpu = 0.0
        """CPU seconds the sending threads used (they share this machine's cores with the service)."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def start(self) -> None:
        began = time.monotonic()
        etags: dict[int, str | None] = {}
        for number in range(self._threads):
            mine = list(range(number, len(self._credentials), self._threads))
            due = [(began + self._interval * i / len(self._credentials), i) for i in mine]
            heapq.heapify(due)
            thread = threading.Thread(target=self._run, args=(due, etags), daemon=True)
            thread.start()
            self._workers.append(thread)

    def _run(self, due: list[tuple[float, int]], etags: dict[int, str | None]) -> None:
        began = time.thread_time()
        try:
            self._send(due, etags)
        finally:
            with self._lock:
                self.client_cpu += time.thread_time() - began

    def _send(self, due: list[tuple[float, int]], etags: dict[int, str | None]) -> None:
        with httpx.Client(base_url=self._base, timeout=30) as client:
            while not self._stop.is_set():
                when, index = heapq.heappop(due)
                if self._stop.wait(max(0.0, when - time.monotonic())):
                    return
                body = {**beat_body(index), "technicians_etag": etags.get(index)}
                t0 = time.perf_counter()
                try:
                    answer = client.post("/v1/kiosk/heartbeat", json=body,
                                         headers={"Authorization": f"Bearer {self._credentials[index]}"})
                    ok = answer.status_code == 200
                    if ok and answer.json()["technicians"] is not None:
                        etags[index] = answer.json()["technicians"]["etag"]
                except httpx.HTTPError:
                    ok = False
                took = time.perf_counter() - t0
                with self._lock:
                    if ok:
                        self.latencies.append(took)
                    else:
                        self.failures += 1
                heapq.heappush(due, (when + self._interval, index))

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(60)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    from kiosk.ports import SystemClock
    from kiosk.registry.database import Database
    from kiosk.registry.schema import upgrade
    from registry_service.credentials import Credentials
    from tests.postgres_server import PostgresServer

    runs: dict[str, list[dict]] = {"without": [], "with": []}
    beats: list[float] = []
    failures = 0
    beat_seconds = 0.0
    client_cpu = 0.0
    service_cpu: dict[str, list[float]] = {"without": [], "with": []}
    with ExitStack() as stack:
        progress("starting a private PostgreSQL server")
        server = stack.enter_context(PostgresServer())
        url = server.create_database("registry")
        database = Database.open(url)
        upgrade(database)
        progress(f"filling the registry with {args.people} people")
        fill(database, args.people)
        credentials = Credentials(database, SystemClock(), 0)
        keys = [credentials.add(f"BENCH-{i:02d}") for i in range(args.kiosks)]
        beaters = [credentials.add(f"BEAT-{i:04d}") for i in range(args.beaters)]
        database.dispose()
        shape = Shape(args.people)
        children = itertools.count(shape.ecards)
        process, base = start_service(url, args.workers, pool_size=max(10, (args.kiosks + 20) // args.workers))
        stack.callback(lambda: (process.terminate(), process.wait(30)))
        for round_ in range(args.rounds):
            for mode in ("without", "with"):
                progress(f"round {round_ + 1}: {args.kiosks} registering, {mode} {args.beaters} heartbeating")
                load = Beaters(base, beaters, args.interval) if mode == "with" else None
                if load is not None:
                    load.start()
                began, cpu = time.perf_counter(), cpu_seconds(process.pid)
                runs[mode].append(run_kiosks(base, keys, children, shape, args.seconds))
                service_cpu[mode].append(cpu_seconds(process.pid) - cpu)
                if load is not None:
                    load.stop()
                    client_cpu += load.client_cpu
                    beat_seconds += time.perf_counter() - began
                    beats.extend(load.latencies)
                    failures += load.failures
    print(f"Heartbeat load: {args.kiosks} kiosks registering, {args.beaters} heartbeating every {args.interval:.0f} s, "
          f"{args.workers} worker(s), PostgreSQL; {args.rounds} x {args.seconds:.0f} s per mode, alternating "
          f"(machine shared)")
    rates = {}
    for mode, results in runs.items():
        rate = statistics.mean(r["registrations_per_s"] for r in results)
        rates[mode] = rate
        p99s = [r["latency_ms"]["register"].get("p99", float("nan")) for r in results]
        errors = sum(r["errors"] for r in results)
        each = ", ".join(f"{r['registrations_per_s']:.1f}" for r in results)
        activated = sum(r["outcomes"].get("activated", 0) for r in results)
        per = sum(service_cpu[mode]) / activated * 1000 if activated else float("nan")
        print(f"  {mode + ' heartbeats':<19} {rate:6.1f} registrations/s (rounds: {each}); register p99 "
              f"{', '.join(f'{p:.0f}' for p in p99s)} ms; errors {errors}; service CPU {per:.1f} ms per registration")
    cost = 1 - rates["with"] / rates["without"] if rates["without"] else float("nan")
    figures = percentiles(beats)
    print(f"  throughput cost of the heartbeats: {cost * 100:.1f} % (target < 10 %)")
    if figures["n"]:
        print(f"  heartbeat: n={figures['n']} ({figures['n'] / beat_seconds:.1f}/s) p50 {figures['p50']:.1f} ms  "
              f"p99 {figures['p99']:.1f} ms; failed {failures}")
        extra = sum(service_cpu["with"]) - sum(service_cpu["without"])
        print(f"  service CPU: {sum(service_cpu['without']):.1f} s without, {sum(service_cpu['with']):.1f} s with "
              f"({extra / figures['n'] * 1000:.1f} ms more per heartbeat, if all of the difference is theirs); "
              f"the heartbeat senders (this process, the same cores) used {client_cpu:.1f} CPU-s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
