"""Provides `python -m bench.service`: 50 simulated kiosks doing whole registrations over HTTP against the service on PostgreSQL, beside pgbench."""
from __future__ import annotations

# See bench/README.md ("Registry service"). A private PostgreSQL server (tests/postgres_server.py), a
# registry filled by bench/registry_fill.py, the service started as its own process
# (`python -m registry_service serve`, 1 then 2 uvicorn workers), and --kiosks threads, each one kiosk
# with its own credential and keep-alive httpx clients (the HTTP adapter for the kiosk, one for its
# guardian's phone): child facts, register (its first ticket with it), poll, the phone activates,
# poll again. Then pgbench TPC-B with as many clients on the same server, and the ratio.

import argparse
import itertools
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import date

import httpx
import sqlalchemy as sa

from bench.common import progress
from bench.registry_fill import Shape, card_number, child_rid, fill, guardian_rid

URL_BASE = "http://127.0.0.1/a"
ROUTES = ("child_facts", "register", "poll", "activate", "poll_activated")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.service", description=__doc__)
    parser.add_argument("--kiosks", type=int, default=50, help="concurrent simulated kiosks (default 50)")
    parser.add_argument("--seconds", type=float, default=15.0, help="timed seconds per worker count (default 15)")
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts, comma-separated (default 1,2)")
    parser.add_argument("--people", type=int, default=40000, help="people in the registry (default 40000)")
    parser.add_argument("--pgbench-seconds", type=int, default=15, help="pgbench's run (default 15 s)")
    args = parser.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(",")]
    return args


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(url: str, workers: int, pool_size: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "ECARD_REGISTRY_DATABASE_URL": url, "ECARD_REGISTRY_PORT": str(port),
           "ECARD_REGISTRY_HOST": "127.0.0.1", "ECARD_REGISTRY_WORKERS": str(workers),
           "ECARD_REGISTRY_POOL_SIZE": str(pool_size), "ECARD_REGISTRY_ACTIVATION_URL_BASE": URL_BASE,
           "ECARD_REGISTRY_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, "-m", "registry_service", "serve"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service did not start: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(base + "/v1/health", timeout=1).status_code < 500:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)  # polling a server that is starting: nothing to wait on but its port
    process.kill()
    raise SystemExit("the service did not answer within 60 s")


def run_kiosks(base: str, credentials: list[str], children: itertools.count, shape: Shape, seconds: float) -> dict:
    from kiosk.registry.phone_client import activate_over_http
    from kiosk.registry.port import PresentedCard
    from kiosk.registry.service_client import ServiceRegistry

    latencies: dict[str, list[float]] = {route: [] for route in ROUTES}
    outcomes: dict[str, int] = {}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(credentials) + 1)
    stop = threading.Event()

    def kiosk(credential: str) -> None:
        port = ServiceRegistry(base, credential)
        phone = httpx.Client(base_url=base, timeout=30)
        mine: dict[str, list[float]] = {route: [] for route in ROUTES}
        barrier.wait()
        try:
            while not stop.is_set():
                with lock:
                    child = next(children)
                guardian = child % shape.guardians
                card = PresentedCard(card_number(guardian), "3.00", date(2035, 1, 1), guardian_rid(guardian), True)
                try:
                    t0 = time.perf_counter()
                    port.child_facts(card.holder_resident_id, child_rid(child))
                    t1 = time.perf_counter()
                    answer = port.register(card, child_rid(child), f"bench-{child:07d}")
                    t2 = time.perf_counter()
                    mine["child_facts"].append(t1 - t0)
                    mine["register"].append(t2 - t1)
                    with lock:
                        outcomes[answer.outcome] = outcomes.get(answer.outcome, 0) + 1
                    if answer.ticket is None:
                        continue
                    port.ticket_state(answer.ticket.ticket_id)
                    t3 = time.perf_counter()
                    done = activate_over_http(base, answer.ticket.url, card.holder_resident_id, client=phone)
                    t4 = time.perf_counter()
                    state = port.ticket_state(answer.ticket.ticket_id).state
                    t5 = time.perf_counter()
                    mine["poll"].append(t3 - t2)
                    mine["activate"].append(t4 - t3)
                    mine["poll_activated"].append(t5 - t4)
                    with lock:
                        key = "activated" if done.ok and state == "activated" else f"activation {done.outcome}/{state}"
                        outcomes[key] = outcomes.get(key, 0) + 1
                except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it does not stop at one
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:200])
        finally:
            port.close()
            phone.close()
            with lock:
                for route, samples in mine.items():
                    latencies[route].extend(samples)

    threads = [threading.Thread(target=kiosk, args=(c,), daemon=True) for c in credentials]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(120)
    took = time.perf_counter() - began
    return {"seconds": took, "registrations_per_s": outcomes.get("activated", 0) / took, "outcomes": outcomes,
            "errors": len(errors), "first_errors": errors[:3],
            "latency_ms": {route: percentiles(samples) for route, samples in latencies.items()}}


def percentiles(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"n": len(ordered), "p50": statistics.median(ordered) * 1000, "p99": pick(0.99)}


def duplicates(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM (SELECT child_id FROM ecard WHERE state != 'cancelled'"
                " GROUP BY child_id HAVING count(*) > 1) AS twice")).scalar_one()
    finally:
        engine.dispose()


def pgbench(server, clients: int, seconds: int) -> float | None:
    from tests.postgres_server import SUPERUSER

    tool = server.bindir / "pgbench"
    if not tool.exists():
        progress("pgbench is missing (Debian: apt-get install postgresql-contrib): no ratio")
        return None
    server.create_database("pgbench")
    common = ["-h", "127.0.0.1", "-p", str(server.port), "-U", SUPERUSER]
    subprocess.run([str(tool), *common, "-i", "-q", "-s", "10", "pgbench"], check=True, capture_output=True)
    done = subprocess.run([str(tool), *common, "-c", str(clients), "-j", "2", "-T", str(seconds), "pgbench"],
                          check=True, capture_output=True, text=True)
    found = re.search(r"tps = ([0-9.]+)", done.stdout)
    return float(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    from kiosk.ports import SystemClock
    from kiosk.registry.database import Database
    from kiosk.registry.schema import upgrade
    from registry_service.credentials import Credentials
    from tests.postgres_server import PostgresServer

    results: dict = {"kiosks": args.kiosks, "runs": {}}
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
        database.dispose()
        shape = Shape(args.people)
        children = itertools.count(shape.ecards)  # the children with no e-card yet
        for workers in args.workers:
            progress(f"{args.kiosks} kiosks against {workers} uvicorn worker(s) for {args.seconds:.0f} s")
            process, base = start_service(url, workers, pool_size=max(10, args.kiosks // workers))
            try:
                results["runs"][workers] = run_kiosks(base, keys, children, shape, args.seconds)
            finally:
                process.terminate()
                process.wait(30)
        results["duplicates"] = duplicates(url)
        progress(f"pgbench TPC-B, {args.kiosks} clients, {args.pgbench_seconds} s")
        results["pgbench_tps"] = pgbench(server, args.kiosks, args.pgbench_seconds)
    print(render(results))
    return 0


def render(results: dict) -> str:
    lines = [f"Registry service: {results['kiosks']} simulated kiosks over HTTP, PostgreSQL on this machine"]
    tps = results["pgbench_tps"]
    for workers, run in results["runs"].items():
        rate = run["registrations_per_s"]
        ratio = f"{rate / tps:.3f}" if tps else "n/a"
        lines.append(f"  {workers} worker(s): {rate:.1f} registrations/s over {run['seconds']:.1f} s; errors "
                     f"{run['errors']}; ratio to pgbench {ratio}; outcomes {run['outcomes']}")
        for route, figures in run["latency_ms"].items():
            if figures["n"]:
                lines.append(f"      {route:<15} n={figures['n']:<6} p50 {figures['p50']:7.1f} ms   p99 {figures['p99']:7.1f} ms")
        if run["first_errors"]:
            lines.append(f"      first errors: {run['first_errors']}")
    lines.append(f"  duplicates (children with two live e-cards): {results['duplicates']}")
    lines.append(f"  pgbench TPC-B tps ({results['kiosks']} clients): {tps if tps is not None else 'not run'}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
