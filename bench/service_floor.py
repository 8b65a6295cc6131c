"""Provides `python -m bench.service_floor`: the least CPU a registration can cost, part by part, with no load on the
machine: FastAPI's own request handling, the registry's code from one thread, PostgreSQL's work per statement."""
# No `from __future__ import annotations`: FastAPI reads the routes' annotations, and Body is local to fastapi_floor.

# See bench/README.md ("Registry service", why the ratio stays below 0.25). Three measurements, none under
# load, so each is a floor of what `python -m bench.service` sees with 50 kiosks:
# 1. FastAPI alone: an application like the service's (a pydantic body with extra="forbid", a header read by
#    an async dependency, a bytes answer) called in-process as ASGI, no HTTP parsing, no socket; and the
#    barest GET route. CPU per request (time.process_time).
# 2. The registry's code: one registration as the service runs it (child facts, register, poll, the phone's
#    activation, poll) through LocalRegistry and PhoneDesk from one thread on one connection at a time, on a
#    private PostgreSQL server with durable settings and pg_stat_statements: this process's CPU and
#    PostgreSQL's (its process tree, background processes included) per registration.
# 3. pg_stat_statements over the same registrations: each statement's calls and execution time per
#    registration (wall inside the executor; triggers' statements listed on their own).

import argparse
import asyncio
import json
import os
import time
from datetime import date
from typing import Annotated

from bench.common import progress, report


def fastapi_floor(requests: int) -> dict:
    """CPU microseconds per request of FastAPI's handling alone (in-process ASGI calls)."""
    from fastapi import Depends, FastAPI, Header, Request, Response
    from pydantic import BaseModel, ConfigDict

    class Body(BaseModel):
        model_config = ConfigDict(extra="forbid", frozen=True)
        guardian_rid: str
        child_rid: str

    async def kiosk(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
        return "BENCH"

    app = FastAPI()

    @app.post("/v1/kiosk/child-facts")
    async def facts(body: Body, kiosk_id: Annotated[str, Depends(kiosk)], request: Request) -> Response:
        return Response(b'{"known":true}', media_type="application/json")

    @app.get("/v1/health")
    async def health() -> Response:
        return Response(b'{"ok":true}', media_type="application/json")

    payload = json.dumps({"guardian_rid": "430102198803150016", "child_rid": "430102201906010029"}).encode()

    async def call(method: str, path: str, body: bytes) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer x"),
                             (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                 "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080), "state": {}}
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[dict] = []

        async def receive() -> dict:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: dict) -> None:
            sent.append(message)

        await app(scope, receive, send)
        if sent[0]["status"] != 200:
            raise SystemExit(f"the floor's own route answered {sent[0]['status']}")

    async def measure() -> dict:
        out = {}
        for name, method, path, body in (("post_with_body_and_header", "POST", "/v1/kiosk/child-facts", payload),
                                         ("bare_get", "GET", "/v1/health", b"")):
            for _ in range(min(2000, requests)):
                await call(method, path, body)
            began = time.process_time()
            for _ in range(requests):
                await call(method, path, body)
            out[name] = (time.process_time() - began) / requests * 1e6
        return out

    return asyncio.run(measure())


def registry_floor(registrations: int) -> dict:
    """CPU per registration (this process, PostgreSQL) from one thread, and pg_stat_statements' top statements."""
    import sqlalchemy as sa

    from bench.proc import postmaster_pid, tree_cpu_seconds
    from bench.registry_fill import NOW, Shape, card_number, child_rid, fill, guardian_rid
    from kiosk import CONFIG_DIR
    from kiosk.eligibility import load_region
    from kiosk.ports import ManualClock
    from kiosk.registry import LocalRegistry, PresentedCard, Registry, TicketPolicy
    from kiosk.registry.phone import PhoneDesk, PhoneLimits
    from tests.postgres_server import DURABLE, PostgresServer

    warm = max(20, registrations // 10)
    settings = {**DURABLE, "shared_preload_libraries": "'pg_stat_statements'", "pg_stat_statements.track": "all"}
    progress("starting a private PostgreSQL server (durable settings, pg_stat_statements)")
    with PostgresServer(settings=settings) as server:
        url = server.create_database("service_floor")
        shape = Shape(max(2000, (registrations + warm) * 30))
        clock = ManualClock(NOW)
        registry = Registry.open(url, clock, kiosk_id="BENCH")
        admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            registry.upgrade_schema()
            progress(f"filling the registry with {shape.people} people")
            fill(registry.database, shape.people)
            port = LocalRegistry(registry, load_region(CONFIG_DIR / "regions" / "default.toml"),
                                 TicketPolicy("https://ecard.example.gov.cn/a", 300, 2.0))
            desk = PhoneDesk(registry, PhoneLimits())
            free = range(shape.ecards, shape.children)  # the children with no e-card yet
            with admin.connect() as connection:
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))

            def visit(n: int) -> int:
                child = free[n]
                guardian = child % shape.guardians
                child_id, holder = child_rid(child), guardian_rid(guardian)
                card = PresentedCard(card_number(guardian), "3.00", date(2035, 1, 1), holder, True)
                port.child_facts(holder, child_id)
                answer = port.register(card, child_id, f"floor-{n:07d}")
                if answer.ticket is None:
                    return 0  # the rules said no (a child of the fill with a card of their own, ...)
                desk.poll(answer.ticket.ticket_id, 2.0, "BENCH")
                clock.advance(3)  # past the poll interval: the last poll is no slow_down
                if desk.activate(answer.ticket.url, holder, "bench").outcome != "activated":
                    raise SystemExit("the floor's activation failed")
                desk.poll(answer.ticket.ticket_id, 2.0, "BENCH")
                return 1

            for n in range(warm):
                visit(n)
            with admin.connect() as connection:
                connection.execute(sa.text("SELECT pg_stat_statements_reset()"))
            postmaster = postmaster_pid(server.data_dir)
            pg0, cpu0 = tree_cpu_seconds(postmaster), time.process_time()
            done = sum(visit(n) for n in range(warm, warm + registrations))
            pg1, cpu1 = tree_cpu_seconds(postmaster), time.process_time()
            with admin.connect() as connection:
                rows = connection.execute(sa.text(
                    "SELECT calls, total_exec_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) FROM"
                    " pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC"
                    " LIMIT 12")).all()
        finally:
            admin.dispose()
            registry.close()
    if not done:
        raise SystemExit("no registration went through")
    return {"registrations": done,
            "cpu_ms_per_registration": {"registry_code": (cpu1 - cpu0) / done * 1000,
                                        "postgres": (pg1 - pg0) / done * 1000},
            "statements": [{"calls_per_registration": calls / done, "exec_us_per_registration": total / done * 1000,
                            "query": query} for calls, total, query in rows]}


def render(results: dict) -> str:
    f, r = results["fastapi_us_per_request"], results["registry"]
    c = r["cpu_ms_per_registration"]
    lines = [f"Service floor: the least CPU each part of a registration costs, no load ({os.cpu_count()} CPUs, shared)",
             f"  FastAPI alone, in-process ASGI, no HTTP parsing or socket: {f['post_with_body_and_header']:.0f} us a "
             f"request (a body and a header dependency), {f['bare_get']:.0f} us (a bare GET); x5 a registration: "
             f"{f['post_with_body_and_header'] * 5 / 1000:.2f} ms",
             f"  one registration (facts, register, poll, activate, poll) from one thread, {r['registrations']} of "
             f"them: registry code {c['registry_code']:.2f} ms, PostgreSQL {c['postgres']:.2f} ms of CPU",
             "  PostgreSQL's statements per registration (pg_stat_statements, execution time):"]
    total = 0.0
    for s in r["statements"]:
        total += s["exec_us_per_registration"]
        lines.append(f"    {s['calls_per_registration']:5.2f} calls {s['exec_us_per_registration']:7.1f} us  "
                     f"{s['query']}")
    lines.append(f"    top {len(r['statements'])} together: {total / 1000:.2f} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.service_floor", description=__doc__)
    parser.add_argument("--requests", type=int, default=20000, help="FastAPI requests timed (default 20000)")
    parser.add_argument("--registrations", type=int, default=1000, help="registrations timed (default 1000)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    args = parser.parse_args(argv)
    results = {"fastapi_us_per_request": fastapi_floor(args.requests), "registry": registry_floor(args.registrations)}
    report(render(results), results, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
