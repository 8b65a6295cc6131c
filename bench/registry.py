"""Provides `python -m bench.registry`: the console's queries at 1k and 1M people, a registration's cost, a big purge."""
from __future__ import annotations

# See bench/README.md ("Registry"). Each size gets a fresh database (SQLite: a temp file; PostgreSQL: a
# database on a private server from tests/postgres_server.py), migrated to head, filled by
# bench/registry_fill.py, then every console query is timed through the Registry methods the
# maintenance pages call (a transaction each, connection included), median of --repeat runs.

import argparse
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Callable

from bench.common import progress, report, summary
from bench.registry_cost import registration_cost
from bench.registry_fill import NOW, Shape, card_number, child_rid, fill, guardian_rid

TARGET_MS = 50.0
QUERIES: dict[str, Callable] = {
    "counts": lambda r: r.counts(NOW.replace(hour=0)),
    "consistency": lambda r: r.consistency(),
    "pending activations": lambda r: r.pending_activations(),
    "audit kinds": lambda r: r.audit_kinds(),
    "audit events": lambda r: r.audit_events(limit=200),
    "audit events of one kind": lambda r: r.audit_events(["ecard_activated"], limit=200),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.registry", description=__doc__)
    parser.add_argument("--sizes", default="1000,1000000", help="people per registry, comma-separated (default 1000,1000000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite, postgresql or both (default)")
    parser.add_argument("--repeat", type=int, default=15, metavar="N", help="timed runs per query (default 15)")
    parser.add_argument("--registrations", type=int, default=200, metavar="N",
                        help="registrations timed for the round trips and CPU figures (default 200)")
    parser.add_argument("--no-purge", action="store_true", help="skip the purge at the largest size")
    parser.add_argument("--json", action="store_true", help="JSON on stdout (the table goes to stderr)")
    args = parser.parse_args(argv)
    args.sizes = [int(size) for size in args.sizes.split(",")]
    args.backends = [b.strip() for b in args.backends.split(",")]
    if any(b not in ("sqlite", "postgresql") for b in args.backends):
        parser.error("--backends: sqlite and/or postgresql")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A benchmark stopped with SIGTERM still stops its PostgreSQL server and removes its temp dir.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    results: dict = {"target_ms": TARGET_MS, "sizes": args.sizes, "backends": {}}
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kiosk-bench-registry-")))
        server = None
        if "postgresql" in args.backends:
            from tests.postgres_server import PostgresServer

            progress("starting a private PostgreSQL server")
            server = stack.enter_context(PostgresServer())
        for backend in args.backends:
            figures: dict = {"sizes": {}}
            for size in args.sizes:
                url = f"sqlite:///{folder / f'registry-{size}.sqlite3'}" if backend == "sqlite" else (
                    server.create_database(f"registry_{size}"))  # type: ignore[union-attr]
                figures["sizes"][size] = measure(url, size, args, purge=not args.no_purge and size == max(args.sizes))
            progress(f"{backend}: the cost of one registration")
            figures["registration_cost"] = registration_cost(
                f"sqlite:///{folder / 'cost.sqlite3'}" if backend == "sqlite" else
                server.create_database("registry_cost"), args.registrations)  # type: ignore[union-attr]
            results["backends"][backend] = figures
    report(render(results), results, args.json)
    return 0


def measure(url: str, size: int, args: argparse.Namespace, purge: bool) -> dict:
    from kiosk.ports import ManualClock
    from kiosk.registry import Registry

    registry = Registry.open(url, ManualClock(NOW), kiosk_id="BENCH")
    try:
        began = time.perf_counter()
        registry.upgrade_schema()
        progress(f"{registry.database.dialect} {size:,} people: migrated in {time.perf_counter() - began:.1f} s, filling")
        began = time.perf_counter()
        loaded = fill(registry.database, size)
        figure: dict = {"fill_s": round(time.perf_counter() - began, 1),
                        "fill_by_table_s": {k: round(v, 1) for k, v in loaded.items()}}
        progress(f"  filled in {figure['fill_s']} s; timing the console's queries")
        counts = registry.counts(NOW.replace(hour=0))
        figure["rows"] = {"people": counts.people, "ecards": counts.pending + counts.activated + counts.cancelled,
                          "audit_events": counts.audit_events, "expired_tickets": counts.expired_tickets}
        figure["queries"] = {name: time_it(lambda q=query: q(registry), args.repeat) for name, query in QUERIES.items()}
        figure["consistent"] = all(f.count == 0 for f in registry.consistency())
        figure["registration"] = time_registrations(registry, size, min(args.repeat, 20))
        if purge:
            progress("  purging the expired codes")
            figure["purge"] = time_purge(registry)
        return figure
    finally:
        registry.close()


def time_it(call: Callable[[], object], repeat: int) -> dict:
    call()  # warm: the first run pays for caches and the plan
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return summary(samples)


def time_registrations(registry, size: int, count: int) -> dict:
    """child_facts + register of children who have no e-card yet, through the in-process port."""
    from kiosk import CONFIG_DIR
    from kiosk.eligibility import load_region
    from kiosk.registry import LocalRegistry, PresentedCard, TicketPolicy

    shape = Shape(size)
    port = LocalRegistry(registry, load_region(CONFIG_DIR / "regions" / "default.toml"),
                         TicketPolicy("https://ecard.example.gov.cn/a", 300))
    samples, outcomes = [], []
    for n in range(count):
        child = shape.ecards + n * 7 % max(1, shape.children - shape.ecards)
        guardian = child % shape.guardians
        card = PresentedCard(card_number(guardian), "3.00", date(2035, 1, 1), guardian_rid(guardian), True)
        began = time.perf_counter()
        port.child_facts(card.holder_resident_id, child_rid(child))
        outcomes.append(port.register(card, child_rid(child), f"bench-registration-{n:05d}").outcome)
        samples.append(time.perf_counter() - began)
    return {**summary(samples), "outcomes": {o: outcomes.count(o) for o in set(outcomes)}}


def time_purge(registry) -> dict:
    """The whole purge, and the longest any one of its transactions held its locks (until its COMMIT returned)."""
    from sqlalchemy import event

    holds: list[float] = []
    opened: dict[int, float] = {}
    dialect = registry.database.engine.dialect
    plain_commit = dialect.do_commit

    def begin(connection) -> None:  # noqa: ANN001
        opened[id(connection.connection.dbapi_connection)] = time.perf_counter()

    def commit(dbapi_connection) -> None:  # noqa: ANN001  (the COMMIT itself: PostgreSQL runs deferred triggers in it)
        plain_commit(dbapi_connection)
        holds.append(time.perf_counter() - opened.pop(id(dbapi_connection), time.perf_counter()))

    event.listen(registry.database.engine, "begin", begin)
    dialect.do_commit = commit
    began = time.perf_counter()
    try:
        deleted = registry.purge_expired()
    finally:
        took = time.perf_counter() - began
        event.remove(registry.database.engine, "begin", begin)
        dialect.do_commit = plain_commit
    return {"deleted": deleted, "total_s": round(took, 1), "transactions": len(holds),
            "longest_transaction_ms": round(max(holds) * 1000, 1) if holds else None,
            "median_transaction_ms": round(statistics.median(holds) * 1000, 1) if holds else None}


def render(results: dict) -> str:
    lines = [f"Registry console queries, median ms of the runs (target <= {TARGET_MS:.0f} ms at 1M people)", ""]
    for backend, figures in results["backends"].items():
        sizes = list(figures["sizes"])
        head = f"{backend:<28}" + "".join(f"{size:>14,} people" for size in sizes)
        lines += [head, "-" * len(head)]
        for name in QUERIES:
            cells = []
            for size in sizes:
                q = figures["sizes"][size]["queries"][name]
                mark = "" if q["median_ms"] <= TARGET_MS else " !"
                cells.append(f"{q['median_ms']:>10.2f} (p95 {q['p95_ms']:.1f}){mark}")
            lines.append(f"{name:<28}" + "".join(f"{c:>21}" for c in cells))
        lines.append(f"{'registration (facts+register)':<28}" + "".join(
            f"{figures['sizes'][s]['registration']['median_ms']:>21.2f}" for s in sizes))
        for size in sizes:
            f = figures["sizes"][size]
            lines.append(f"  {size:,}: rows {f['rows']}, consistent {f['consistent']}, fill {f['fill_s']} s")
            if "purge" in f:
                p = f["purge"]
                lines.append(f"  purge at {size:,}: {p['deleted']:,} expired codes in {p['total_s']} s,"
                             f" {p['transactions']} transactions, longest {p['longest_transaction_ms']} ms"
                             f" (median {p['median_transaction_ms']} ms)")
        cost = figures["registration_cost"]
        lines.append("  one registration (decide + register + first ticket), per registration:")
        for way in ("main", "port"):
            c = cost[way]
            lines.append(f"    {way:<5} {c['statements']:>5.1f} statements, {c['transactions']:>4.1f} transactions,"
                         f" {c['round_trips']:>5.1f} round trips, client CPU {c['cpu_ms']:.2f} ms,"
                         f" wall {c['wall_ms']:.2f} ms")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
