"""The voice prompts: the instruction each step speaks in both languages, and when the prompter speaks it."""
from __future__ import annotations

import logging
import re
import threading
from datetime import datetime, timezone

import pytest

from kiosk.i18n import has_message, message
from kiosk.ports import ManualClock
from kiosk.session import InlineRunner, SessionView, Step, TicketView
from kiosk.voice import (
    ERROR_PROMPTS,
    NOTICE_PROMPTS,
    PIN_PROMPTS,
    STEP_PROMPTS,
    VoicePrompter,
    prompt_for,
    prompt_key,
)
from tests.conftest import kiosk_root
from tests.memory_scan import strings_in
from tests.unit.session.conftest import NOW, PERSONAL, PIN, WRONG_PIN, ZHANG_WEI_CARD, Guardian

CJK = re.compile(r"[\u4e00-\u9fff]")
LANGS = ("zh", "en")

EXPECTED_KEYS: dict[Step, str | None] = {
    Step.WELCOME: "voice.welcome",
    Step.INSERT_CARD: "voice.insert_card",
    Step.READING: "voice.reading",
    Step.HOLDER: "voice.holder",
    Step.PIN: "voice.pin",
    Step.CHILD_ID: "voice.child_id",
    Step.CHILD_CONFIRM: "voice.child_confirm",
    Step.ELIGIBLE: "voice.eligible",
    Step.NOT_ELIGIBLE: "voice.not_eligible",
    Step.REGISTERING: None,
    Step.ACTIVATION: "voice.activation",
    Step.ACTIVATED: "voice.activated",
    Step.TAKE_CARD: "voice.take_card",
    Step.ERROR: "voice.error",
    Step.OUT_OF_SERVICE: "voice.out_of_service",
}

TICKET = TicketView("KBCD-FGHJ", "https://example.invalid/a/x", datetime(2026, 6, 1, tzinfo=timezone.utc), 0)


def assert_spoken_language(text: str | None, lang: str) -> None:
    assert text and text.strip()
    if lang == "zh":
        assert CJK.search(text), text
    else:
        assert text.isascii() and not CJK.search(text) and re.search(r"[A-Za-z]{3}", text), text


class RecordingSpeaker:
    """A Speaker (the port) that remembers what it was asked to say."""

    available = True

    def __init__(self) -> None:
        self.said: list[tuple[str, str]] = []
        self.stops = 0

    def speak(self, text: str, lang: str) -> None:
        self.said.append((text, lang))

    def stop(self) -> None:
        self.stops += 1

    @property
    def texts(self) -> list[str]:
        return [text for text, _ in self.said]


class BrokenSpeaker(RecordingSpeaker):
    def speak(self, text: str, lang: str) -> None:
        raise RuntimeError("sound card on fire")


# ------------------------------------------------------------------ which prompt
def test_every_step_has_a_decision():
    assert set(EXPECTED_KEYS) == set(Step) == set(STEP_PROMPTS)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("step", list(Step), ids=lambda step: step.value)
def test_each_step_speaks_its_instruction_in_the_screen_language(step, lang):
    view = SessionView(step=step, lang=lang)
    assert prompt_key(view) == EXPECTED_KEYS[step]
    text = prompt_for(view)
    if EXPECTED_KEYS[step] is None:
        assert text is None
    else:
        assert text == message(EXPECTED_KEYS[step], lang)
        assert_spoken_language(text, lang)


VARIANTS = [
    pytest.param(dict(step=Step.PIN, pin_tries_left=3), "voice.pin", id="pin-tries-known"),
    pytest.param(dict(step=Step.PIN, pin_tries_left=1), "voice.pin.last_try", id="pin-last-try"),
    pytest.param(dict(step=Step.PIN, pin_error="PIN_WRONG"), "voice.pin.wrong", id="wrong-pin-tries-unknown"),
    pytest.param(dict(step=Step.PIN, pin_error="PIN_WRONG", pin_tries_left=2), "voice.pin.wrong_tries",
                 id="wrong-pin-two-left"),
    pytest.param(dict(step=Step.PIN, pin_error="PIN_WRONG", pin_tries_left=1), "voice.pin.wrong_last_try",
                 id="wrong-pin-last-try"),
    pytest.param(dict(step=Step.PIN, pin_error="PIN_FORMAT"), "voice.pin.format", id="pin-format"),
    pytest.param(dict(step=Step.ERROR, error="PIN_BLOCKED"), "voice.pin_blocked", id="pin-blocked"),
    pytest.param(dict(step=Step.ERROR, error="DATABASE_UNAVAILABLE"), "voice.error", id="other-error"),
    pytest.param(dict(step=Step.CHILD_ID, child_id_error="CHILD_ID_FORMAT", child_id_error_position=17),
                 "voice.child_id.wrong", id="child-id-wrong"),
    pytest.param(dict(step=Step.ACTIVATION, ticket=TICKET), "voice.activation", id="qr"),
    pytest.param(dict(step=Step.ACTIVATION), "voice.activation", id="qr-not-yet-issued"),
    pytest.param(dict(step=Step.WELCOME, notice="CARD_REMOVED"), "voice.card_removed", id="card-pulled"),
    pytest.param(dict(step=Step.WELCOME, notice="SESSION_TIMEOUT"), "voice.timeout", id="timeout"),
    pytest.param(dict(step=Step.WELCOME, notice="READER_LOST"), "voice.reader_lost", id="reader-lost"),
    pytest.param(dict(step=Step.WELCOME, notice="READER_UNAVAILABLE"), "voice.reader_lost", id="reader-unavailable"),
    pytest.param(dict(step=Step.WELCOME, notice="SOMETHING_NEW"), "voice.welcome", id="unknown-notice"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("fields", "key"), VARIANTS)
def test_variants_of_a_step_have_their_own_prompt(fields, key, lang):
    view = SessionView(lang=lang, **fields)
    assert prompt_key(view) == key
    assert_spoken_language(prompt_for(view), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_a_renewed_qr_code_asks_to_scan_again(lang):
    renewed = TicketView(TICKET.user_code, TICKET.url, TICKET.expires_at, 1)
    view = SessionView(step=Step.ACTIVATION, lang=lang, ticket=renewed)
    assert prompt_key(view) == "voice.activation.renewed"
    assert_spoken_language(prompt_for(view), lang)


@pytest.mark.parametrize(("lang", "said"), [("zh", "还可以尝试2次"), ("en", "2 tries left")])
def test_a_wrong_pin_says_the_tries_left(lang, said):
    view = SessionView(step=Step.PIN, lang=lang, pin_error="PIN_WRONG", pin_tries_left=2)
    assert said in prompt_for(view)


def test_every_voice_key_is_in_both_catalogues():
    keys = {key for key in STEP_PROMPTS.values() if key}
    keys |= set(NOTICE_PROMPTS.values()) | set(ERROR_PROMPTS.values()) | set(PIN_PROMPTS.values())
    keys |= {"voice.child_id.wrong", "voice.activation.renewed"}
    for key in keys:
        for lang in LANGS:
            assert has_message(key, lang), (key, lang)


# ------------------------------------------------------------------ when the prompter speaks
@pytest.fixture
def runner() -> InlineRunner:
    return InlineRunner()


@pytest.fixture
def kiosk(settings_for, runner):
    settings = settings_for(language="zh", voice_prompts="off", idle_timeout_seconds=90, step_idle_seconds={})
    built = kiosk_root.build_kiosk(settings, clock=ManualClock(NOW))
    built.session.use_runner(runner)
    yield built
    built.registry.close()


@pytest.fixture
def speaker() -> RecordingSpeaker:
    return RecordingSpeaker()


@pytest.fixture
def prompter(kiosk, speaker) -> VoicePrompter:
    voice = VoicePrompter(speaker)
    voice.attach(kiosk.session)
    return voice


@pytest.fixture
def guardian(kiosk, runner, prompter) -> Guardian:
    return Guardian(kiosk, runner)


def said(key: str, lang: str = "zh", **values) -> tuple[str, str]:
    return message(key, lang, **values), lang


def test_a_visit_speaks_each_step_once(guardian, speaker):
    guardian.to_insert_card()
    guardian.to_activation()
    assert speaker.said == [
        said("voice.insert_card"), said("voice.reading"), said("voice.holder"), said("voice.pin"),
        said("voice.child_id"), said("voice.child_confirm"), said("voice.eligible"), said("voice.activation"),
    ]


def test_the_same_instruction_is_not_said_twice(guardian, speaker, kiosk):
    guardian.to_holder()
    guardian.hold()
    kiosk.session.confirm_holder()
    before = list(speaker.said)
    assert before[-1] == said("voice.pin")
    kiosk.session.set_display(large_text=True)  # a new view, the same instruction
    guardian.work()  # the tries left become known: still "enter your PIN"
    assert kiosk.session.view.pin_tries_left == 3
    assert speaker.said == before


def test_a_wrong_pin_is_said_with_the_tries_left_then_the_last_try(guardian, speaker, kiosk):
    guardian.to_pin()
    kiosk.session.submit_pin(WRONG_PIN)
    assert speaker.said[-1] == said("voice.pin.wrong_tries", n=2)
    kiosk.session.submit_pin(WRONG_PIN)
    assert speaker.said[-1] == said("voice.pin.wrong_last_try")
    kiosk.session.submit_pin(PIN)
    assert speaker.said[-1] == said("voice.child_id")


def test_switching_the_language_says_the_instruction_again_in_it(guardian, speaker, kiosk):
    guardian.to_pin()
    kiosk.session.set_language("en")
    assert speaker.said[-1] == said("voice.pin", "en")
    kiosk.session.set_language("zh")
    assert speaker.said[-1] == said("voice.pin", "zh")


def test_repeat_says_the_current_instruction_again(guardian, speaker, prompter):
    guardian.to_child_id()
    count = len(speaker.said)
    prompter.repeat()
    prompter.repeat()
    assert speaker.said[count:] == [said("voice.child_id")] * 2


def test_the_idle_welcome_screen_is_quiet_but_answers_f6(kiosk, speaker, prompter):
    kiosk.session.set_display(high_contrast=True)
    kiosk.session.set_display(high_contrast=False)
    assert speaker.said == []
    prompter.repeat()
    assert speaker.said == [said("voice.welcome")]


def test_a_pulled_card_is_told_and_the_next_guardian_is_not_greeted(guardian, speaker, kiosk):
    guardian.to_pin()
    guardian.remove()
    assert kiosk.session.view.step is Step.WELCOME
    assert speaker.said[-1] == said("voice.card_removed")


def test_take_your_card_then_silence_at_welcome(guardian, speaker, kiosk):
    guardian.to_child_id()
    kiosk.session.finish()
    assert speaker.said[-1] == said("voice.take_card")
    count = len(speaker.said)
    guardian.remove()
    assert kiosk.session.view.step is Step.WELCOME
    assert len(speaker.said) == count


def test_out_of_service_speaks_only_to_a_guardian_in_a_visit(guardian, speaker, kiosk):
    kiosk.session.out_of_service("READER_UNAVAILABLE")
    assert speaker.said == []  # nobody at the kiosk
    kiosk.session.out_of_service(None)
    guardian.to_pin()
    kiosk.session.out_of_service("READER_UNAVAILABLE")
    assert speaker.said[-1] == said("voice.out_of_service")


def test_a_blocked_pin_says_where_to_unlock_it(guardian, speaker):
    guardian.to_error()
    assert speaker.said[-1] == said("voice.pin_blocked")


def test_no_personal_data_is_spoken_or_kept(guardian, speaker, kiosk, prompter):
    guardian.to_activated()
    kiosk.session.set_language("en")
    prompter.repeat()
    kiosk.session.finish()
    guardian.remove()
    assert len(speaker.said) > 8
    for text in speaker.texts:
        for item in PERSONAL:
            assert item not in text
    guardian.to_child_confirm()  # personal data on screen now: the prompter still holds none of it
    kept = list(strings_in(vars(prompter)))
    assert not [item for item in PERSONAL for string in kept if item in string]


def test_a_speaker_that_raises_does_not_break_the_session(kiosk, runner, caplog):
    voice = VoicePrompter(BrokenSpeaker())
    voice.attach(kiosk.session)
    guardian = Guardian(kiosk, runner)
    with caplog.at_level(logging.ERROR, logger="kiosk.voice"):
        guardian.to_activation()
        voice.repeat()
    assert kiosk.session.view.step is Step.ACTIVATION
    assert "speaker failed" in caplog.text
    assert "session listener failed" not in caplog.text


def test_views_from_many_threads_are_spoken_in_one_piece():
    speaker = RecordingSpeaker()
    voice = VoicePrompter(speaker)
    views = [SessionView(step=step, lang=lang) for step in (Step.PIN, Step.CHILD_ID) for lang in LANGS]

    def publish(offset: int) -> None:
        for i in range(200):
            voice.on_view(views[(i + offset) % len(views)])

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert speaker.said and all(text and lang in LANGS for text, lang in speaker.said)
    assert all(a != b for a, b in zip(speaker.said, speaker.said[1:]))  # never the same twice in a row


# ------------------------------------------------------------------ the composition root
def test_a_silent_kiosk_has_no_voice_and_no_f6(kiosk):
    assert kiosk.voice is None
    assert kiosk_root.build_app(kiosk).repeat_prompt is None


def test_a_kiosk_with_a_voice_speaks_and_offers_f6(settings_for, monkeypatch):
    import devices.speech

    speaker = RecordingSpeaker()
    monkeypatch.setattr(devices.speech, "build_speaker", lambda mode, volume: speaker)
    built = kiosk_root.build_kiosk(settings_for(language="zh", voice_prompts="on"), clock=ManualClock(NOW))
    try:
        assert built.voice is not None and built.voice.speaker is speaker
        app = kiosk_root.build_app(built)  # not running: nothing runs the card's work, the read waits
        guardian = Guardian(built, InlineRunner())
        guardian.insert(ZHANG_WEI_CARD)
        assert speaker.said == [said("voice.reading")]
        app.repeat_prompt()
        assert speaker.said[-1] == said("voice.reading")
    finally:
        built.registry.close()
