#!/usr/bin/env python3
"""Runs the whole happy journey through the kiosk's automation interface (JSON lines), as a tester's script would.

    .venv/bin/python examples/automation_journey.py                   # the checkout's kiosk.py
    python3 automation_journey.py --kiosk ecard-kiosk                 # an installed kiosk

It starts `kiosk.py automate` (or the command given with --kiosk) with a throwaway data
directory (fresh demo data), inserts 张伟's virtual card, enters the PIN and his daughter's ID
number, registers her e-card, plays the guardian's phone with the code on screen, and takes the
card out again, printing each step. Exit status 0 when the kiosk went where it should at every
step, 1 otherwise. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

KIOSK = Path(__file__).resolve().parent.parent / "kiosk.py"
"""The checkout's launcher, next to this folder (the default kiosk to drive)."""
PROFILE = "zhang-wei-3.00"
PIN = "123456"
CHILD = "430102201906010029"  # 张小雨, 7: eligible


class JourneyFailed(Exception):
    """The kiosk answered something the journey did not expect."""


class AutomationClient:
    """Talks to `kiosk.py automate`: one command line out, its answer's lines back (the last has "last": true)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.next_id = 1

    def send(self, cmd: str, **fields: object) -> list[dict]:
        """Send one command; returns every message of its answer."""
        request = {"cmd": cmd, "id": self.next_id, **fields}
        self.next_id += 1
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = []
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise JourneyFailed(f"the kiosk ended while answering {cmd}")
            message = json.loads(line)
            if message.get("id") != request["id"]:
                raise JourneyFailed(f"{cmd}: an answer to another command: {line.strip()}")
            answer.append(message)
            if message.get("last"):
                return answer

    def expect(self, cmd: str, step: str, **fields: object) -> dict:
        """Send one command and check the kiosk ends up at `step`; returns the final STATE."""
        final = self.send(cmd, **fields)[-1]
        if final["msg"] == "ERROR":
            raise JourneyFailed(f"{cmd}: {final['error']}: {final['text']}")
        if final["step"] != step:
            raise JourneyFailed(f"{cmd}: expected step {step}, the kiosk is at {final['step']} "
                                f"(error {final['error']}, notice {final['notice']})")
        return final


def journey(kiosk: AutomationClient) -> None:
    info = kiosk.send("GET_INFO")[-1]
    print(f"kiosk {info['kiosk_id']}, version {info['version']}, reader {info['reader']}, "
          f"{len(info['profiles'])} virtual cards")
    kiosk.expect("START", "insert_card")
    print("welcome -> insert card")
    state = kiosk.expect("INSERT_CARD", "holder", profile=PROFILE)
    holder = state["holder"]
    print(f"card read: {holder['name']} {holder['resident_id']}, card {holder['card_number']} ({holder['spec_version']})")
    state = kiosk.expect("CONFIRM_HOLDER", "pin")
    print(f"holder confirmed; PIN tries left: {state['pin_tries_left']}")
    kiosk.expect("ENTER_PIN", "child_id", pin=PIN)
    print("PIN accepted")
    state = kiosk.expect("ENTER_CHILD", "child_confirm", child_id=CHILD)
    child = state["child"]
    print(f"child found: {child['name']} {child['resident_id']}, age {child['age']}")
    state = kiosk.expect("CONFIRM_CHILD", "eligible")
    print(f"decision: eligible={state['decision']['eligible']}")
    state = kiosk.expect("REGISTER", "activation")
    ticket = state["ticket"]
    print(f"registered; QR code {ticket['url']}\n  code {ticket['user_code']}, valid until {ticket['expires_at']}")
    kiosk.expect("ACTIVATE", "activated")
    print("the guardian's phone activated the e-card")
    kiosk.expect("FINISH", "take_card")
    print("finished: take your card")
    kiosk.expect("REMOVE_CARD", "welcome")
    print("card taken out: welcome screen")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The happy journey through the kiosk's automation interface.")
    parser.add_argument("--kiosk", metavar="COMMAND", default=None,
                        help='how to start the kiosk, e.g. "ecard-kiosk" (default: this checkout\'s kiosk.py)')
    args = parser.parse_args(argv)
    kiosk = shlex.split(args.kiosk) if args.kiosk else [sys.executable, str(KIOSK)]
    with tempfile.TemporaryDirectory(prefix="kiosk-journey-") as data_dir:
        env = {**os.environ, "KIOSK_DATA_DIR": data_dir}
        process = subprocess.Popen(
            [*kiosk, "automate"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8", env=env,
        )
        try:
            journey(AutomationClient(process))
        except (JourneyFailed, json.JSONDecodeError, OSError) as exc:
            print(f"journey failed: {exc}", file=sys.stderr)
            process.kill()
            process.wait()
            return 1
        assert process.stdin is not None
        process.stdin.close()  # end of input: the kiosk finishes and exits
        status = process.wait(timeout=30)
    if status != 0:
        print(f"journey failed: the kiosk exited with status {status}", file=sys.stderr)
        return 1
    print("journey complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
