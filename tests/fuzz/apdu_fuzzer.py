"""Provides the seeded APDU fuzzer: virtual cards whose answers are mutated (status words, data cut or extended, wrong
tags and TLV lengths, bad BCD and GBK, endless 61xx, 6Cxx on every command), read and PIN-checked by the kiosk's own
card service, every outcome checked against what the card's answers contain.

    .venv/bin/python -m tests.fuzz.apdu_fuzzer --cases 10000     # the full run's figures (KIOSK_FUZZ_FULL=1 in pytest)
"""
from __future__ import annotations

import argparse
import collections
import concurrent.futures
import random
import sys
import time
from dataclasses import dataclass, field

from devices.apdu import PIN_APDU_LIMIT, READ_APDU_LIMIT
from devices.profiles import CardProfile, load_profiles, psam_master_key
from devices.psam import VirtualPsam, psam_key_holder_factory
from devices.service import ReaderCardService
from devices.simulated import SimulatedReader
from devices.virtual_card import VirtualCard
from kiosk import CONFIG_DIR
from kiosk.domain import GuardianCard, PinStatus
from kiosk.errors import KioskError
from tests.odd_cards import ODD_CARDS, RewritingCard, relaid

PROFILES = ("li-na-2.00", "zhang-wei-3.00", "yang-lei-last-try", "wang-fang-expired")
"""Demo cards the fuzzer starts from (2.00 and 3.00, T=0 and T=1, one try left); none has a name extension, so an
answer 6A83 to item 4E leaves the name as the profile has it."""
HANG_APDUS = 2000
"""A case that sends this many APDUs is a hang (main sent 616,137 in 5 s): the card then stops answering."""
CASE_SECONDS = 20.0
"""A case still running after this long is a hang too (a loop that sends nothing)."""
_CN_TAGS = (0x04, 0x05, 0x06, 0x0B, 0x0C, 0x0D)
_AN_TAGS = (0x02, 0x03, 0x07, 0x08, 0x09, 0x0A)
_STATUS_WORDS = (0x9000, 0x6282, 0x6300, 0x63C0, 0x63C1, 0x63C2, 0x6700, 0x6982, 0x6983, 0x6985, 0x6A82, 0x6A83,
                 0x6A86, 0x6D00, 0x6E00, 0x6F00, 0x6100, 0x6101, 0x6110, 0x6C00, 0x6C01, 0x6C20, 0x9100, 0x0000)


class HangError(Exception):
    """The kiosk kept talking to a card past HANG_APDUS."""


@dataclass
class Mutation:
    """One way the card's answers go wrong: `kind`, on which answers (`at` an APDU index, or `ins`/`tag` for every
    matching command), once or always, with a kind-specific `amount`."""

    kind: str
    at: int | None = None
    ins: int | None = None
    tag: int | None = None
    always: bool = False
    amount: int = 1
    fired: int = 0

    def matches(self, index: int, command: bytes) -> bool:
        if not self.always and self.fired:
            return False
        if self.at is not None:
            return index == self.at if not self.always else index >= self.at
        if self.ins is not None and command[1] != self.ins:
            return False
        return self.tag is None or (command[1] == 0xB2 and command[2] == self.tag)


@dataclass
class Case:
    """One fuzz case: the card it starts from, how it is laid out, its mutations and the PIN typed."""

    number: int
    profile: str
    oddity: str
    mutations: list[Mutation]
    pin: str

    def describe(self) -> str:
        shown = ", ".join(f"{m.kind}(at={m.at}, ins={m.ins}, tag={m.tag}, always={m.always}, amount={m.amount})"
                          for m in self.mutations)
        return f"case {self.number}: {self.profile} [{self.oddity}] PIN {self.pin}: {shown}"


def make_case(rng: random.Random, number: int) -> Case:
    """A random case, all of it from `rng` (so the seed and number say it all)."""
    kinds = ["sw", "sw_sequence", "truncate", "extend", "empty", "tag", "tlv_longer", "tlv_shorter", "bcd", "gbk",
             "endless_61", "6c_every", "none"]
    mutations = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        kind = rng.choice(kinds)
        mutation = Mutation(kind, always=rng.random() < 0.4, amount=rng.randint(1, 40))
        target = rng.random()
        if kind in ("bcd",):
            mutation.tag = rng.choice(_CN_TAGS)
        elif kind == "gbk":
            mutation.tag = rng.choice(_AN_TAGS)
        elif kind in ("tag", "tlv_longer", "tlv_shorter") or (kind in ("truncate", "extend", "empty") and target < 0.5):
            mutation.tag = rng.choice(_CN_TAGS + _AN_TAGS + (0x01, 0x4E))
        elif kind == "6c_every":
            mutation.always = True
            mutation.at = 0
        elif target < 0.7:
            mutation.at = rng.randint(0, 48)
        else:
            mutation.ins = rng.choice((0xA4, 0xB2, 0xC0, 0x84, 0x82, 0x20))
        mutations.append(mutation)
    return Case(number, rng.choice(PROFILES), rng.choice(["plain", *ODD_CARDS]), mutations,
                rng.choice(("123456", "123456", "000000")))


class _Mutator:
    """Applies a case's mutations to the inner card's answers (the `rewrite` of a RewritingCard)."""

    def __init__(self, case: Case, rng: random.Random) -> None:
        self.case = case
        self.rng = rng
        self.index = 0
        self.sequence: list[bytes] = []  # answers queued by sw_sequence
        self._asked: bytes | None = None  # the command 6c_every last answered 6Cxx

    def __call__(self, command: bytes, answer: bytes) -> bytes:
        index, self.index = self.index, self.index + 1
        if index >= HANG_APDUS:
            raise HangError(f"{index} APDUs")
        if self.sequence:
            return self.sequence.pop(0)
        for mutation in self.case.mutations:
            if mutation.matches(index, command):
                mutation.fired += 1
                answer = self._apply(mutation, command, answer)
        return answer

    def _apply(self, mutation: Mutation, command: bytes, answer: bytes) -> bytes:
        data, sw = answer[:-2], answer[-2:]
        kind, amount, rng = mutation.kind, mutation.amount, self.rng
        if kind == "sw":
            return data + rng.choice(_STATUS_WORDS).to_bytes(2, "big")
        if kind == "sw_sequence":
            self.sequence = [rng.choice(_STATUS_WORDS).to_bytes(2, "big") for _ in range(rng.randint(1, 6))]
            return rng.choice((b"", data)) + rng.choice(_STATUS_WORDS).to_bytes(2, "big")
        if kind == "endless_61":
            return (b"\xaa" if amount % 2 else b"") + bytes([0x61, amount % 3])
        if kind == "6c_every":
            # The card asks for another Le first; the command sent again gets the real answer.
            if self._asked == command:
                self._asked = None
                return answer
            self._asked = command
            return bytes([0x6C, len(data) & 0xFF if rng.random() < 0.8 else rng.randint(0, 255)])
        if not data and kind not in ("extend",):
            return answer
        if kind == "truncate":
            return data[:max(0, len(data) - amount)] + sw
        if kind == "extend":
            if command[1] in (0xB2, 0xC0) and len(data) >= 2 and len(data) < data[1] + 2:
                # A record answered in part (the ISO way): bytes added here would be value bytes, another value the
                # card then really says. Extended are only whole answers, where the bytes follow the value.
                return answer
            filler = rng.choice((b"\x00", b"\xff", b"\x20", bytes([rng.randint(0, 255)])))
            return data + filler * amount + sw
        if kind == "empty":
            return sw if rng.random() < 0.5 else b"\x90\x00"
        is_record = command[1] in (0xB2, 0xC0) and len(data) >= 2
        if not is_record:
            return answer
        if kind == "tag":
            return bytes([data[0] ^ rng.choice((0x80, 0x01, 0xFF))]) + data[1:] + sw
        if kind == "tlv_longer":
            return bytes([data[0], min(255, data[1] + amount)]) + data[2:] + sw
        if kind == "tlv_shorter":
            return bytes([data[0], max(0, data[1] - amount)]) + data[2:] + sw
        value = bytearray(data[2:2 + data[1]])
        if not value:
            return answer
        position = rng.randrange(len(value))
        if kind == "bcd":
            nibble = rng.randint(0xA, 0xE)
            value[position] = (value[position] & 0x0F) | (nibble << 4) if rng.random() < 0.5 else \
                (value[position] & 0xF0) | nibble
        elif kind == "gbk":
            # FF is no GBK byte at all (0x80 would be a valid trail byte: another character, not a broken one); put
            # inside the text, before its last byte, so that it cannot pass for padding.
            text_end = len(bytes(value).rstrip(b"\x00 \xff"))
            value[rng.randrange(max(1, text_end - 1))] = 0xFF
            if rng.random() < 0.3:
                value[-1] = 0x81  # a lone lead byte at the end of the value
        return data[:2] + bytes(value) + data[2 + data[1]:] + sw


@dataclass
class FuzzFigures:
    """What a run found: outcomes by name, the most APDUs one read took, and every broken promise."""

    cases: int = 0
    reads: collections.Counter = field(default_factory=collections.Counter)
    pins: collections.Counter = field(default_factory=collections.Counter)
    max_read_apdus: int = 0
    max_pin_apdus: int = 0
    uncaught: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    over_budget: list[str] = field(default_factory=list)
    tries_lost: list[str] = field(default_factory=list)
    misreads: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def broken(self) -> list[str]:
        return self.uncaught + self.hangs + self.over_budget + self.tries_lost + self.misreads

    def summary(self) -> str:
        return "\n".join([
            f"APDU fuzz: {self.cases} cases in {self.seconds:.1f} s",
            "  reads: " + ", ".join(f"{name} {count}" for name, count in self.reads.most_common()),
            "  PIN checks: " + ", ".join(f"{name} {count}" for name, count in self.pins.most_common()),
            f"  max APDUs per read {self.max_read_apdus} (limit N = {READ_APDU_LIMIT}), per PIN step "
            f"{self.max_pin_apdus} (limit {PIN_APDU_LIMIT})",
            f"  uncaught exceptions {len(self.uncaught)}, hangs {len(self.hangs)}, over the APDU limit "
            f"{len(self.over_budget)}, PIN tries lost to anything but a wrong PIN {len(self.tries_lost)}, "
            f"reads reporting what the card did not say {len(self.misreads)}",
        ])


class ApduFuzzer:
    """Runs fuzz cases against the demo profiles with the kiosk's ReaderCardService and the virtual PSAM."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.profiles: dict[str, CardProfile] = load_profiles(CONFIG_DIR / "cards")
        self.master_key = psam_master_key(self.profiles)
        psam_slot = SimulatedReader("fuzz PSAM slot")
        psam_slot.insert(VirtualPsam.from_profile(self.profiles["psam-test"]))
        self.key_holder_factory = psam_key_holder_factory(psam_slot)
        self.expected: dict[str, GuardianCard] = {}
        for name in PROFILES:
            reader = SimulatedReader("fuzz expected")
            reader.insert(self._card(name, "plain"))
            self.expected[name] = ReaderCardService(reader, self.key_holder_factory).read_card()

    def _card(self, name: str, oddity: str) -> VirtualCard:
        profile = self.profiles[name]
        if oddity != "plain":
            behaviour, layout = ODD_CARDS[oddity]
            profile = relaid(profile, behaviour=behaviour, layout=layout)
        return VirtualCard.from_profile(profile, self.master_key)

    def case(self, number: int) -> Case:
        return make_case(random.Random(self.seed * 1_000_003 + number), number)

    def run_case(self, number: int, figures: FuzzFigures) -> None:
        case = self.case(number)
        rng = random.Random(self.seed * 7_919 + number)
        inner = self._card(case.profile, case.oddity)
        card = RewritingCard(inner, _Mutator(case, rng))
        reader = SimulatedReader("fuzz guardian slot")
        reader.insert(card)
        service = ReaderCardService(reader, self.key_holder_factory)
        figures.cases += 1
        try:
            self._read_and_check(case, card, inner, service, figures)
        except HangError:
            figures.hangs.append(case.describe())
        except Exception as exc:  # noqa: BLE001 - what the fuzzer is looking for
            figures.uncaught.append(f"{case.describe()}: {type(exc).__name__}: {exc}")
        finally:
            service.release()

    def _read_and_check(self, case: Case, card: RewritingCard, inner: VirtualCard, service: ReaderCardService,
                        figures: FuzzFigures) -> None:
        try:
            guardian = service.read_card()
        except KioskError as exc:
            figures.reads[exc.code] += 1
            self._note_apdus(case, len(card.sent), figures, READ_APDU_LIMIT, "read")
            return
        figures.reads["read"] += 1
        self._note_apdus(case, len(card.sent), figures, READ_APDU_LIMIT, "read")
        expected = self.expected[case.profile]
        if (guardian.issuer, guardian.holder) != (expected.issuer, expected.holder):
            figures.misreads.append(f"{case.describe()}: read {guardian.issuer} {guardian.holder}")
            return
        for step in ("tries", "verify"):
            tries_before, verifies_before, sent_before = inner.pin_tries_left, card.verifies, len(card.sent)
            try:
                if step == "tries":
                    service.pin_tries_left()
                    outcome = "counter"
                else:
                    outcome = service.verify_pin(case.pin).status.value
            except KioskError as exc:
                outcome = exc.code
            figures.pins[f"{step} {outcome}"] += 1
            self._note_apdus(case, len(card.sent) - sent_before, figures, PIN_APDU_LIMIT, step)
            lost = tries_before - inner.pin_tries_left
            may_lose = 1 if step == "verify" and case.pin != expected_pin(self.profiles[case.profile]) else 0
            if lost > may_lose or card.verifies - verifies_before > (1 if step == "verify" else 0):
                figures.tries_lost.append(f"{case.describe()}: {step} cost {lost} tries, "
                                          f"{card.verifies - verifies_before} VERIFYs")

    @staticmethod
    def _note_apdus(case: Case, apdus: int, figures: FuzzFigures, limit: int, step: str) -> None:
        if step == "read":
            figures.max_read_apdus = max(figures.max_read_apdus, apdus)
        else:
            figures.max_pin_apdus = max(figures.max_pin_apdus, apdus)
        if apdus > limit:
            figures.over_budget.append(f"{case.describe()}: {step} took {apdus} APDUs")

    def run(self, cases: int, first: int = 0) -> FuzzFigures:
        """Run cases `first` .. `first + cases - 1`, each under a watchdog of CASE_SECONDS."""
        figures = FuzzFigures()
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            for number in range(first, first + cases):
                future = pool.submit(self.run_case, number, figures)
                try:
                    future.result(timeout=CASE_SECONDS)
                except concurrent.futures.TimeoutError:
                    figures.hangs.append(f"{self.case(number).describe()}: still running after {CASE_SECONDS} s")
                    break  # the worker is stuck; nothing after it can run
        figures.seconds = time.perf_counter() - started
        return figures


def expected_pin(profile: CardProfile) -> str:
    return profile.pin.value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.apdu_fuzzer", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    figures = ApduFuzzer(args.seed).run(args.cases)
    print(figures.summary())
    for line in figures.broken[:20]:
        print("  BROKEN", line)
    return 1 if figures.broken else 0


if __name__ == "__main__":
    sys.exit(main())
