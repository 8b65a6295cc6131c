"""Provides cards that answer oddly, for the card-layer tests, the APDU fuzzer and the PC/SC tests: a wrapper that
rewrites a virtual card's answers, and demo cards re-laid the way other issuers write them."""
from __future__ import annotations

import dataclasses
import threading
from typing import Callable

from devices.apdu import ApduResponder
from devices.profiles import CardBehaviour, CardLayout, CardProfile
from devices.virtual_card import VirtualCard

Rewrite = Callable[[bytes, bytes], bytes]
"""(command, the inner card's answer) -> the answer the reader gets."""


class RewritingCard(ApduResponder):
    """A card whose answers pass through `rewrite` on their way out; it records what reached the inner card.

    `verifies` counts the VERIFY commands with a PIN that reached the card (each may cost a try);
    `sent` holds every command in order.
    """

    def __init__(self, inner: ApduResponder, rewrite: Rewrite) -> None:
        self.inner = inner
        self.rewrite = rewrite
        self.sent: list[bytes] = []
        self.verifies = 0
        self._lock = threading.Lock()

    @property
    def atr(self) -> bytes | None:
        return self.inner.atr

    def power_on(self) -> None:
        self.inner.power_on()

    def answer(self, command: bytes) -> bytes:
        with self._lock:
            self.sent.append(command)
            if command[1:2] == b"\x20" and len(command) > 5:
                self.verifies += 1
        return self.rewrite(command, self.inner.answer(command))


def answer_to(ins: int, answer: bytes) -> Rewrite:
    """A rewrite that answers every command with instruction `ins` with `answer` (after the card saw it)."""
    return lambda command, response: answer if command[1] == ins else response


def relaid(profile: CardProfile, *, behaviour: dict | None = None, layout: dict | None = None) -> CardProfile:
    """`profile` with some behaviour and layout keys changed (the names of CardBehaviour and CardLayout)."""
    return dataclasses.replace(
        profile,
        behaviour=dataclasses.replace(profile.behaviour, **(behaviour or {})),
        layout=dataclasses.replace(profile.layout, **(layout or {})),
    )


def odd_card(profile: CardProfile, master_key: bytes | None, **changes: dict) -> VirtualCard:
    """A fresh virtual card of `profile` re-laid by `relaid`."""
    return VirtualCard.from_profile(relaid(profile, **changes), master_key)


# Odd cards seen in the field, as (name, behaviour changes, layout changes): each must read right.
ODD_CARDS: dict[str, tuple[dict, dict]] = {
    "no FCI": ({"fci": False}, {}),
    "6282 on short records": ({"short_record_sw": 0x6282}, {"sizes": {"name": 12}}),
    "9000 on short records": ({"short_record_sw": 0x9000}, {"sizes": {"name": 12}}),
    "longer records, first Le bytes with 9000": (
        {"long_record": "truncate"}, {"sizes": {"init_org": 12, "name": 40, "card_number": 12, "expiry_date": 8}}),
    "padded records": ({}, {"record_padding": 6, "padding_byte": 0xFF}),
    "padded and longer, ISO Le": ({"long_record": "truncate"}, {"record_padding": 4, "sizes": {"name": 36}}),
    "T=0 61xx and 6Cxx": ({"t0_get_response": True, "strict_le": True}, {"sizes": {"name": 32}}),
    "T=0 with longer records, ISO Le": ({"t0_get_response": True, "long_record": "truncate"}, {"sizes": {"name": 40}}),
}
