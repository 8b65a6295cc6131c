"""Provides the kiosk's voice: espeak-ng run as a subprocess, a silent stand-in, and the auto/on/off choice.

espeak-ng plays through whatever its audio library finds (PulseAudio/PipeWire, else ALSA). Speaking
never waits: `EspeakSpeaker.speak` hands the text to a small thread of its own, which kills the
utterance still playing and starts the next one. Without an engine or a sound device the kiosk is
silent (`NullSpeaker`), and nothing on screen waits for it.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Mapping

from kiosk.ports import Speaker

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
VOICES: dict[str, str] = {"zh": "cmn", "en": "en-gb"}
"""espeak-ng voice of each kiosk language (`espeak-ng --voices`: cmn is Mandarin; zh would pick Cantonese too)."""
RATE = 150
"""Words per minute: a little slower than espeak-ng's 175, for a hall and for older guardians."""


def voice_for(lang: str) -> str:
    """The espeak-ng voice for the kiosk language `lang` (Mandarin for anything but English)."""
    return VOICES.get(lang, VOICES["zh"])


def espeak_command(text: str, lang: str, *, binary: str = ESPEAK, volume: int = 100, rate: int = RATE,
                   wav: Path | None = None) -> list[str]:
    """The espeak-ng command line that says `text` (or writes it to `wav`)."""
    argv = [binary, "-v", voice_for(lang), "-a", str(volume), "-s", str(rate)]
    if wav is not None:
        argv += ["-w", str(wav)]
    return argv + ["--", text]


def espeak_binary() -> str | None:
    """Returns:
        The path of espeak-ng, or None when it is not installed.
    """
    return shutil.which(ESPEAK)


def sound_device_present(environ: Mapping[str, str] | None = None, snd_dir: Path = Path("/dev/snd")) -> bool:
    """Whether anything could play sound: a best guess, looked up without opening any device.

    True for an ALSA playback device (`/dev/snd/pcmC<card>D<device>p`), a PulseAudio server named in
    $PULSE_SERVER, or a PulseAudio/PipeWire socket in $XDG_RUNTIME_DIR (`pulse/native`, `pipewire-0`).
    """
    environ = os.environ if environ is None else environ
    try:
        if any(snd_dir.glob("pcmC*D*p")):
            return True
    except OSError:
        pass
    if environ.get("PULSE_SERVER"):
        return True
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return any((Path(runtime) / name).exists() for name in ("pulse/native", "pipewire-0"))
    return False


def render_wav(text: str, lang: str, path: Path, volume: int = 100, *, rate: int = RATE,
               binary: str | None = None) -> Path:
    """Write `text` spoken in `lang` to the WAV file `path` (for tests and technicians; blocks).

    Raises:
        FileNotFoundError: espeak-ng is not installed.
        subprocess.CalledProcessError: espeak-ng failed.
    """
    binary = binary or espeak_binary()
    if binary is None:
        raise FileNotFoundError(f"{ESPEAK} is not installed (apt-get install espeak-ng)")
    subprocess.run(espeak_command(text, lang, binary=binary, volume=volume, rate=rate, wav=Path(path)),
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   check=True, timeout=60)
    return Path(path)


class NullSpeaker:
    """Implements `kiosk.ports.Speaker` for a kiosk without a voice: says nothing, at once."""

    available = False

    def speak(self, text: str, lang: str) -> None:
        pass

    def stop(self) -> None:
        pass


class EspeakSpeaker:
    """Implements `kiosk.ports.Speaker` with espeak-ng: one utterance at a time, the newest wins."""

    available = True

    def __init__(self, volume: int = 100, binary: str = ESPEAK, rate: int = RATE) -> None:
        """Args:
            volume: espeak-ng amplitude, 0..200.
            binary: the espeak-ng program (a name on $PATH or a path).
            rate: words per minute.
        """
        self._binary = binary
        self._volume = volume
        self._rate = rate
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: tuple[str, str] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stops = 0  # counts stop() calls, so an utterance started during one is ended too
        self._thread: threading.Thread | None = None

    def speak(self, text: str, lang: str) -> None:
        with self._lock:
            self._pending = (text, lang)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="espeak-ng", daemon=True)
                self._thread.start()
            self._wake.notify()

    def stop(self) -> None:
        with self._lock:
            self._pending = None
            self._stops += 1
            process, self._process = self._process, None
        _end(process)

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The utterance being spoken (or just finished), if any."""
        return self._process

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._pending is None:
                    self._wake.wait()
                text, lang = self._pending
                self._pending = None
                stops = self._stops
                previous, self._process = self._process, None
            try:
                _end(previous)
                process = subprocess.Popen(
                    espeak_command(text, lang, binary=self._binary, volume=self._volume, rate=self._rate),
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            except Exception as exc:  # noqa: BLE001 - a voice that cannot start leaves the kiosk silent
                log.warning("voice prompt not spoken: %s cannot run: %s", self._binary, exc)
                continue
            with self._lock:
                stopped = stops != self._stops
                if not stopped:
                    self._process = process
            if stopped:
                _end(process)


def _end(process: subprocess.Popen[bytes] | None) -> None:
    """Cut an utterance off (and reap it, so no zombie is left behind)."""
    if process is None:
        return
    try:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
    except Exception as exc:  # noqa: BLE001
        log.warning("voice prompt process %s not ended: %s", process.pid, exc)


def build_speaker(mode: str, volume: int) -> Speaker:
    """The kiosk's voice for the `voice_prompts` setting.

    Args:
        mode: "auto" speaks when espeak-ng and a sound device are both there; "on" speaks whenever
            espeak-ng is installed (and logs a warning when no sound device was found); "off" never speaks.
        volume: espeak-ng amplitude, 0..200 (the `voice_volume` setting).
    Returns:
        An EspeakSpeaker, or a NullSpeaker where the kiosk stays silent.
    """
    if mode == "off":
        return NullSpeaker()
    binary = espeak_binary()
    sound = sound_device_present()
    if mode == "on":
        if binary is None:
            log.warning("voice_prompts = \"on\", but %s is not installed: the kiosk stays silent", ESPEAK)
            return NullSpeaker()
        if not sound:
            log.warning("voice_prompts = \"on\", but no sound device was found: prompts may not be heard")
        return EspeakSpeaker(volume, binary)
    if binary is None or not sound:
        log.info("voice prompts off: %s", f"{ESPEAK} is not installed" if binary is None else "no sound device")
        return NullSpeaker()
    return EspeakSpeaker(volume, binary)
