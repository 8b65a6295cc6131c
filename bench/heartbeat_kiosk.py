"""Provides `python -m bench.heartbeat_kiosk`: what one heartbeat costs the kiosk (CPU of the thread that sends it)."""
from __future__ import annotations

# A kiosk (build_kiosk, simulated reader) whose registry is the registry service on SQLite, served by uvicorn in a
# thread of this process at 127.0.0.1. The kiosk's heartbeat thread's own CPU (time.thread_time: building the
# report from the session, JSON, httpx, reading and applying the answer; not the server's threads) and wall time per
# beat, over --beats beats after --warmup; and the report alone. Printed; no timing is asserted anywhere.

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.heartbeat_kiosk", description=__doc__.splitlines()[0])
    parser.add_argument("--beats", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)

    from ecard_kiosk import build_kiosk
    from kiosk.registry.database import Database
    from kiosk.registry.schema import upgrade
    from kiosk.settings import load_settings
    from registry_service.app import create_app
    from registry_service.service import Service
    from registry_service.settings import load_service_settings
    from tests.service.uvicorn_thread import ServiceThread

    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as folder:
        root = Path(folder)
        url = f"sqlite:///{root / 'registry.sqlite3'}"
        database = Database.open(url)
        upgrade(database)
        database.dispose()
        service_settings = load_service_settings(environ={}, overrides={"database_url": url, "data_dir": str(root),
                                                                        "port": 0})
        service = Service.open(service_settings)
        thread = ServiceThread(create_app(service_settings, service=service)).start()
        credential_file = root / "kiosk.credential"
        credential_file.write_text(service.credentials.add("BENCH-1") + "\n", encoding="ascii")
        settings = load_settings(environ={}, overrides={
            "registry": thread.base_url, "registry_credential_file": str(credential_file),
            "data_dir": str(root / "kiosk"), "voice_prompts": "off"}).settings
        kiosk = build_kiosk(settings)
        sender = kiosk.heartbeat
        assert sender is not None
        results: dict[str, list[float]] = {"cpu": [], "wall": [], "report_cpu": []}

        def run() -> None:  # one thread, as the kiosk's heartbeat thread
            for index in range(args.warmup + args.beats):
                cpu, wall = time.thread_time(), time.perf_counter()
                if not sender.beat():
                    raise SystemExit("a heartbeat failed")
                cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
                report_cpu = time.thread_time()
                sender.report()
                report_cpu = time.thread_time() - report_cpu
                if index >= args.warmup:
                    results["cpu"].append(cpu)
                    results["wall"].append(wall)
                    results["report_cpu"].append(report_cpu)

        try:
            worker = threading.Thread(target=run, name="heartbeat-bench")
            worker.start()
            worker.join()
        finally:
            kiosk.close_registry()
            thread.stop()
            service.close()

    def ms(samples: list[float], q: float | None = None) -> str:
        if q is None:
            return f"{statistics.median(samples) * 1000:.2f}"
        return f"{sorted(samples)[max(0, int(len(samples) * q) - 1)] * 1000:.2f}"

    cpu = results["cpu"]
    interval = settings.heartbeat_seconds
    print(f"heartbeat on the kiosk, {len(cpu)} beats to the service on 127.0.0.1 (SQLite):")
    print(f"  CPU of the sending thread per beat: median {ms(cpu)} ms, p95 {ms(cpu, 0.95)} ms"
          f"  -> {statistics.median(cpu) / interval * 100:.3f} % of one core at one beat per {interval} s")
    print(f"  report alone (state, counts, JSON-ready dict): median {ms(results['report_cpu'])} ms CPU")
    print(f"  wall per beat (answer included, server in this process): median {ms(results['wall'])} ms, "
          f"p95 {ms(results['wall'], 0.95)} ms")
    print("  (a shared machine: other processes' load is in the wall times, less so in the thread CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
