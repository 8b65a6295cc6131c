"""Provides the seeded automation fuzzer: malformed lines (broken JSON, wrong types, NaN, huge numbers, lone surrogates,
deep nesting, bytes that are not UTF-8, ID numbers where names belong) fed to `kiosk.py automate` through real pipes;
every answer must be strict JSON, masked, and the process alive and answering at the end.

    .venv/bin/python -m tests.fuzz.automation_fuzzer --lines 2000
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.automation import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
RESIDENT_ID = "430102198803150016"
MASKED_ID = "4301**********0016"
_FIELDS = ("cmd", "id", "pin", "child_id", "profile", "lang", "index", "seconds", "code")


def _value(rng: random.Random, depth: int = 0) -> object:
    """A JSON-ish value, often one the interface must refuse."""
    choice = rng.randrange(16)
    if choice == 0:
        return rng.randint(-2**70, 2**70)
    if choice == 1:
        return rng.choice([0.5, -1e308, 1.7e308, 3.14, -0.0])
    if choice == 2:
        return rng.choice(["", "zh", "en", "123456", RESIDENT_ID, "张伟", "\x1b[2J", "a\u2028b", "x" * 300])
    if choice == 3:
        return rng.choice([True, False, None])
    if choice == 4 and depth < 3:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if choice == 5 and depth < 3:
        return {rng.choice(_FIELDS): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}
    if choice == 6:
        return rng.choice(COMMANDS)
    if choice == 7:
        return "".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 12)))
    return rng.choice(["GET_STATE", 7, "START", -1, 10**6, RESIDENT_ID, "profile"])


def _raw_number(rng: random.Random) -> str:
    """A number JSON may spell but no double holds, or a constant JSON lacks."""
    return rng.choice(["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "1" + "0" * rng.randint(309, 420),
                       "9" * rng.randint(4301, 6000), "2e308"])


def malformed_line(rng: random.Random) -> bytes:
    """One input line the interface has to answer with an ERROR (or, by chance, a STATE): never a blank line."""
    kind = rng.randrange(12)
    if kind == 0:  # random bytes, often not UTF-8
        raw = bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 60)))
    elif kind == 1:  # a command cut short
        text = json.dumps({"cmd": rng.choice(COMMANDS), "id": rng.randint(0, 99), "pin": "123456"})
        raw = text[:rng.randint(1, len(text) - 1)].encode()
    elif kind == 2:  # NaN, Infinity, numbers out of range, in any field
        raw = ('{"cmd":"%s","%s":%s,"id":%d}' % (rng.choice(COMMANDS), rng.choice(_FIELDS[1:]), _raw_number(rng),
                                               rng.randint(0, 99))).encode()
    elif kind == 3:  # lone surrogates, escaped
        surrogate = "\\u%04x" % rng.randint(0xD800, 0xDFFF)
        raw = ('{"cmd":"GET_STATE","%s":"a%sb"}' % (rng.choice(_FIELDS[1:]), surrogate)).encode()
    elif kind == 4:  # deep nesting
        depth = rng.randint(500, 100_000)
        raw = ('{"cmd":"GET_STATE","id":' + "[" * depth + "]" * depth + "}").encode()
    elif kind == 5:  # wrong types for known fields
        raw = json.dumps({"cmd": rng.choice(COMMANDS), **{rng.choice(_FIELDS[1:]): _value(rng) for _ in range(3)}},
                         ensure_ascii=rng.random() < 0.5).encode()
    elif kind == 6:  # personal data where a command name or a profile belongs (must come back masked)
        raw = json.dumps({"cmd": rng.choice([RESIDENT_ID, f"x{RESIDENT_ID}", "INSERT_CARD"]), "profile": RESIDENT_ID,
                          "id": rng.randint(0, 99)}).encode()
    elif kind == 7:  # JSON that is no object
        raw = json.dumps(_value(rng)).encode()
    elif kind == 8:  # random JSON objects
        raw = json.dumps({rng.choice(_FIELDS): _value(rng) for _ in range(rng.randint(0, 5))}).encode()
    elif kind == 9:  # control characters, BOMs, line separators inside
        raw = rng.choice([b"\xef\xbb\xbf{\"cmd\":\"GET_STATE\"}", b"{\"cmd\":\"GET\x00STATE\"}", b"\x1b[2J{}",
                          '{"cmd":"\u2028GET_STATE"}'.encode(), b"{\"cmd\":\"GET_STATE\"}\r", b"\x7f\x7f"])
    elif kind == 10:  # a huge string
        raw = json.dumps({"cmd": "INSERT_CARD", "profile": "p" * rng.randint(1000, 200_000)}).encode()
    else:  # garbage text
        raw = "".join(rng.choice('{}[]":,0123456789abcdeEtrufalsn\\ ') for _ in range(rng.randint(1, 40))).encode()
    raw = raw.replace(b"\n", b" ")
    return raw if raw.strip() else b"?"


def strict_json(line: bytes) -> dict:
    """A line read as a strict JSON reader reads it (UTF-8, no NaN or Infinity, no lone surrogates); raises if it is not."""
    text = line.decode("utf-8")

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is no JSON")

    message = json.loads(text, parse_constant=refuse)
    json.dumps(message, ensure_ascii=False).encode("utf-8")
    if not isinstance(message, dict) or "msg" not in message:
        raise ValueError("not a message")
    return message


@dataclass
class AutomationFigures:
    """What a run found."""

    lines: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    broken: list[str] = field(default_factory=list)
    alive_at_the_end: bool = False
    exit_status: int | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        answers = ", ".join(f"{name} {count}" for name, count in sorted(self.answers.items(), key=lambda i: -i[1]))
        return (f"automation fuzz: {self.lines} malformed lines in {self.seconds:.1f} s; answers: {answers}; "
                f"broken {len(self.broken)}; alive and answering at the end: {self.alive_at_the_end}; "
                f"exit status {self.exit_status}")


def run(lines: int, seed: int, data_dir: Path) -> AutomationFigures:
    """Feed `lines` malformed lines to one `kiosk.py automate --manual-clock`, one at a time, reading each answer."""
    rng = random.Random(seed)
    figures = AutomationFigures()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ["KIOSK_DATA_DIR"] = str(data_dir)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(ROOT / "kiosk.py"), "automate", "--manual-clock"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environ)
    assert process.stdin is not None and process.stdout is not None
    try:
        for number in range(lines):
            line = malformed_line(rng)
            process.stdin.write(line + b"\n")
            process.stdin.flush()
            figures.lines += 1
            if not _read_answer(process, number, line, figures):
                return figures
        process.stdin.write(b'{"cmd":"GET_STATE","id":"end"}\n')
        process.stdin.flush()
        final = _read_answer(process, lines, b"GET_STATE", figures)
        figures.alive_at_the_end = bool(final) and final.get("msg") == "STATE" and final.get("id") == "end"
        process.stdin.close()
        figures.exit_status = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        figures.seconds = time.perf_counter() - started
    return figures


def _read_answer(process: subprocess.Popen, number: int, sent: bytes, figures: AutomationFigures) -> dict | None:
    """Read lines up to the one with "last": true; note what is broken. Returns the last message, None if the process died."""
    assert process.stdout is not None
    while True:
        raw = process.stdout.readline()
        if not raw:
            figures.broken.append(f"line {number}: the process ended (status {process.poll()}) after {sent[:80]!r}")
            return None
        try:
            message = strict_json(raw.rstrip(b"\n"))
        except (ValueError, UnicodeDecodeError) as exc:
            figures.broken.append(f"line {number}: answer {raw[:120]!r} is not strict JSON ({exc})")
            continue
        if RESIDENT_ID in raw.decode("utf-8"):
            figures.broken.append(f"line {number}: the ID number came back unmasked: {raw[:120]!r}")
        if message.get("last"):
            name = message.get("error") or message["msg"]
            figures.answers[name] = figures.answers.get(name, 0) + 1
            if name == "INTERNAL":
                figures.broken.append(f"line {number}: INTERNAL for {sent[:80]!r}")
            return message


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.automation_fuzzer", description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data_dir:
        figures = run(args.lines, args.seed, Path(data_dir))
    print(figures.summary())
    for line in figures.broken[:20]:
        print("  BROKEN", line)
    return 1 if figures.broken or not figures.alive_at_the_end else 0


if __name__ == "__main__":
    sys.exit(main())
