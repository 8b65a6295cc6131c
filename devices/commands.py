"""Provides the card commands for testers and technicians: serve a virtual card to vpcd, read a card, list and watch readers."""
from __future__ import annotations

import contextlib
import getpass
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, TextIO

from kiosk.domain import GuardianCard, PinResult
from kiosk.errors import KioskError
from kiosk.masking import mask_card_number, mask_id, mask_name
from kiosk.optional import OptionalPartMissing, optional_part

Print = Callable[[str], None]


class CommandError(Exception):
    """A command that cannot do what was asked; the message is one line for the terminal."""


@contextlib.contextmanager
def _needs_pcsc(feature: str) -> Iterator[None]:
    """The PC/SC commands import pyscard (through devices.pcsc) here: without it, one line saying what to install."""
    try:
        with optional_part(feature):
            yield
    except OptionalPartMissing as exc:
        raise CommandError(str(exc)) from None


def _error_line(exc: KioskError) -> str:
    entry = exc.entry
    detail = f" ({exc.detail})" if exc.detail else ""
    return f"{exc.code}: {entry.text.en} {entry.next_step.en}{detail}"


# ----------------------------------------------------------------------------- card serve
def serve_card(profiles_dir: Path, profile_name: str, slot: int, out: Print, stop: threading.Event) -> None:
    """Put the virtual card (or PSAM) of `profile_name` into vpcd slot `slot` until `stop` is set.

    Raises:
        CommandError: unknown profile, bad slot.
    """
    from devices.profiles import load_profiles, psam_master_key
    from devices.virtual_card import virtual_device
    from devices.vpcd import VpcdCardServer, slot_port

    try:
        profiles = load_profiles(profiles_dir)
    except (ValueError, OSError) as exc:
        raise CommandError(str(exc)) from None
    profile = profiles.get(profile_name)
    if profile is None:
        raise CommandError(f"no card profile {profile_name!r}; profiles: {', '.join(sorted(profiles))}")
    if not 0 <= slot <= 9:
        raise CommandError("--slot must be 0..9")
    responder = virtual_device(profile, psam_master_key(profiles))
    port = slot_port(slot)
    server = VpcdCardServer(responder, port=port)
    server.start()
    out(f"{profile_name} ({profile.label.en}) waits in vpcd slot {slot} (127.0.0.1:{port}); Ctrl+C removes it.")
    connected = False
    try:
        while not stop.is_set():
            now_connected = server.wait_connected(timeout=0.5)
            if now_connected != connected:
                connected = now_connected
                out(f"{_stamp()} {'inserted: vpcd connected' if connected else 'waiting for vpcd (is pcscd running? is the slot free?)'}")
    finally:
        server.stop()
        out(f"{_stamp()} removed: {profile_name} left slot {slot}")


# ----------------------------------------------------------------------------- card read
@dataclass
class CardReadReport:
    """What `card read` found, ready to print or dump as JSON."""

    reader: str
    card: GuardianCard
    seconds: float
    pin: PinResult | None
    unmasked: bool

    def as_dict(self) -> dict[str, object]:
        issuer, holder = self.card.issuer, self.card.holder
        show_name = (lambda v: v) if self.unmasked else mask_name
        show_id = (lambda v: v) if self.unmasked else mask_id
        show_number = (lambda v: v) if self.unmasked else mask_card_number
        return {
            "reader": self.reader,
            "atr": self.card.atr.hex(" ").upper(),
            "spec_version": issuer.spec_version,
            "issuer": {
                "card_number": show_number(issuer.card_number),
                "card_type": issuer.card_type,
                "area_code": issuer.area_code,
                "init_org": issuer.init_org,
                "issue_date": issuer.issue_date.isoformat() if issuer.issue_date else None,
                "expiry_date": issuer.expiry_date.isoformat() if issuer.expiry_date else None,
            },
            "holder": None if holder is None else {
                "name": show_name(holder.name),
                "resident_id": show_id(holder.resident_id),
                "sex": holder.sex,
                "nation": holder.nation,
                "birthplace": holder.birthplace,
                "birth_date": holder.birth_date.isoformat() if holder.birth_date else None,
            },
            "holder_note": None if holder is not None else "third-generation card: holder data needs a PSAM",
            "apdus": self.card.apdu_count,
            "milliseconds": round(self.seconds * 1000, 1),
            "pin": None if self.pin is None else {"status": self.pin.status.value, "tries_left": self.pin.tries_left},
        }

    def as_text(self) -> str:
        data = self.as_dict()
        lines = [
            f"reader        {data['reader']}",
            f"ATR           {data['atr']}",
            f"version       {data['spec_version']}",
        ]
        lines += [f"{key:<14}{value}" for key, value in data["issuer"].items()]  # type: ignore[union-attr]
        if data["holder"]:
            lines += [f"{key:<14}{value}" for key, value in data["holder"].items()]  # type: ignore[union-attr]
        else:
            lines.append(f"holder        ({data['holder_note']})")
        lines.append(f"read          {data['apdus']} APDUs in {data['milliseconds']} ms")
        if data["pin"]:
            pin = data["pin"]
            lines.append(f"PIN           {pin['status']}" + (f", {pin['tries_left']} tries left" if pin["tries_left"] is not None else ""))  # type: ignore[index]
        return "\n".join(lines)


def read_card(reader_name: str, psam_reader: str, protocol: str, ask_pin: bool, unmasked: bool,
              prompt: Callable[[str], str] = getpass.getpass) -> CardReadReport:
    """Read the card in a PC/SC reader (and verify a PIN typed on the terminal when asked).

    Raises:
        CommandError: any catalogued failure, as one line.
    """
    with _needs_pcsc("card read"):
        from devices.pcsc import PcscReader
    from devices.psam import psam_key_holder_factory
    from devices.service import ReaderCardService

    reader = PcscReader(reader_name, exclude_pattern=psam_reader, protocol=protocol, exclusive=True)
    key_holder = psam_key_holder_factory(PcscReader(psam_reader, protocol=protocol, exclusive=False)) if psam_reader else (lambda: None)
    service = ReaderCardService(reader, key_holder)
    try:
        started = time.perf_counter()
        card = service.read_card()
        seconds = time.perf_counter() - started
        pin = service.verify_pin(prompt("Card PIN: ")) if ask_pin else None
        return CardReadReport(reader.resolved_name or reader_name, card, seconds, pin, unmasked)
    except KioskError as exc:
        raise CommandError(_error_line(exc)) from None
    finally:
        service.release()


# ----------------------------------------------------------------------------- readers
def list_readers_text() -> str:
    """The readers, numbered, with card presence and ATR (like pcsc_scan's first screen)."""
    with _needs_pcsc("readers"):
        from devices.pcsc import list_readers

    try:
        readers = list_readers()
    except KioskError as exc:
        raise CommandError(_error_line(exc)) from None
    if not readers:
        return "no readers"
    lines = []
    for number, status in enumerate(readers):
        lines.append(f"{number}: {status.name}  ({_atr_text(status.atr if status.card_present else None)})")
    return "\n".join(lines)


def watch_readers(out: Print, stop: threading.Event, interval: float = 0.25) -> None:
    """Print timestamped reader attach/detach and card insert/remove events until `stop` is set."""
    with _needs_pcsc("readers --watch"):
        from devices.pcsc import list_readers

    previous: dict[str, bytes | None] | None = None
    service_up: bool | None = None
    while not stop.is_set():
        try:
            current = {s.name: (s.atr if s.card_present else None) for s in list_readers()}
            if service_up is False:
                out(f"{_stamp()} PC/SC service is back")
            service_up = True
        except KioskError as exc:
            if service_up is not False:
                out(f"{_stamp()} PC/SC service unavailable: {exc.detail or exc.code}")
            service_up, current = False, {}
        if previous is None:
            for name, atr in current.items():
                out(f"{_stamp()} reader {name}: {_atr_text(atr)}")
        else:
            for name in current.keys() - previous.keys():
                out(f"{_stamp()} reader attached: {name}")
            for name in previous.keys() - current.keys():
                out(f"{_stamp()} reader detached: {name}")
            for name in current.keys() & previous.keys():
                before, now = previous[name], current[name]
                if before is None and now is not None:
                    out(f"{_stamp()} card inserted in {name}: {_atr_text(now)}")
                elif before is not None and now is None:
                    out(f"{_stamp()} card removed from {name}")
            for name in current.keys() - previous.keys():
                if current[name] is not None:
                    out(f"{_stamp()} card inserted in {name}: {_atr_text(current[name])}")
        previous = current
        stop.wait(interval)


def dump_json(data: object, stream: TextIO) -> None:
    json.dump(data, stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def _atr_text(atr: bytes | None) -> str:
    if atr is None:
        return "no card"
    return f"card present, ATR {atr.hex(' ').upper()}" if atr else "card present, mute (no ATR)"


def _stamp() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]
