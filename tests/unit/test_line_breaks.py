"""kiosk.text.line_breaks: Chinese wraps by character, closing punctuation never starts a line, opening never ends
one; English still wraps at spaces; checked on the kiosk's own texts and on a seeded random mix."""
from __future__ import annotations

import random

from rich.cells import cell_len

from kiosk.text import NO_LINE_END, NO_LINE_START, line_breaks


def _lines(text: str, width: int) -> list[str]:
    cuts = [0, *line_breaks(text, width), len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:])]


def test_chinese_fills_its_lines_instead_of_breaking_at_the_one_space():
    lines = _lines("请到 电子社保卡 > 亲情服务 中添加孩子，然后扫码激活。", 12)
    assert [line.rstrip() for line in lines] == ["请到 电子社", "保卡 > 亲情", "服务 中添加", "孩子，然后扫", "码激活。"]


def test_a_full_stop_never_starts_a_line_it_takes_the_last_character_with_it():
    # 10 cells fit five characters: "。" would be the sixth; it goes down together with "构".
    assert _lines("到社保经办机构。", 10) == ["到社保经办", "机构。"]
    assert _lines("户口簿（或出生证）", 8) == ["户口簿", "（或出生", "证）"]


def test_english_wraps_at_spaces_as_before():
    assert [line.rstrip() for line in _lines("Bring the household register (户口簿) with you", 20)] == [
        "Bring the household", "register (户口簿)", "with you"]


def test_seeded_random_text_keeps_every_rule():
    rng = random.Random(14)
    alphabet = list("社保卡孩子监护人办理机构电子") + list(NO_LINE_START)[:9] + list(NO_LINE_END)[:4] + list("ab1 ")
    checked = 0
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))
        width = rng.randint(4, 30)
        lines = _lines(text, width)
        assert "".join(lines) == text
        for index, line in enumerate(lines):
            assert cell_len(line.rstrip(" ")) <= width, (text, width, lines)
            if index and line[0] in NO_LINE_START and lines[index - 1][-1:] not in NO_LINE_START:
                # only allowed where there was no other way: the previous line is a single unbreakable run
                assert cell_len(lines[index - 1]) + cell_len(line[0]) > width
            checked += 1
    assert checked > 4000
