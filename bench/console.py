"""Provides `python -m bench.console`: the operator console's page load with 500 kiosks listed (server and chromium), on PostgreSQL and SQLite."""
from __future__ import annotations

# A private PostgreSQL server (tests/postgres_server.py) or a SQLite file, migrated to head; --kiosks
# credentials, each kiosk heartbeating once over HTTP (a mix of states and reasons, some kiosks never
# heard from, some behind), the service on a real uvicorn in this process, an operator signed in.
# Then, interleaved per round so other load on the machine hits both alike:
#   fleet page  GET /console over keep-alive httpx, to the last byte (server time + transfer);
#   refresh     GET /console/fleet (what the page's script fetches every console_refresh_seconds);
#   chromium    the page in Debian's headless chromium: navigation start to the load event
#               (performance.getEntriesByType('navigation')), the DOM built and styled.
# Prints median, p95 (nearest rank) and max in ms, the page's size, and the heartbeat latency seen.

import argparse
import math
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench.common import progress

PASSWORD = "bench console password"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__)
    parser.add_argument("--kiosks", type=int, default=500, help="kiosks listed (default 500)")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default 30; 3 warm-up rounds more)")
    parser.add_argument("--backends", default="postgresql,sqlite", help="comma-separated (default postgresql,sqlite)")
    parser.add_argument("--no-browser", action="store_true", help="skip the chromium figure")
    args = parser.parse_args(argv)
    args.backends = [b for b in args.backends.split(",") if b]
    return args


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def line(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"  {name:<12} median {statistics.median(ms):7.1f} ms   p95 {p95(ms):7.1f} ms   max {max(ms):7.1f} ms"


def beat(index: int) -> dict:
    states = ["idle"] * 6 + ["in_visit", "out_of_service"]
    state = states[index % len(states)]
    return {
        "version": "0.1.0", "settings_fingerprint": f"{index:016x}", "uptime_seconds": 3600 + index, "state": state,
        "out_of_service_reasons": ["reader"] if state == "out_of_service" else [],
        "reader": "no_reader" if state == "out_of_service" else "ok", "psam": "not_needed",
        "today": {"date": "2026-12-02", "visits": index % 40, "registrations": index % 17, "activations": index % 13,
                  "refusals": {"CHILD_TOO_OLD": index % 3, "NOT_GUARDIAN": index % 2}},
        "last_errors": [{"code": "CARD_COMMUNICATION", "at": "2026-12-02T09:00:00Z"}] * (index % 4),
        "technicians_etag": None,
    }


def browser():  # -> selenium.webdriver.Chrome, as the console's browser test drives it (a tablet's window)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1024,768"):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=DriverService("/usr/bin/chromedriver"))


def measure(url: str, args: argparse.Namespace, folder: Path, stack: ExitStack) -> None:
    from datetime import datetime, timedelta, timezone

    from kiosk.registry.database import Database
    from kiosk.registry.schema import upgrade
    from registry_service.app import create_app
    from registry_service.service import Service
    from registry_service.settings import load_service_settings
    from tests.service.uvicorn_thread import ServiceThread

    database = Database.open(url)
    upgrade(database)
    database.dispose()
    settings = load_service_settings(environ={}, overrides={"database_url": url, "data_dir": str(folder), "port": 0,
                                                            "credential_cache_seconds": 0, "pool_size": 10})

    class Clock:  # set per heartbeat, so the list has green, amber and red kiosks in known numbers
        current = datetime.now(timezone.utc)

        def now(self) -> datetime:
            return self.current

    clock = Clock()
    start = clock.current
    service = Service.open(settings, clock)
    stack.callback(service.close)
    thread = ServiceThread(create_app(settings, service=service)).start()
    stack.callback(thread.stop)
    progress(f"{args.kiosks} kiosks heartbeating once")
    beats: list[float] = []
    with httpx.Client(base_url=thread.base_url, timeout=30) as client:
        for index in range(args.kiosks):
            credential = service.credentials.add(f"HALL-{index // 50 + 1:02d}-{index % 50 + 1:02d}")
            if index % 25 == 24:
                continue  # listed, never heard from
            # One in ten beat 40 s before the page is read (amber), one in twenty 70 s before (red).
            clock.current = start - timedelta(seconds=70 if index % 20 == 3 else 40 if index % 10 == 5 else 0)
            began = time.perf_counter()
            answer = client.post("/v1/kiosk/heartbeat", json=beat(index), headers={"Authorization": f"Bearer {credential}"})
            beats.append(time.perf_counter() - began)
            assert answer.status_code == 200, answer.text
    clock.current = start + timedelta(seconds=5)
    service.operators.add("bench", PASSWORD)
    with httpx.Client(base_url=thread.base_url, timeout=30) as client:
        form = client.get("/console/sign-in")
        token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        signed = client.post("/console/sign-in", data={"csrf": token, "operator_id": "bench", "password": PASSWORD})
        assert signed.status_code == 303, signed.text[:300]
        session = client.cookies.get("ecard_console")
        driver = None
        if not args.no_browser:
            driver = browser()
            stack.callback(driver.quit)
            driver.get(thread.base_url + "/console/sign-in")
            driver.add_cookie({"name": "ecard_console", "value": session, "path": "/console"})
        page, fragment, loaded = [], [], []
        size = 0
        for round_ in range(args.rounds + 3):
            began = time.perf_counter()
            answer = client.get("/console")
            middle = time.perf_counter()
            client.get("/console/fleet")
            ended = time.perf_counter()
            size = len(answer.content)
            assert answer.text.count('class="kiosk ') == args.kiosks, "not every kiosk listed"
            load = None
            if driver is not None:
                driver.get(thread.base_url + "/console")
                load = driver.execute_script("var n=performance.getEntriesByType('navigation')[0];"
                                             "return n.loadEventEnd - n.startTime") / 1000
            if round_ >= 3:
                page.append(middle - began)
                fragment.append(ended - middle)
                if load is not None:
                    loaded.append(load)
        colours = {c: answer.text.count(f'data-state="{c}"') for c in ("green", "amber", "red")}
    print(f"{args.kiosks} kiosks ({', '.join(f'{k} {v}' for k, v in colours.items())}), page {size / 1024:.0f} KiB, "
          f"{args.rounds} rounds")
    print(line("fleet page", page))
    print(line("refresh", fragment))
    if loaded:
        print(line("chromium", loaded))
    print(line("heartbeat", beats))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    print("console page load (machine shared: figures are wall-clock under whatever else runs)")
    for backend in args.backends:
        with ExitStack() as stack:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kiosk-bench-console-")))
            if backend == "postgresql":
                from tests.postgres_server import PostgresServer

                progress("starting a private PostgreSQL server")
                url = stack.enter_context(PostgresServer()).create_database("console_bench")
            else:
                url = f"sqlite:///{folder / 'registry.sqlite3'}"
            print(f"{backend}:")
            measure(url, args, folder, stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
