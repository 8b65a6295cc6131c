"""Provides `python -m bench.service`: 50 simulated kiosks doing whole registrations over HTTP against the service on PostgreSQL, beside pgbench."""
from __future__ import annotations

# See bench/README.md ("Registry service"). A private PostgreSQL server (tests/postgres_server.py), a
# registry filled by bench/registry_fill.py, the service started as its own process
# (`python -m registry_service serve`, 1 then 2 uvicorn workers), and --kiosks simulated kiosks spread
# over --clients processes (bench/load.py). Rounds interleave the worker counts and pgbench TPC-B with
# as many clients on the same server (A, B, pgbench, A, B, pgbench, ...), so that other load on the
# machine falls on all of them alike; each round's ratio is its registrations/s over its own pgbench tps.
# CPU is read from /proc for the service's processes, PostgreSQL's, the clients' and pgbench's, so the
# figures per registration and per TPC-B transaction say what each costs whatever the machine's load.

import argparse
import itertools
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack

import httpx
import sqlalchemy as sa

from bench.common import progress, report
from bench.load import Clients, window
from bench.proc import machine_cpu_seconds, postmaster_pid, tree_cpu_seconds, tree_main_threads_cpu_seconds
from bench.registry_fill import Shape, fill

URL_BASE = "http://127.0.0.1/a"
_DATABASES = itertools.count(1)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.service", description=__doc__)
    add_load_arguments(parser)
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts, comma-separated (default 1,2)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--pgbench-seconds", type=int, default=15, help="pgbench's run per round (default 15 s)")
    parser.add_argument("--pgbench-scale", type=int, default=10, help="pgbench's scale factor (default 10)")
    parser.add_argument("--server", choices=("durable", "throwaway"), default="durable",
                        help="the private PostgreSQL server's settings: durable, as a hall runs it (fsync, synchronous "
                             "commit, full page writes, 128 MB shared buffers, autovacuum: PostgreSQL's defaults), or "
                             "throwaway, the tests' (all of those off, 32 MB) (default durable)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    parser.add_argument("--compare", metavar="DIR",
                        help="also run the service from the checkout in DIR (e.g. `git worktree add DIR main`) in "
                             "every round, interleaved, against the same database: before/after figures")
    args = parser.parse_args(argv)
    args.workers = [int(w) for w in args.workers.split(",")]
    args = settle_load_arguments(args, runs=args.rounds * (len(args.workers) + len(args.workers) * bool(args.compare)))
    return args


def add_load_arguments(parser: argparse.ArgumentParser, seconds: float = 15.0, client: str = "raw") -> None:
    """The simulated kiosks' options; `settle_load_arguments` completes them once parsed."""
    parser.add_argument("--kiosks", type=int, default=50, help="concurrent simulated kiosks (default 50)")
    parser.add_argument("--client", choices=("raw", "httpx"), default=client,
                        help="the kiosks' HTTP: raw, lean asyncio keep-alive connections in one process "
                             "(bench/http_kiosks.py), or httpx, the kiosk's own adapter (ServiceRegistry) in threads "
                             f"(default {client})")
    parser.add_argument("--clients", type=int, default=None,
                        help="client processes the kiosks are spread over (default 1 for raw, 4 for httpx)")
    parser.add_argument("--seconds", type=float, default=seconds, help=f"timed seconds per run (default {seconds:g})")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before the timing starts (default 2)")
    parser.add_argument("--people", type=int, default=None,
                        help="people in the registry, a tenth of them children without an e-card to register "
                             f"(default: enough for every run at {FASTEST:g} registrations/s, at least {MIN_PEOPLE})")


FASTEST = 300.0
"""Registrations per second above any seen on this 2-core machine (186 with 2 workers): what the default fill
must last for."""
MIN_PEOPLE = 100000


def people_for(runs: int, seconds: float) -> int:
    """People enough that `runs` runs of `seconds` each (warm-up included) at FASTEST never run out of children to
    register (a tenth of a fill's people are children without an e-card), rounded up to 10000, at least MIN_PEOPLE."""
    people = runs * seconds * FASTEST * 10
    return max(MIN_PEOPLE, int(-(-people // 10000)) * 10000)


def settle_load_arguments(args: argparse.Namespace, runs: int) -> argparse.Namespace:
    """The defaults that depend on other options: --clients on --client, --people on the `runs` to make."""
    if args.clients is None:
        args.clients = 1 if args.client == "raw" else 4
    if args.people is None:
        args.people = people_for(runs, args.seconds + args.warmup)
    return args


def duplicates(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(
                "SELECT count(*) FROM (SELECT child_id FROM ecard WHERE state != 'cancelled'"
                " GROUP BY child_id HAVING count(*) > 1) AS twice")).scalar_one()
    finally:
        engine.dispose()


class Registry:
    """The private PostgreSQL server with the filled registry and the kiosks' credentials."""

    def __init__(self, stack: ExitStack, people: int, kiosks: int, server=None, durable: bool = True) -> None:
        """`server`: a running PostgresServer to use (the tests'); else a private one is started (and stopped),
        with DURABLE settings if `durable`, else the tests' throwaway ones."""
        from kiosk.ports import SystemClock
        from kiosk.registry.database import Database
        from kiosk.registry.schema import upgrade
        from registry_service.credentials import Credentials
        from tests.postgres_server import DURABLE, PostgresServer

        if server is None:
            progress(f"starting a private PostgreSQL server ({'durable' if durable else 'throwaway'} settings)")
            server = stack.enter_context(PostgresServer(settings=DURABLE if durable else None))
        self.server = server
        self.name = f"bench_{os.getpid()}_{next(_DATABASES)}"
        self.url = self.server.create_database(self.name)
        database = Database.open(self.url)
        upgrade(database)
        progress(f"filling the registry with {people} people")
        fill(database, people)
        self.credentials = Credentials(database, SystemClock(), 0)
        self.keys = [self.credentials.add(f"BENCH-{i:03d}") for i in range(kiosks)]
        self.database = database
        self.shape = Shape(people)
        self.people = people
        self.next_child = self.shape.ecards  # the children with no e-card yet
        self.postmaster = postmaster_pid(self.server.data_dir)

    def more_keys(self, count: int, prefix: str) -> list[str]:
        return [self.credentials.add(f"{prefix}-{i:03d}") for i in range(count)]

    def children_left(self) -> range:
        return range(self.next_child, self.shape.children)

    def close(self) -> None:
        self.database.dispose()


class Snapshot:
    """CPU seconds so far of the service, PostgreSQL, the clients and the whole machine, at one moment."""

    def __init__(self, service_pid: int, postmaster: int, client_pids: list[int]) -> None:
        self.at = time.monotonic()
        self.service = tree_cpu_seconds(service_pid)
        self.service_loops = tree_main_threads_cpu_seconds(service_pid)
        self.postgres = tree_cpu_seconds(postmaster)
        self.clients = sum(tree_cpu_seconds(pid) for pid in client_pids)
        self.machine, self.machine_total = machine_cpu_seconds()


def cpu_between(a: Snapshot, b: Snapshot) -> dict:
    cores = (b.machine_total - a.machine_total) / (b.at - a.at)
    ours = (b.service - a.service) + (b.postgres - a.postgres) + (b.clients - a.clients)
    return {"service_s": b.service - a.service, "service_loops_s": b.service_loops - a.service_loops,
            "postgres_s": b.postgres - a.postgres, "clients_s": b.clients - a.clients,
            "machine_busy_s": b.machine - a.machine, "others_s": max(0.0, (b.machine - a.machine) - ours),
            "cores": round(cores, 2)}


def measure(registry: Registry, workers: int, keys: list[str], args: argparse.Namespace,
            during=None, source: str | None = None) -> dict:
    """One timed run of the kiosks against a freshly started service with `workers` uvicorn workers.

    `during`: a context manager factory given the service's base URL, entered before the kiosks start
    (the fleet benchmark's heartbeats); what it yields is called at the end of the window for its figures.
    """
    pool = max(10, len(keys) // workers)
    process, base, log = start_service(registry.url, workers, pool, source)
    clients = None
    try:
        with ExitStack() as stack:
            extra = stack.enter_context(during(base)) if during is not None else None
            clients = Clients(base, keys, registry.people, registry.children_left(), args.clients, args.client)
            clients.wait_ready()
            clients.go()
            time.sleep(args.warmup)  # load before the window: connections made, caches warm
            first = Snapshot(process.pid, registry.postmaster, clients.pids)
            load_first = os.getloadavg()[0]
            time.sleep(args.seconds)
            last = Snapshot(process.pid, registry.postmaster, clients.pids)
            side = extra(first.at, last.at) if extra is not None else None
            records = clients.stop()
            clients = None
        seen = window(records, first.at, last.at)
        registry.next_child += args.clients * max(r.children_used for r in records) + args.clients
        took = last.at - first.at
        cpu = cpu_between(first, last)
        count = seen["registrations"]
        per = (lambda s: s / count * 1000 if count else None)  # noqa: E731
        result = {"workers": workers, "kiosks": len(keys), "clients": args.clients, "seconds": took,
                  "registrations_per_s": count / took, **seen, "cpu": cpu,
                  "cpu_ms_per_registration": {"service": per(cpu["service_s"]),
                                              "service_event_loops": per(cpu["service_loops_s"]),
                                              "postgres": per(cpu["postgres_s"]),
                                              "clients": per(cpu["clients_s"])},
                  "load_average": [round(load_first, 1), round(os.getloadavg()[0], 1)]}
        if side is not None:
            result["side"] = side
        if seen["ran_out"]:
            progress("  the registry ran out of children without an e-card: give it more --people")
        return result
    finally:
        if clients is not None:
            clients.kill()
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def pgbench_init(server, scale: int = 10) -> list[str] | None:
    from tests.postgres_server import SUPERUSER

    tool = server.bindir / "pgbench"
    if not tool.exists():
        progress("pgbench is missing (Debian: apt-get install postgresql-contrib): no ratio")
        return None
    name = f"pgbench_{os.getpid()}_{next(_DATABASES)}"
    server.create_database(name)
    command = [str(tool), "-h", "127.0.0.1", "-p", str(server.port), "-U", SUPERUSER]
    subprocess.run([*command, "-i", "-q", "-s", str(scale), name], check=True, capture_output=True)
    return [*command, "--", name]


def pgbench(command: list[str], postmaster: int, clients: int, seconds: int) -> dict:
    """pgbench TPC-B with `clients` clients: tps, and PostgreSQL's and pgbench's CPU per transaction."""
    pg0, (busy0, _), t0 = tree_cpu_seconds(postmaster), machine_cpu_seconds(), time.monotonic()
    with tempfile.TemporaryFile("w+") as out:
        *options, _, name = command
        process = subprocess.Popen([*options, "-c", str(clients), "-j", "2", "-T", str(seconds), name],
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        pg1, (busy1, _), t1 = tree_cpu_seconds(postmaster), machine_cpu_seconds(), time.monotonic()
        out.seek(0)
        text = out.read()
    if process.returncode != 0:
        raise SystemExit(f"pgbench failed: {text[-1000:]}")
    tps = float(re.search(r"tps = ([0-9.]+)", text).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"number of transactions actually processed: (\d+)", text).group(1))  # type: ignore[union-attr]
    mine = usage.ru_utime + usage.ru_stime
    return {"tps": tps, "transactions": count, "seconds": t1 - t0,
            "cpu_ms_per_transaction": {"postgres": (pg1 - pg0) / count * 1000, "pgbench": mine / count * 1000},
            "others_s": max(0.0, (busy1 - busy0) - (pg1 - pg0) - mine)}


def start_service(url: str, workers: int, pool_size: int, source: str | None = None):
    """The service as its own process (this checkout's, or the one in `source`); returns (process, base URL, its log)."""
    port = free_port()
    env = {**os.environ, "ECARD_REGISTRY_DATABASE_URL": url, "ECARD_REGISTRY_PORT": str(port),
           "ECARD_REGISTRY_HOST": "127.0.0.1", "ECARD_REGISTRY_WORKERS": str(workers),
           "ECARD_REGISTRY_POOL_SIZE": str(pool_size), "ECARD_REGISTRY_ACTIVATION_URL_BASE": URL_BASE,
           "ECARD_REGISTRY_LOG_LEVEL": "WARNING"}
    log = tempfile.TemporaryFile("w+")
    if source is not None:
        env["PYTHONPATH"] = source
    process = subprocess.Popen([sys.executable, "-m", "registry_service", "serve"], env=env, cwd=source,
                               stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the service did not start: {log.read()[-2000:]}")
        try:
            if httpx.get(base + "/v1/health", timeout=1).status_code < 500:
                return process, base, log
        except httpx.HTTPError:
            time.sleep(0.1)  # polling a server that is starting: nothing to wait on but its port
    process.kill()
    raise SystemExit("the service did not answer within 60 s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None, *, server=None) -> int:
    """`server`: a running PostgresServer to use (the tests pass theirs); else a private one."""
    args = parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    results: dict = {"kiosks": args.kiosks, "clients": args.clients, "client": args.client, "cpus": os.cpu_count(), "runs": [], "pgbench": []}
    with ExitStack() as stack:
        registry = Registry(stack, args.people, args.kiosks, server, durable=args.server == "durable")
        results["server"] = {key: registry.server.settings[key] for key in ("fsync", "synchronous_commit",
                                                                              "full_page_writes", "shared_buffers")}
        stack.callback(registry.close)
        command = pgbench_init(registry.server, args.pgbench_scale)
        for round_ in range(1, args.rounds + 1):
            for workers in args.workers:
                for source in [None, args.compare] if args.compare else [None]:
                    which = f" (the service from {source})" if source else ""
                    progress(f"round {round_}: {args.kiosks} kiosks in {args.clients} {args.client} client process(es) against "
                             f"{workers} uvicorn worker(s){which} for {args.seconds:g} s")
                    run = measure(registry, workers, registry.keys, args, source=source)
                    run.update(round=round_, service=source or "this checkout")
                    results["runs"].append(run)
                    progress("  " + run_line(run))
            if command is not None:
                progress(f"round {round_}: pgbench TPC-B, {args.kiosks} clients, {args.pgbench_seconds} s")
                bench = pgbench(command, registry.postmaster, args.kiosks, args.pgbench_seconds)
                bench["round"] = round_
                results["pgbench"].append(bench)
        results["duplicates"] = duplicates(registry.url)
    report(render(results), results, args.json)
    return 0


def run_line(run: dict) -> str:
    cpu = run["cpu_ms_per_registration"]
    lat = run["latency_ms"]["registration"]
    fmt = lambda v: f"{v:.1f}" if v is not None else "-"  # noqa: E731
    return (f"{run['registrations_per_s']:.1f} registrations/s, registration p50 {fmt(lat.get('p50'))} / p99 "
            f"{fmt(lat.get('p99'))} ms, CPU ms/registration: service {fmt(cpu['service'])} (event loop "
            f"{fmt(cpu['service_event_loops'])}), PostgreSQL "
            f"{fmt(cpu['postgres'])}, clients {fmt(cpu['clients'])}; errors {run['errors']}; "
            f"others' CPU {run['cpu']['others_s']:.1f} s; load {run['load_average']}")


def summary(results: dict) -> dict:
    """Medians over the rounds, per worker count: registrations/s, ratio, CPU costs and the CPU-only ratios."""
    benches = {b["round"]: b for b in results["pgbench"]}
    out: dict = {}
    for key in sorted({(r.get("service", "this checkout") != "this checkout", r["workers"]) for r in results["runs"]}):
        runs = [r for r in results["runs"] if (r.get("service", "this checkout") != "this checkout", r["workers"]) == key]
        workers = f"{key[1]} worker(s)" + (f", the service from {runs[0]['service']}" if key[0] else "")
        med = lambda values: statistics.median(values) if values else None  # noqa: E731
        ratios = [r["registrations_per_s"] / benches[r["round"]]["tps"] for r in runs if r["round"] in benches]
        cpu = {k: med([r["cpu_ms_per_registration"][k] for r in runs if r["cpu_ms_per_registration"][k] is not None])
               for k in ("service", "service_event_loops", "postgres", "clients")}
        out[workers] = {"registrations_per_s": med([r["registrations_per_s"] for r in runs]), "ratio": med(ratios),
                        "ratios": ratios, "cpu_ms_per_registration": cpu}
    if results["pgbench"]:
        pg = statistics.median(b["cpu_ms_per_transaction"]["postgres"] for b in results["pgbench"])
        client = statistics.median(b["cpu_ms_per_transaction"]["pgbench"] for b in results["pgbench"])
        out["pgbench"] = {"tps": statistics.median(b["tps"] for b in results["pgbench"]),
                          "cpu_ms_per_transaction": {"postgres": pg, "pgbench": client}}
        for workers, figures in out.items():
            if workers == "pgbench" or None in figures["cpu_ms_per_registration"].values():
                continue
            c = figures["cpu_ms_per_registration"]
            figures["service_per_registration_over_postgres_per_transaction"] = c["service"] / pg
            # If the machine were all CPU and nothing else ran: what the ratio would be, with each side's
            # clients on the same cores (as measured), and with the clients elsewhere (server side only).
            figures["cpu_ratio_clients_included"] = (pg + client) / (c["service"] + c["postgres"] + c["clients"])
            figures["cpu_ratio_server_side"] = pg / (c["service"] + c["postgres"])
            # And with the service free as well: PostgreSQL's own work per registration against per TPC-B
            # transaction, the most any service could make of this schema and these statements.
            figures["cpu_ratio_postgres_only"] = pg / c["postgres"]
    return out


def render(results: dict) -> str:
    lines = [f"Registry service: {results['kiosks']} simulated kiosks in {results['clients']} client process(es) "
             f"({results['client']} HTTP), PostgreSQL on this machine ({results['cpus']} CPUs, shared)",
             "  PostgreSQL settings: " + ", ".join(f"{key} {value}" for key, value in results["server"].items())]
    benches = {b["round"]: b for b in results["pgbench"]}
    for run in results["runs"]:
        which = "" if run.get("service", "this checkout") == "this checkout" else f", the service from {run['service']}"
        lines.append(f"  round {run['round']}, {run['workers']} worker(s){which}, {run['seconds']:.1f} s: " + run_line(run))
        for route, figures in run["latency_ms"].items():
            if figures["n"]:
                lines.append(f"      {route:<15} n={figures['n']:<6} p50 {figures['p50']:7.1f} ms   p99 {figures['p99']:7.1f} ms")
        lines.append(f"      outcomes {run['outcomes']}")
        if run["first_errors"]:
            lines.append(f"      first errors: {run['first_errors']}")
        if run["round"] in benches:
            b = benches[run["round"]]
            lines.append(f"      ratio to this round's pgbench ({b['tps']:.0f} tps): {run['registrations_per_s'] / b['tps']:.3f}")
    for b in results["pgbench"]:
        c = b["cpu_ms_per_transaction"]
        lines.append(f"  round {b['round']}, pgbench TPC-B ({results['kiosks']} clients): {b['tps']:.0f} tps; CPU ms/transaction: "
                     f"PostgreSQL {c['postgres']:.2f}, pgbench {c['pgbench']:.2f}; others' CPU {b['others_s']:.1f} s")
    lines.append(f"  duplicates (children with two live e-cards): {results['duplicates']}")
    figures = summary(results)
    lines.append("  median over the rounds:")
    for workers, f in figures.items():
        if workers == "pgbench":
            continue
        c = f["cpu_ms_per_registration"]
        ratio = f"{f['ratio']:.3f} (rounds: {', '.join(f'{r:.3f}' for r in f['ratios'])})" if f["ratio"] is not None else "n/a"
        lines.append(f"    {workers}: {f['registrations_per_s']:.1f} registrations/s, ratio to pgbench {ratio}")
        if None not in c.values():
            lines.append(f"      CPU ms per registration: service {c['service']:.1f} (of which its event loop "
                         f"{c['service_event_loops']:.1f}, the rest its thread pool), PostgreSQL {c['postgres']:.1f}, "
                         f"clients {c['clients']:.1f}")
        if "cpu_ratio_server_side" in f:
            lines.append(f"      service CPU per registration / PostgreSQL CPU per TPC-B transaction: "
                         f"{f['service_per_registration_over_postgres_per_transaction']:.1f}")
            lines.append(f"      CPU-only ratio (registrations/s over tps if CPU were all that counted): clients on the "
                         f"same cores {f['cpu_ratio_clients_included']:.3f}, clients elsewhere {f['cpu_ratio_server_side']:.3f}, "
                         f"PostgreSQL's work alone (a service that cost nothing) {f['cpu_ratio_postgres_only']:.3f}")
    if "pgbench" in figures:
        p = figures["pgbench"]
        lines.append(f"    pgbench: {p['tps']:.0f} tps; CPU ms per transaction: PostgreSQL "
                     f"{p['cpu_ms_per_transaction']['postgres']:.2f}, pgbench {p['cpu_ms_per_transaction']['pgbench']:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
