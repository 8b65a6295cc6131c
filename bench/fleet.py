"""Provides `python -m bench.fleet`: 500 kiosks heartbeating every 15 s while 50 register, against the same registrations without them."""
from __future__ import annotations

# See bench/README.md ("Fleet"). The registry benchmark's set-up (bench/service.py: a private PostgreSQL,
# the registry filled, the service as its own process) with --heartbeat-kiosks more credentials. Runs
# alternate: the --kiosks registering kiosks alone (A), then the same with the heartbeating fleet (B),
# A, B, ... (--rounds), each against a freshly started service, so that other load on the machine falls
# on both alike. The fleet is one more process (--fleet-processes: more), one uvloop event loop whose kiosks
# share raw HTTP/1.1 keep-alive connections (bench.fleet.Connections): a heartbeat costs the simulator a
# JSON body and a write and read on a socket, not an HTTP client library's machinery (httpx cost 3.9 ms of
# CPU a heartbeat, 4 processes of it 6% of the 2-core machine, taken from the service it measures; the
# simulator's own CPU is printed, so what remains is the service's cost). Kiosk i sends its first
# heartbeat i * interval / N seconds after the fleet starts and then one every interval (a fixed
# schedule, not a sleep after each answer; a late kiosk sends its next one at once, never a burst), so the
# service sees N / interval heartbeats a second from the start. Each heartbeat is the contract's body
# (/work/coord/HEARTBEAT.md), with the technician etag of the kiosk's last answer. The cost:
# 1 - registrations/s with the fleet / registrations/s without.

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import signal
import statistics
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator

from bench.common import progress, report
from bench.load import percentiles
from bench.proc import tree_cpu_seconds
from bench.service import Registry, add_load_arguments, duplicates, measure, settle_load_arguments

HEARTBEAT_PATH = "/v1/kiosk/heartbeat"
AIM = 0.10
"""The heartbeat load may cost registration throughput less than this share (issue 12)."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    add_load_arguments(parser, seconds=60.0, client="httpx")
    parser.add_argument("--heartbeat-kiosks", type=int, default=500, help="heartbeating kiosks (default 500)")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between a kiosk's heartbeats (default 15)")
    parser.add_argument("--fleet-processes", type=int, default=1,
                        help="processes the heartbeating kiosks are spread over (default 1: one asyncio process)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (default 1)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of (without, with) the fleet (default 1)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    args = parser.parse_args(argv)
    return settle_load_arguments(args, runs=2 * args.rounds)


def heartbeat_body(index: int, uptime: float, etag: str | None) -> dict:
    """A kiosk's heartbeat as the contract has it: states, counts and codes, no personal data."""
    now = datetime.now(timezone.utc)
    visits = index % 7
    return {
        "version": "0.1.0",
        "settings_fingerprint": f"{index:016x}",
        "uptime_seconds": int(uptime),
        "state": "in_visit" if index % 5 == 0 else "idle",
        "out_of_service_reasons": [],
        "reader": "no_card",
        "psam": "ok" if index % 2 else "not_needed",
        "today": {"date": now.date().isoformat(), "visits": visits, "registrations": visits // 2,
                  "activations": visits // 3, "refusals": {"CHILD_TOO_OLD": 1} if index % 3 == 0 else {}},
        "last_errors": [{"code": "CARD_COMMUNICATION", "at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}] if index % 4 == 0 else [],
        "technicians_etag": etag,
    }


@dataclass
class Beats:
    """What the fleet process saw: (send time, seconds, HTTP status or 0 for no answer) per heartbeat."""

    beats: list[tuple[float, float, int]] = field(default_factory=list)
    first_errors: list[str] = field(default_factory=list)


class AnswerError(Exception):
    """The service's answer is not one HTTP/1.1 answer with a Content-Length (or the connection closed)."""


class Connections:
    """Raw HTTP/1.1 keep-alive connections to the service, shared by the fleet's kiosks: an idle one is reused (the
    last one used first), else one more is opened. One idle for IDLE_SECONDS is closed before the service's keep-alive
    timeout (30 s) could close it under a request."""

    IDLE_SECONDS = 20.0

    def __init__(self, base: str) -> None:
        parsed = urllib.parse.urlsplit(base)
        self._host, self._port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self._head = (f"POST {HEARTBEAT_PATH} HTTP/1.1\r\nHost: {parsed.netloc}\r\n"
                      "Content-Type: application/json\r\nAuthorization: Bearer ").encode("ascii")
        self._idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def post(self, credential: bytes, body: bytes) -> tuple[int, bytes]:
        """POST the heartbeat `body` (JSON) with the kiosk's credential: (status, answer body).

        Raises:
            OSError, AnswerError, asyncio.IncompleteReadError: the connection failed (it is closed).
        """
        reader, writer = self._take() or await self._open()
        try:
            writer.write(b"".join((self._head, credential, b"\r\nContent-Length: ", str(len(body)).encode(),
                                   b"\r\n\r\n", body)))
            status, answer, keep = await _answer(reader)
        except BaseException:
            writer.close()
            raise
        if keep:
            self._idle.append((time.monotonic(), reader, writer))
        else:
            writer.close()
        return status, answer

    def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        now = time.monotonic()
        while self._idle:
            used, reader, writer = self._idle.pop()
            if now - used < self.IDLE_SECONDS and not reader.at_eof():
                return reader, writer
            writer.close()
        return None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.opened += 1
        return await asyncio.open_connection(self._host, self._port)

    def close(self) -> None:
        for _, _, writer in self._idle:
            writer.close()
        self._idle.clear()


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep the connection) of one HTTP/1.1 answer."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head[:-4].split(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise AnswerError(f"not an HTTP/1.1 status line: {status_line[:80]!r}")
    length, keep = None, parts[0] == b"HTTP/1.1"
    for line in lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            keep = value.strip().lower() != b"close"
    if length is None:
        raise AnswerError("an answer without Content-Length")
    return int(parts[1]), await reader.readexactly(length), keep


def fleet_process(base: str, credentials: list[str], first: int, total: int, interval: float, ready, stop,
                  results) -> None:
    """The body of a fleet process: its kiosks (numbers first, first + step, ...) heartbeating on their schedules
    until `stop` is set, on one uvloop event loop over shared keep-alive connections."""
    import uvloop

    record = Beats()
    step = total // len(credentials) if credentials else 1

    def failed(text: str) -> None:
        if len(record.first_errors) < 3:
            record.first_errors.append(text[:200])

    async def kiosk(connections: Connections, index: int, credential: str, start: float) -> None:
        secret = credential.encode("ascii")
        etag: str | None = None
        due = start + index * interval / total
        while True:
            await asyncio.sleep(max(0.0, due - time.monotonic()))  # the kiosk's next beat is due then
            sent = time.monotonic()
            body = json.dumps(heartbeat_body(index, sent - start, etag), separators=(",", ":")).encode()
            try:
                status, answer = await asyncio.wait_for(connections.post(secret, body), 30)
                if status == 200:
                    technicians = json.loads(answer).get("technicians")
                    etag = technicians["etag"] if technicians else etag
                else:
                    failed(f"HTTP {status}: {answer[:200].decode('utf-8', 'replace')}")
            except (OSError, AnswerError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    asyncio.TimeoutError, ValueError) as exc:
                status = 0
                failed(f"{type(exc).__name__}: {exc}")
            record.beats.append((sent, time.monotonic() - sent, status))
            due = max(due + interval, time.monotonic())  # late: the next one at once, never a burst to catch up

    async def fleet() -> None:
        connections = Connections(base)
        start = time.monotonic()
        tasks = [asyncio.create_task(kiosk(connections, first + k * step, c, start)) for k, c in enumerate(credentials)]
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.2)  # a multiprocessing Event has nothing an event loop can await
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        connections.close()

    uvloop.run(fleet())
    results.put(record)


@contextlib.contextmanager
def heartbeating(base: str, credentials: list[str], interval: float, processes: int) -> Iterator:
    """The fleet processes for one run; yields a function of the timed window giving the heartbeat figures."""
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    processes = max(1, min(processes, len(credentials)))
    total = processes * (len(credentials) // processes)  # kiosk k of process p is number p + k * processes
    started = []
    for index in range(processes):
        ready = context.Event()
        mine = credentials[index:total:processes]
        process = context.Process(target=fleet_process, args=(base, mine, index, total, interval, ready, stop, results),
                                  daemon=True)
        process.start()
        started.append((process, ready))
    for process, ready in started:
        while not ready.wait(0.5):
            if not process.is_alive():
                raise SystemExit("a fleet process did not start")
    pids = [process.pid for process, _ in started]
    cpu: dict[str, float] = {}
    seen: dict = {}

    def figures(t0: float, t1: float) -> dict:
        cpu["at_t1"] = sum(tree_cpu_seconds(pid) for pid in pids)  # the window's end: the fleet is still beating
        seen.update(window=(t0, t1))
        return seen

    try:
        cpu["at_start"] = sum(tree_cpu_seconds(pid) for pid in pids)
        yield figures
    finally:
        stop.set()
        records: list[Beats] = [results.get(timeout=interval + 60) for _ in started]
        for process, _ in started:
            process.join(interval + 60)
        t0, t1 = seen.get("window", (0.0, float("inf")))
        inside = [b for r in records for b in r.beats if t0 <= b[0] <= t1]
        answered = [b for b in inside if b[2] == 200]
        seen.update({
            "heartbeats": len(inside), "heartbeats_per_s": len(inside) / (t1 - t0) if t1 > t0 else 0.0,
            "failed": len(inside) - len(answered), "first_errors": [e for r in records for e in r.first_errors][:3],
            "latency_ms": percentiles([b[1] for b in answered]),
            "fleet_cpu_s": cpu.get("at_t1", 0.0) - cpu["at_start"],
        })


def main(argv: list[str] | None = None, *, server=None) -> int:
    """`server`: a running PostgresServer to use (the tests pass theirs); else a private one."""
    args = parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    results: dict = {"kiosks": args.kiosks, "heartbeat_kiosks": args.heartbeat_kiosks, "interval": args.interval,
                     "workers": args.workers, "clients": args.clients, "cpus": os.cpu_count(), "runs": []}
    with contextlib.ExitStack() as stack:
        registry = Registry(stack, args.people, args.kiosks, server, durable=False)
        stack.callback(registry.close)
        progress(f"{args.heartbeat_kiosks} more kiosk credentials for the fleet")
        fleet_keys = registry.more_keys(args.heartbeat_kiosks, "FLEET")
        for round_ in range(1, args.rounds + 1):
            for beating in (False, True):
                what = f"with {args.heartbeat_kiosks} kiosks heartbeating every {args.interval:g} s" if beating else "alone"
                progress(f"round {round_}: {args.kiosks} registering kiosks {what}, {args.seconds:g} s")
                during = ((lambda base: heartbeating(base, fleet_keys, args.interval, args.fleet_processes))
                          if beating else None)
                run = measure(registry, args.workers, registry.keys, args, during=during)
                run.update(round=round_, heartbeats=beating)
                results["runs"].append(run)
                progress("  " + run_line(run))
        results["duplicates"] = duplicates(registry.url)
    report(render(results), results, args.json)
    return 0


def run_line(run: dict) -> str:
    lat = run["latency_ms"]
    fmt = lambda figures: f"{figures['p99']:.0f}" if figures.get("n") else "-"  # noqa: E731
    line = (f"{run['registrations_per_s']:.1f} registrations/s, registration p99 {fmt(lat['registration'])} ms, "
            f"register p99 {fmt(lat['register'])} ms, errors {run['errors']}, service CPU "
            f"{run['cpu']['service_s']:.1f} s, load {run['load_average']}")
    side = run.get("side")
    if side:
        line += (f"; heartbeats {side['heartbeats']} ({side['heartbeats_per_s']:.1f}/s), p50 "
                 f"{side['latency_ms'].get('p50', 0):.0f} / p99 {side['latency_ms'].get('p99', 0):.0f} ms, failed "
                 f"{side['failed']}, fleet simulator CPU {side['fleet_cpu_s']:.1f} s "
                 f"({side['fleet_cpu_s'] / max(1, side['heartbeats']) * 1000:.2f} ms a heartbeat)")
    return line


def summary(results: dict) -> dict:
    alone = {r["round"]: r for r in results["runs"] if not r["heartbeats"]}
    costs = [1 - r["registrations_per_s"] / alone[r["round"]]["registrations_per_s"]
             for r in results["runs"] if r["heartbeats"] and alone.get(r["round"], {}).get("registrations_per_s")]
    return {"costs": costs, "cost": statistics.median(costs) if costs else None}


def render(results: dict) -> str:
    lines = [f"Fleet: {results['kiosks']} kiosks registering ({results['clients']} client processes), "
             f"{results['heartbeat_kiosks']} heartbeating every {results['interval']:g} s, {results['workers']} uvicorn "
             f"worker(s), PostgreSQL on this machine ({results['cpus']} CPUs, shared)"]
    for run in results["runs"]:
        label = "with heartbeats   " if run["heartbeats"] else "without heartbeats"
        lines.append(f"  round {run['round']} {label} ({run['seconds']:.1f} s): {run_line(run)}")
        side = run.get("side") or {}
        if side.get("first_errors"):
            lines.append(f"      heartbeat errors: {side['first_errors']}")
        if run["first_errors"]:
            lines.append(f"      registration errors: {run['first_errors']}")
    lines.append(f"  duplicates (children with two live e-cards): {results['duplicates']}")
    figures = summary(results)
    if figures["cost"] is not None:
        verdict = "met" if figures["cost"] < AIM else "NOT MET"
        lines.append(f"  registration throughput lost to the heartbeats: {figures['cost'] * 100:.1f}% (rounds: "
                     f"{', '.join(f'{c * 100:.1f}%' for c in figures['costs'])}); aim < {AIM * 100:.0f}%: {verdict}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
