"""Provides the card work behind the session's card effects: every call the session makes to the guardian's card."""
from __future__ import annotations

import logging
from typing import Callable

from kiosk.errors import KioskError
from kiosk.ports import CardService
from kiosk.session import effects as fx
from kiosk.session import events as ev

log = logging.getLogger("kiosk.session")


def perform(effect: fx.Effect, card: CardService, progress: Callable[[ev.Event], None] | None = None) -> ev.Answer | None:
    """Do `effect` with the card (blocking) and return its answer; a catalogued failure is an answer too."""
    if isinstance(effect, fx.ReleaseCard):
        try:
            card.release()
        except Exception:  # noqa: BLE001 - releasing a dead card must not stop anything
            log.exception("card release failed")
        return None
    assert isinstance(effect, fx.Work)
    try:
        return _answer(effect, card, progress)
    except KioskError as exc:
        return ev.WorkFailed(effect.stamp, exc.code, exc.detail)


def _answer(effect: fx.Work, card: CardService, progress: Callable[[ev.Event], None] | None) -> ev.Answer:
    if isinstance(effect, fx.ReadCard):
        return ev.CardRead(effect.stamp, card.read_card())
    if isinstance(effect, fx.AskPinTries):
        return ev.PinTriesKnown(effect.stamp, card.pin_tries_left(), card.has_pin_pad())
    if isinstance(effect, fx.VerifyPinOnPad):
        stamp = effect.stamp
        entered = (lambda: progress(ev.PinPadEntered(stamp))) if progress is not None else None
        return ev.PinChecked(stamp, card.verify_pin_on_pad(entered))
    if isinstance(effect, fx.VerifyPin):
        return ev.PinChecked(effect.stamp, card.verify_pin(effect.pin))
    if isinstance(effect, fx.CheckCardPresent):
        try:
            return ev.CardPresence(effect.stamp, card.card_present())
        except Exception:  # noqa: BLE001 - a reader that cannot tell has no card to give back
            return ev.CardPresence(effect.stamp, False)
    raise TypeError(f"not card work: {effect!r}")
