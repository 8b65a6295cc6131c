"""Provides the voice prompts: which instruction each step of the session speaks, and who speaks it when.

What is said is an instruction, as hall kiosks give them ("请插入您的社保卡，芯片朝上"): never a name, an
ID number or anything else read from a card or the registry. The words live in the message catalogues
under `voice.*`, so they follow the screen's language.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.i18n import N_, message
from kiosk.ports import Speaker
from kiosk.session.steps import VISIT_STEPS
from kiosk.session.view import SessionView, Step

if TYPE_CHECKING:
    from kiosk.session import KioskSession

log = logging.getLogger(__name__)

STEP_PROMPTS: dict[Step, str | None] = {
    Step.WELCOME: N_("voice.welcome"),
    Step.INSERT_CARD: N_("voice.insert_card"),
    Step.READING: N_("voice.reading"),
    Step.HOLDER: N_("voice.holder"),
    Step.PIN: N_("voice.pin"),
    Step.CHILD_ID: N_("voice.child_id"),
    Step.CHILD_CONFIRM: N_("voice.child_confirm"),
    Step.ELIGIBLE: N_("voice.eligible"),
    Step.NOT_ELIGIBLE: N_("voice.not_eligible"),
    # Registering takes a moment and the QR code follows: a prompt here would only be cut off.
    Step.REGISTERING: None,
    Step.ACTIVATION: N_("voice.activation"),
    Step.ACTIVATED: N_("voice.activated"),
    Step.TAKE_CARD: N_("voice.take_card"),
    Step.ERROR: N_("voice.error"),
    Step.OUT_OF_SERVICE: N_("voice.out_of_service"),
}
"""The instruction of each step when nothing special happened in it."""

NOTICE_PROMPTS: dict[str, str] = {
    "CARD_REMOVED": N_("voice.card_removed"),
    "SESSION_TIMEOUT": N_("voice.timeout"),
    "READER_LOST": N_("voice.reader_lost"),
    "READER_UNAVAILABLE": N_("voice.reader_lost"),
}
"""What the welcome screen says about how the last visit ended (session notice codes)."""

ERROR_PROMPTS: dict[str, str] = {
    "PIN_BLOCKED": N_("voice.pin_blocked"),
}
"""Errors with an instruction of their own; every other error says `voice.error` (see the screen)."""

PIN_PROMPTS: dict[str, str] = {
    "last_try": N_("voice.pin.last_try"),
    "wrong": N_("voice.pin.wrong"),
    "wrong_tries": N_("voice.pin.wrong_tries"),
    "wrong_last_try": N_("voice.pin.wrong_last_try"),
    "format": N_("voice.pin.format"),
}
"""The PIN step's variants: before the last try, after a wrong PIN (with the tries left when known)."""

CHILD_ID_WRONG = N_("voice.child_id.wrong")
QR_RENEWED = N_("voice.activation.renewed")

ON_REQUEST_ONLY = frozenset({"voice.welcome"})
"""Prompts said only when asked (F6): the idle welcome screen does not talk to an empty hall."""


def prompt_key(view: SessionView) -> str | None:
    """The catalogue key of the instruction for `view`; None where nothing is to be said."""
    step = view.step
    if step is Step.WELCOME and view.notice:
        return NOTICE_PROMPTS.get(view.notice, STEP_PROMPTS[step])
    if step is Step.PIN:
        return _pin_key(view)
    if step is Step.CHILD_ID and view.child_id_error:
        return CHILD_ID_WRONG
    if step is Step.ACTIVATION and view.ticket is not None and view.ticket.renewals > 0:
        return QR_RENEWED
    if step is Step.ERROR and view.error in ERROR_PROMPTS:
        return ERROR_PROMPTS[view.error]
    return STEP_PROMPTS.get(step)


def _pin_key(view: SessionView) -> str:
    last_try = view.pin_tries_left == 1
    if view.pin_error == "PIN_WRONG":
        if last_try:
            return PIN_PROMPTS["wrong_last_try"]
        return PIN_PROMPTS["wrong_tries"] if view.pin_tries_left else PIN_PROMPTS["wrong"]
    if view.pin_error == "PIN_FORMAT":
        return PIN_PROMPTS["format"]
    return PIN_PROMPTS["last_try"] if last_try else STEP_PROMPTS[Step.PIN]  # type: ignore[return-value]


def prompt_for(view: SessionView) -> str | None:
    """The instruction for `view`, in the view's language; None where nothing is to be said."""
    key = prompt_key(view)
    if key is None:
        return None
    if key == PIN_PROMPTS["wrong_tries"]:
        return message(key, view.lang, n=view.pin_tries_left)  # 2 or more here: 1 has a prompt of its own
    return message(key, view.lang)


@dataclass(frozen=True)
class _Prompt:
    """What is (or would be) said at the current view; no view is kept, so no personal data either."""

    step: Step
    key: str | None
    lang: str
    text: str | None
    occasion: int | None = None  # tells one renewed QR code from the next


class VoicePrompter:
    """Speaks each step's instruction once when it changes, and again on request.

    A prompt is spoken when the step, the language or the instruction (a wrong PIN, a renewed QR
    code) changes, never twice in a row for the same one. The welcome screen's own instruction is
    said only on request, and the out-of-service screen speaks only to a guardian who was in a
    visit when it came. Listeners run on whichever thread changed the session, so the state is
    guarded by a lock; the speaker returns at once, and nothing it raises reaches the session.
    """

    def __init__(self, speaker: Speaker) -> None:
        self._speaker = speaker
        self._lock = threading.Lock()
        self._current: _Prompt | None = None

    @property
    def speaker(self) -> Speaker:
        return self._speaker

    def attach(self, session: KioskSession) -> None:
        """Follow `session`: its current step is taken as already announced (nobody asked yet)."""
        self._remember(session.view)
        session.subscribe(self.on_view)

    def on_view(self, view: SessionView) -> None:
        """The session changed (a session listener)."""
        try:
            self._on_view(view)
        except Exception:  # a voice must never break the session
            log.exception("voice prompt failed at step %s", view.step.value)

    def repeat(self) -> None:
        """Say the current instruction again (F6); nothing where the step has none."""
        with self._lock:
            current = self._current
            if current is not None and current.text:
                self._say(current)

    def _on_view(self, view: SessionView) -> None:
        prompt = _prompt_of(view)
        with self._lock:
            previous, self._current = self._current, prompt
            if prompt.text is None or not self._announce(previous, prompt):
                return
            self._say(prompt)

    def _remember(self, view: SessionView) -> None:
        try:
            prompt = _prompt_of(view)
        except Exception:
            log.exception("voice prompt unavailable at step %s", view.step.value)
            return
        with self._lock:
            self._current = prompt

    @staticmethod
    def _announce(previous: _Prompt | None, prompt: _Prompt) -> bool:
        if previous == prompt:
            return False
        if prompt.key in ON_REQUEST_ONLY:
            return False
        if prompt.step is Step.OUT_OF_SERVICE:
            if previous is None:
                return False
            if previous.step is Step.OUT_OF_SERVICE:
                return previous.lang != prompt.lang  # someone at the screen switched the language
            return previous.step in VISIT_STEPS or previous.step is Step.TAKE_CARD
        return True

    def _say(self, prompt: _Prompt) -> None:
        assert prompt.text is not None
        try:
            self._speaker.speak(prompt.text, prompt.lang)
        except Exception:
            log.exception("speaker failed (step %s, %s)", prompt.step.value, prompt.key)


def _prompt_of(view: SessionView) -> _Prompt:
    renewals = view.ticket.renewals if view.step is Step.ACTIVATION and view.ticket is not None else None
    return _Prompt(view.step, prompt_key(view), view.lang, prompt_for(view), renewals)
