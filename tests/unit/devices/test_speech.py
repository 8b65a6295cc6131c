"""The kiosk's voice through espeak-ng: real WAVs, utterances that never hold up the caller, auto/on/off."""
from __future__ import annotations

import logging
import os
import time
import wave
from pathlib import Path

import pytest

import devices.speech as speech
from devices.speech import EspeakSpeaker, NullSpeaker, build_speaker, espeak_binary, render_wav, sound_device_present
from kiosk.i18n import message
from kiosk.voice import prompt_for
from kiosk.session import SessionView, Step

needs_espeak = pytest.mark.skipif(espeak_binary() is None, reason="espeak-ng is not installed (bash .ci/setup)")


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie, dead but not reaped, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_for(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# ------------------------------------------------------------------ real speech, rendered
@needs_espeak
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_prompt_renders_to_a_real_wav(tmp_path, lang):
    text = prompt_for(SessionView(step=Step.INSERT_CARD, lang=lang))
    path = render_wav(text, lang, tmp_path / f"insert-{lang}.wav", volume=120)
    header = path.read_bytes()[:12]
    assert header[:4] == b"RIFF" and header[8:12] == b"WAVE"
    with wave.open(str(path)) as wav:
        assert wav.getframerate() >= 16000
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        seconds = wav.getnframes() / wav.getframerate()
        samples = wav.readframes(wav.getnframes())
    assert seconds > 0.3
    assert samples.strip(b"\x00"), "the WAV holds only silence"


@needs_espeak
def test_chinese_and_english_use_different_voices(tmp_path):
    zh = render_wav(message("voice.take_card", "zh"), "zh", tmp_path / "zh.wav")
    en = render_wav(message("voice.take_card", "en"), "en", tmp_path / "en.wav")
    assert zh.read_bytes() != en.read_bytes()
    assert speech.espeak_command("x", "zh")[1:3] == ["-v", "cmn"]
    assert speech.espeak_command("x", "en")[1:3] == ["-v", "en-gb"]


def test_render_wav_without_espeak_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(speech, "espeak_binary", lambda: None)
    with pytest.raises(FileNotFoundError, match="apt-get install espeak-ng"):
        render_wav("x", "en", tmp_path / "x.wav")


# ------------------------------------------------------------------ speaking never waits
@pytest.fixture
def slow_espeak(tmp_path) -> tuple[Path, Path]:
    """A stand-in espeak-ng that notes its pid and arguments, then talks for 30 s."""
    script = tmp_path / "espeak-ng"
    record = tmp_path / "calls"
    record.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{record}/$$.args"\n'
        "exec sleep 30\n"
    )
    script.chmod(0o755)
    return script, record


def _started(record: Path) -> list[int]:
    return sorted(int(p.stem) for p in record.glob("*.args"))


def test_speak_returns_while_the_utterance_plays_and_stop_kills_it(slow_espeak):
    script, record = slow_espeak
    speaker = EspeakSpeaker(volume=80, binary=str(script))
    speaker.speak("请取回您的社保卡", "zh")
    assert _wait_for(lambda: len(_started(record)) == 1)
    [pid] = _started(record)
    assert _alive(pid)  # speak() came back with the 30 s utterance still playing
    args = (record / f"{pid}.args").read_text().splitlines()
    assert args == ["-v", "cmn", "-a", "80", "-s", str(speech.RATE), "--", "请取回您的社保卡"]
    speaker.stop()
    assert _wait_for(lambda: not _alive(pid))


def test_a_new_utterance_cuts_off_the_last(slow_espeak):
    script, record = slow_espeak
    speaker = EspeakSpeaker(binary=str(script))
    speaker.speak("Please insert your social security card.", "en")
    assert _wait_for(lambda: len(_started(record)) == 1)
    [first] = _started(record)
    speaker.speak("Reading your card.", "en")
    assert _wait_for(lambda: len(_started(record)) == 2)
    second = next(pid for pid in _started(record) if pid != first)
    assert _wait_for(lambda: not _alive(first))
    assert _alive(second)
    speaker.stop()
    assert _wait_for(lambda: not _alive(second))


def test_an_engine_that_cannot_run_is_logged_not_raised(tmp_path, caplog):
    speaker = EspeakSpeaker(binary=str(tmp_path / "no-such-espeak"))
    with caplog.at_level(logging.WARNING, logger="devices.speech"):
        speaker.speak("hello", "en")
        assert _wait_for(lambda: "voice prompt not spoken" in caplog.text)
    speaker.stop()


def test_the_null_speaker_is_silent():
    speaker = NullSpeaker()
    assert speaker.available is False
    speaker.speak("请插入您的社保卡", "zh")
    speaker.stop()


# ------------------------------------------------------------------ auto / on / off
@pytest.fixture
def machine(monkeypatch):
    """Set what this machine has: machine(binary=..., sound=...)."""

    def set_up(binary: str | None, sound: bool) -> None:
        monkeypatch.setattr(speech, "espeak_binary", lambda: binary)
        monkeypatch.setattr(speech, "sound_device_present", lambda: sound)

    return set_up


@pytest.mark.parametrize(
    ("mode", "binary", "sound", "speaks"),
    [
        ("auto", "/usr/bin/espeak-ng", True, True),
        ("auto", "/usr/bin/espeak-ng", False, False),
        ("auto", None, True, False),
        ("on", "/usr/bin/espeak-ng", True, True),
        ("on", "/usr/bin/espeak-ng", False, True),
        ("on", None, True, False),
        ("off", "/usr/bin/espeak-ng", True, False),
    ],
)
def test_build_speaker_follows_the_setting(machine, mode, binary, sound, speaks):
    machine(binary, sound)
    speaker = build_speaker(mode, 100)
    assert isinstance(speaker, EspeakSpeaker if speaks else NullSpeaker)
    assert speaker.available is speaks


def test_on_says_why_it_may_not_be_heard(machine, caplog):
    machine("/usr/bin/espeak-ng", False)
    with caplog.at_level(logging.WARNING, logger="devices.speech"):
        build_speaker("on", 100)
    assert "no sound device" in caplog.text
    machine(None, True)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="devices.speech"):
        build_speaker("on", 100)
    assert "not installed" in caplog.text


def test_a_sound_device_is_an_alsa_playback_node_or_a_sound_server_socket(tmp_path):
    snd = tmp_path / "snd"
    snd.mkdir()
    (snd / "controlC0").touch()
    (snd / "pcmC0D0c").touch()  # capture only
    assert not sound_device_present({}, snd)
    (snd / "pcmC0D0p").touch()
    assert sound_device_present({}, snd)

    nothing = tmp_path / "empty"
    nothing.mkdir()
    runtime = tmp_path / "run"
    (runtime / "pulse").mkdir(parents=True)
    assert not sound_device_present({"XDG_RUNTIME_DIR": str(runtime)}, nothing)
    (runtime / "pulse" / "native").touch()
    assert sound_device_present({"XDG_RUNTIME_DIR": str(runtime)}, nothing)
    (runtime / "pulse" / "native").unlink()
    (runtime / "pipewire-0").touch()
    assert sound_device_present({"XDG_RUNTIME_DIR": str(runtime)}, nothing)
    assert sound_device_present({"PULSE_SERVER": "tcp:10.0.0.5"}, nothing)
    assert not sound_device_present({}, tmp_path / "no-such-dir")


def test_auto_on_this_machine_speaks_only_with_an_engine_and_a_sound_device():
    # No sound device here (CI): "auto" gives the silent speaker, decided from the file system alone.
    speaker = build_speaker("auto", 100)
    expected = espeak_binary() is not None and sound_device_present(os.environ)
    assert speaker.available is expected
