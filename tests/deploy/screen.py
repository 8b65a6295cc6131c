"""Provides KioskScreen: the installed kiosk as a guardian sees it, cage headless running foot running a tmux client.

The kiosk user runs `cage -- foot --config=deploy/foot.ini tmux new-session ... ecard-kiosk`, so
cage's start is the kiosk's start, as under systemd. Keys go in by `tmux send-keys`; `tmux
capture-pane` says what the kiosk wrote; `grim` takes what foot drew, as pixels.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.deploy.appliance import DEPLOY, HEADLESS, Appliance, clean_environment

FOOT_INI = DEPLOY / "foot.ini"
ZH_CATALOGUE = Path(__file__).resolve().parents[2] / "kiosk" / "locale" / "zh_CN" / "LC_MESSAGES" / "kiosk.po"
HEADLESS_HEIGHT, KIOSK_HEIGHT = 720, 1080
"""cage's headless screen is 1280x720; the kiosk's is taken to be 1920x1080 (foot.ini's size is set for it)."""
TMUX_CONF = "set -g default-shell /bin/sh\nset -g status off\nset -g remain-on-exit on\nset -g default-terminal tmux-256color\nset -g window-size latest\nset -g escape-time 0\n"


def configured_fonts() -> list[str]:
    """The font= list of deploy/foot.ini (the primary "family:size=N", then fallbacks): the kiosk's fonts and size."""
    for line in FOOT_INI.read_text(encoding="utf-8").splitlines():
        if line.startswith("font="):
            return [part.strip() for part in line.removeprefix("font=").split(",")]
    raise AssertionError(f"{FOOT_INI} sets no font=")


def kiosk_grid_fonts() -> str:
    """foot.ini's font list with the size scaled from the kiosk's screen to the headless one: the same cell grid.

    At foot.ini's size the 720-pixel headless screen holds two thirds of the kiosk's rows, too few
    for the QR code (the kiosk then shows only the code to type); scaled, it holds what a 1080-pixel
    kiosk screen does.
    """
    fonts = configured_fonts()
    size = re.search(r":size=([\d.]+)", fonts[0])
    assert size, f"{FOOT_INI}: the first font has no :size="
    scaled = float(size.group(1)) * HEADLESS_HEIGHT / KIOSK_HEIGHT
    return ",".join([fonts[0].replace(size.group(0), f":size={scaled:.2f}"), *fonts[1:]])


def catalogue_characters(po: Path = ZH_CATALOGUE) -> set[str]:
    """Every character of the catalogue's translations outside ASCII (the msgstr strings, placeholders too)."""
    text = po.read_text(encoding="utf-8")
    strings = re.findall(r'^msgstr(?:\[\d+\])? "(.*)"$|^"(.*)"$', text, re.M)
    return {char for pair in strings for part in pair for char in part if ord(char) > 0x7E}


def font_file(pattern: str) -> tuple[str, int, str]:
    """(file, face index, family) fontconfig picks for `pattern`, as foot (fcft) would."""
    family = pattern.split(":")[0]
    found = subprocess.run(["fc-match", "-f", "%{file}|%{index}|%{family}", family],
                           capture_output=True, text=True, timeout=30, check=True).stdout
    path, index, families = found.split("|", 2)
    return path, int(index), families


def font_coverage(pattern: str) -> set[int]:
    """The code points the font fontconfig picks for `pattern` covers (its charset, hex ranges, from fontconfig's cache)."""
    charset = subprocess.run(["fc-match", "-f", "%{charset}", pattern.split(":")[0]],
                             capture_output=True, text=True, timeout=60, check=True).stdout
    covered: set[int] = set()
    for part in charset.split():
        first, _, last = part.partition("-")
        covered.update(range(int(first, 16), int(last or first, 16) + 1))
    return covered


def glyphs_missing_fontconfig(folder: Path, latin_fonts: Path = Path("/usr/share/fonts/truetype/dejavu")) -> Path:
    """A fontconfig file that knows only `latin_fonts` (DejaVu): the kiosk as it looks without a CJK font installed.

    foot.ini stays as it is; its fonts then resolve to DejaVu Sans Mono, which has no Chinese, and
    fontconfig has no fallback that has. Its own cache folder: the system's knows every font.
    """
    conf = folder / "fonts-glyphs-missing.conf"
    (folder / "fontconfig-cache").mkdir(parents=True, exist_ok=True)
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <dir>{latin_fonts}</dir>
  <cachedir>{folder / "fontconfig-cache"}</cachedir>
</fontconfig>
""", encoding="utf-8")
    return conf


def covers(char: str, pattern: str, fontconfig_file: Path | None = None) -> bool:
    """Whether the font fontconfig picks for `pattern` (under `fontconfig_file`, if given) has `char`."""
    env = {**os.environ, **({"FONTCONFIG_FILE": str(fontconfig_file)} if fontconfig_file else {})}
    charset = subprocess.run(["fc-match", "-f", "%{charset}", pattern.split(":")[0]], env=env,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    for part in charset.split():
        first, _, last = part.partition("-")
        if int(first, 16) <= ord(char) <= int(last or first, 16):
            return True
    return False


class KioskScreen:
    """`with KioskScreen(appliance, folder) as screen:` cage headless, foot, tmux and the installed kiosk, as the kiosk user."""

    def __init__(self, appliance: Appliance, folder: Path, *, kiosk_args: tuple[str, ...] = (),
                 fontconfig_file: Path | None = None) -> None:
        self.appliance = appliance
        self.user = appliance.user
        self.runtime = self.user.own(folder / "runtime")
        self.runtime.chmod(0o700)
        self.data = self.user.own(folder / "data")
        self.tmux_socket = self.runtime / "tmux.sock"
        conf = self.runtime / "tmux.conf"
        conf.write_text(TMUX_CONF, encoding="utf-8")
        extra = {"XDG_RUNTIME_DIR": str(self.runtime), "HOME": str(self.data), "KIOSK_DATA_DIR": str(self.data),
                 "KIOSK_VOICE_PROMPTS": "off", "SHELL": "/bin/sh", **HEADLESS}
        if fontconfig_file is not None:
            extra["FONTCONFIG_FILE"] = str(fontconfig_file)
        self.env = clean_environment(**extra)
        command = self.user.command(
            "cage", "--", "foot", f"--config={FOOT_INI}", f"--override=font={kiosk_grid_fonts()}",
            "tmux", "-S", self.tmux_socket, "-f", conf, "new-session", "-s", "kiosk", "--",
            appliance.kiosk, *kiosk_args)
        self.log = (folder / "cage.log").open("wb")
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, cwd=self.data, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.shots = 0
        self.folder = folder

    # ---------------------------------------------------------------- the kiosk user's tools
    def _tool(self, *argv: str | Path, timeout: float = 20) -> subprocess.CompletedProcess:
        return subprocess.run(self.user.command(*argv), cwd=self.data, env=self.env,
                              capture_output=True, timeout=timeout)

    def wayland_display(self, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sockets = sorted(path.name for path in self.runtime.glob("wayland-*") if not path.name.endswith(".lock"))
            if sockets:
                return sockets[0]
            self._alive()
            time.sleep(0.05)
        raise AssertionError(f"cage made no Wayland socket: {self.cage_log()}")

    def text(self) -> str:
        """What the kiosk wrote on its terminal, as tmux holds it (empty before the session exists)."""
        result = self._tool("tmux", "-S", self.tmux_socket, "capture-pane", "-p", "-t", "kiosk")
        return result.stdout.decode("utf-8", "replace") if result.returncode == 0 else ""

    def send(self, *keys: str, literal: bool = False) -> None:
        flags = ["-l"] if literal else []
        result = self._tool("tmux", "-S", self.tmux_socket, "send-keys", "-t", "kiosk", *flags, *keys)
        assert result.returncode == 0, result.stderr

    def screenshot(self) -> Path:
        """What foot draws now, as a PNG (grim, with the kiosk user's runtime folder and Wayland display)."""
        self.shots += 1
        path = self.runtime / f"shot-{self.shots}.png"
        env_display = ["env", f"WAYLAND_DISPLAY={self.wayland_display()}"]
        result = self._tool(*env_display, "grim", path)
        assert result.returncode == 0, result.stderr
        return path

    def wait_for_text(self, needle: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if needle in text:
                return text
            self._alive()
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never shown; the screen: {self.text()[-1500:]!r}; cage: {self.cage_log()}")

    def drawn(self, needle: str, timeout: float = 30) -> tuple[Path, float]:
        """Wait until `needle` is on the kiosk's terminal and foot's picture has settled; (screenshot, its time)."""
        self.wait_for_text(needle, timeout)
        deadline = time.monotonic() + timeout
        previous = self.screenshot()
        while time.monotonic() < deadline:
            current = self.screenshot()
            if current.read_bytes() == previous.read_bytes():
                return current, time.monotonic()
            previous = current
        raise AssertionError(f"the screen never settled showing {needle!r}")

    def _alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"cage ended ({self.process.returncode}): {self.cage_log()}")

    def cage_log(self) -> str:
        self.log.flush()
        return (self.folder / "cage.log").read_text(encoding="utf-8", errors="replace")[-2000:]

    def __enter__(self) -> "KioskScreen":
        return self

    def __exit__(self, *exc_info: object) -> None:
        # The tmux server left cage's process group: it (and the kiosk in it) ends through its socket.
        # cage ends on SIGTERM, with foot and the client in its own group (start_new_session).
        self._tool("tmux", "-S", self.tmux_socket, "kill-server")
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()
