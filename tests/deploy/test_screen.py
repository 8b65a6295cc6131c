"""The kiosk as a guardian sees it: the installed kiosk in foot in cage (headless), checked from grim's pixels."""
from __future__ import annotations

import re
import subprocess

import pytest
from PIL import Image, ImageChops

from tests.deploy.appliance import Appliance
from tests.deploy.conftest import HEAVY
from tests.deploy.screen import (KioskScreen, catalogue_characters, configured_fonts, covers, font_coverage, font_file,
                                 glyphs_missing_fontconfig)
from tests.deploy.appliance import need_commands

WELCOME_INSERT = "请插入您的社保卡，或按回车开始"  # visible at 24 rows too (the heading scrolls off there)
ELIGIBLE_CHILD = "430102201906010029"  # 张小雨, 7, child of 张伟
ACTIVATION_URL = re.compile(r"https?://\S+/activate\S*")


def shown_url(text: str) -> str:
    """The activation URL as the kiosk shows it: beside the QR it wraps, each piece in the same column."""
    lines = text.splitlines()
    (start,) = [number for number, line in enumerate(lines) if ACTIVATION_URL.search(line)]
    column = lines[start].index("http")
    pieces = [lines[start][column:].split()[0]]
    for line in lines[start + 1:]:
        piece = line[column:].strip()
        if not re.fullmatch(r"[A-Za-z0-9_\-=&%.]+", piece):
            break
        pieces.append(piece)
    return "".join(pieces)


@pytest.fixture
def screen_tools():
    need_commands("cage", "foot", "grim", "Xwayland", "tmux", "fc-match")


def test_the_configured_fonts_cover_every_character_of_the_zh_catalogue():
    need_commands("fc-match")
    characters = catalogue_characters()
    assert len(characters) > 300 and "社" in characters and "：" in characters
    left = set(characters)
    report = []
    for pattern in configured_fonts():
        _, _, family = font_file(pattern)
        assert pattern.split(":")[0] in family.split(","), f"fontconfig has no {pattern}: it offers {family} ({path})"
        coverage = font_coverage(pattern)
        covered = {char for char in left if ord(char) in coverage}
        left -= covered
        report.append(f"{len(covered)} by {pattern.split(':')[0]}")
    print(f"{len(characters)} zh catalogue characters: {', '.join(report)}; {len(left)} missing")
    # The primary (CJK) font draws the Chinese itself: the fallbacks are for a few symbols only.
    assert int(report[0].split()[0]) >= len(characters) - 5
    assert left == set(), f"no configured font has {''.join(sorted(left))}"


def _changed_fraction(image: Image.Image, other: Image.Image) -> float:
    """The share of pixels that differ between two screenshots."""
    difference = ImageChops.difference(image.convert("RGB"), other.convert("RGB")).convert("L")
    changed = sum(difference.point(lambda value: 255 if value > 40 else 0).histogram()[255:])
    return changed / (image.width * image.height)


@pytest.mark.xdist_group(HEAVY)
def test_the_welcome_screen_s_chinese_is_drawn_with_real_glyphs(appliance: Appliance, screen_tools, user_tmp_path):
    primary = configured_fonts()[0]
    with KioskScreen(appliance, user_tmp_path / "glyphs") as screen:
        shot, drawn_at = screen.drawn(WELCOME_INSERT)
        seconds = drawn_at - screen.started
        with_glyphs = Image.open(shot)
        with_glyphs.load()
    without = glyphs_missing_fontconfig(user_tmp_path / "fonts")
    assert covers("社", primary) and not covers("社", primary, without)
    with KioskScreen(appliance, user_tmp_path / "no-glyphs", fontconfig_file=without) as screen:
        shot, _ = screen.drawn(WELCOME_INSERT)
        without_glyphs = Image.open(shot)
        without_glyphs.load()
    assert with_glyphs.size == without_glyphs.size
    changed = _changed_fraction(with_glyphs, without_glyphs)
    print(f"cage start -> welcome drawn {seconds:.1f} s; {changed:.2%} of the pixels differ from the same "
          f"screen with no CJK font")
    assert changed > 0.005


@pytest.mark.xdist_group(HEAVY)
def test_on_the_qr_step_the_qr_on_screen_decodes_to_the_url_the_kiosk_shows(appliance: Appliance, screen_tools, user_tmp_path):
    need_commands("zbarimg")
    with KioskScreen(appliance, user_tmp_path / "qr", kiosk_args=("--card", "zhang-wei-3.00")) as screen:
        screen.wait_for_text("张*")  # the holder's card, read
        screen.send("Enter")
        screen.wait_for_text("请输入社保卡密码")
        screen.send("123456", literal=True)
        screen.send("Enter")
        # The holder's children on the card's record are offered first; 0: type the ID number.
        screen.wait_for_text("请选择要办理的孩子")
        screen.send("0")
        screen.wait_for_text("请输入孩子的身份证号码")
        screen.send(ELIGIBLE_CHILD, literal=True)
        screen.send("Enter")
        screen.wait_for_text("请确认孩子信息")
        screen.send("Enter")
        screen.wait_for_text("孩子可以申领电子社保卡")
        screen.send("Enter")
        text = screen.wait_for_text("请用手机社保App扫描二维码完成激活")
        shot, _ = screen.drawn("请用手机社保App扫描二维码完成激活")
        text = screen.text()
    assert len(ACTIVATION_URL.findall(text)) == 1, text  # where the URL starts (beside the QR it wraps)
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(shot)], capture_output=True, text=True, timeout=60)
    assert decoded.returncode == 0, decoded.stderr
    (url,) = decoded.stdout.split()
    assert ACTIVATION_URL.fullmatch(url)
    assert shown_url(text) == url, text
    print(f"QR decoded from the screenshot: {url}")
