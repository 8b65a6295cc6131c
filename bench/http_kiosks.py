"""Provides the lean simulated kiosks: one asyncio process (uvloop) of raw HTTP/1.1 keep-alive connections, each
kiosk sending the requests its HTTP adapter (ServiceRegistry) and its guardian's phone send."""
from __future__ import annotations

# The httpx kiosks (bench/load.py, --client httpx) cost ~8 ms of CPU per registration, spent on the same
# two cores the service and PostgreSQL need: the benchmark then measures its own clients as much as the
# service. These kiosks send the same routes, headers, Idempotency-Key and JSON bodies over one keep-alive
# connection per kiosk (and one per guardian's phone, as the adapter's and the phone's two httpx clients),
# written by hand and read with asyncio's streams: a fraction of the CPU per request.
#
# What counts is the same as in bench/load.py: a registration counts when the poll after the phone's
# activation says activated; a kiosk route answering other than 2xx, a broken connection or an answer that
# is not the API's is an error (the adapter raises then), the phone's refusals are outcomes.

import asyncio
import json
import threading
import time
from datetime import date

from bench.load import Done, Plan

_HEAD_END = b"\r\n\r\n"


class AnswerError(Exception):
    """The service's answer was not what the adapter would take (status, or not the API's JSON)."""


class Connection:
    """One keep-alive HTTP/1.1 connection to the service, one request at a time (as one httpx connection)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self._host, self._port = host, port
        fixed = {"Host": f"{host}:{port}", "Accept": "application/json", **headers}
        self._fixed = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, object]:
        """Send one request and read its answer: (status, the JSON body parsed)."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        # ASCII JSON, as the adapter sends (kiosk.registry.service_client._call).
        content = b"" if body is None else json.dumps(body).encode("ascii")
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        if body is not None:
            extra += f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n"
        self._writer.write(f"{method} {path} HTTP/1.1\r\n{self._fixed}{extra}\r\n".encode("ascii") + content)
        try:
            head = await self._reader.readuntil(_HEAD_END)
            status, length, closes = _parse_head(head)
            payload = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            self.close()
            raise AnswerError(f"{method} {path}: connection lost ({type(exc).__name__})") from None
        if closes:
            self.close()
        try:
            return status, json.loads(payload)
        except ValueError:
            raise AnswerError(f"{method} {path}: HTTP {status}, not JSON") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """(status, Content-Length, whether the server closes) of an answer's head."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, closes = None, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            closes = value.strip().lower() == "close"
        elif name == "transfer-encoding":
            raise AnswerError(f"HTTP {status}: chunked answer (the service's answers have a length)")
    if length is None:
        raise AnswerError(f"HTTP {status}: no Content-Length")
    return status, length, closes


def _kiosk_answer(status: int, body: object, route: str) -> dict:
    """A kiosk route's answer as the adapter takes it: 2xx and a JSON object, else an error."""
    if not 200 <= status < 300 or not isinstance(body, dict):
        code = body.get("code", "") if isinstance(body, dict) else ""
        raise AnswerError(f"{route}: HTTP {status} {code}".strip())
    return body


def client_process(plan: Plan, ready, go, stop, results) -> None:
    """The body of the lean client process: its kiosks as asyncio tasks, from `go` to `stop` (multiprocessing Events)."""
    try:
        import uvloop
    except ImportError:  # the service's extra is missing: asyncio's own loop (more CPU per request)
        results.put(asyncio.run(_kiosks(plan, ready, go, stop)))
        return
    results.put(uvloop.run(_kiosks(plan, ready, go, stop)))


async def _kiosks(plan: Plan, ready, go, stop) -> Done:
    from bench.registry_fill import Shape, card_number, child_rid, guardian_rid

    host, _, port_text = plan.base.removeprefix("http://").partition(":")
    port = int(port_text or 80)
    shape = Shape(plan.people)
    done = Done()
    series = iter(range(plan.first_child, plan.last_child, plan.child_step))
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    # multiprocessing Events block: one thread each waits for them and tells the loop.
    threading.Thread(target=lambda: (stop.wait(), loop.call_soon_threadsafe(stopping.set)), daemon=True).start()

    async def kiosk(credential: str) -> None:
        port_ = Connection(host, port, {"Authorization": f"Bearer {credential}"})
        phone = Connection(host, port, {})
        try:
            while not stopping.is_set():
                child = next(series, None)
                if child is None:
                    done.ran_out = True
                    return
                done.children_used += 1
                guardian = child % shape.guardians
                holder, child_id = guardian_rid(guardian), child_rid(child)
                card = {"card_number": card_number(guardian), "spec_version": "3.00",
                        "expiry_date": date(2035, 1, 1).isoformat(), "holder_resident_id": holder,
                        "pin_verified": True}
                try:
                    t0 = time.monotonic()
                    _kiosk_answer(*await port_.request("POST", "/v1/kiosk/child-facts",
                                                       {"guardian_rid": holder, "child_rid": child_id}), "child-facts")
                    t1 = time.monotonic()
                    answer = _kiosk_answer(*await port_.request(
                        "POST", "/v1/kiosk/registrations", {"card": card, "child_rid": child_id},
                        {"Idempotency-Key": f"bench-{child:07d}"}), "registrations")
                    t2 = time.monotonic()
                    done.outcomes.setdefault(answer["outcome"], []).append(t2)
                    ticket = answer.get("ticket")
                    if ticket is None:
                        continue
                    poll = f"/v1/kiosk/tickets/{int(ticket['ticket_id'])}/poll"
                    _kiosk_answer(*await port_.request("GET", poll), "poll")
                    t3 = time.monotonic()
                    status, activated = await phone.request(
                        "POST", "/v1/phone/activations", {"presented": ticket["url"], "phone_user_rid": holder})
                    if not isinstance(activated, dict) or "outcome" not in activated:
                        raise AnswerError(f"/v1/phone/activations: HTTP {status}, not the API's answer")
                    t4 = time.monotonic()
                    state = _kiosk_answer(*await port_.request("GET", poll), "poll")["state"]
                    t5 = time.monotonic()
                    outcome = activated["outcome"]
                    key = "activated" if outcome == "activated" and state == "activated" else f"activation {outcome}/{state}"
                    done.outcomes.setdefault(key, []).append(t5)
                    if key == "activated":
                        done.finished.append((t5, t5 - t0, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)))
                except (AnswerError, OSError, KeyError, TypeError, ValueError) as exc:
                    done.errors.append((time.monotonic(), f"{type(exc).__name__}: {exc}"[:200]))
        finally:
            port_.close()
            phone.close()

    ready.set()
    await loop.run_in_executor(None, go.wait)
    await asyncio.gather(*(kiosk(c) for c in plan.credentials))
    # Out of children before the window ended: wait for stop all the same. A process that left while its
    # thread waited on the stop Event would hang the parent's stop.set() (a multiprocessing Condition counts
    # its sleepers, and a dead one never wakes).
    await stopping.wait()
    return done
