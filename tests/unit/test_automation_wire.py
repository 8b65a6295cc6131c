"""Provides the tests of the automation interface's wire (kiosk/automation_wire.py) and of `kiosk.py automate` fed the
lines that broke it on main: a lone surrogate, NaN and Infinity, over-long integers, 1e400, echoed ID numbers."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.automation_wire import (
    ProtocolError,
    decode_command,
    echoed,
    echoed_id,
    encode_message,
    require_numbers_in_range,
)

ROOT = Path(__file__).resolve().parents[2]
RESIDENT_ID = "430102198803150016"


def strict_json(line: str) -> dict:
    """`line` read the way a strict JSON reader reads it: UTF-8, no NaN or Infinity, strings of Unicode text."""
    line.encode("utf-8")  # raises on a lone surrogate

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in {line[:80]!r}")

    message = json.loads(line, parse_constant=refuse)
    json.dumps(message, ensure_ascii=False).encode("utf-8")  # no \ud800 escape decoded into a lone surrogate
    assert "\n" not in line and "\u2028" not in line and "\u2029" not in line
    return message


def _code_of(line: str | bytes) -> tuple[str, dict]:
    with pytest.raises(ProtocolError) as caught:
        decode_command(line)
    return caught.value.code, caught.value.fields


# ---------------------------------------------------------------- decoding
@pytest.mark.parametrize(
    "line",
    [
        '{"cmd":"GET_STATE","id":"\\ud800"}',  # seen on main: exit 1 with a traceback
        '{"cmd":"GET_STATE","id":"\\udfff\\ud800"}',
        '{"cmd":"ENTER_PIN","pin":"12\\udc003456"}',
        '{"cmd":"GET_STATE","id":{"\\ud800":1}}',
        '{"cmd":"GET_STATE","id":NaN}',  # seen on main: answered with "id":NaN, which is no JSON
        '{"cmd":"GET_STATE","id":Infinity}',
        '{"cmd":"GET_STATE","id":[-Infinity]}',
        '{"cmd":"GET_STATE","id":"a"}\ufeff',
        '\ufeff{"cmd":"GET_STATE"}',
    ],
)
def test_lone_surrogates_and_nan_are_invalid_json(line: str) -> None:
    assert _code_of(line)[0] == "INVALID_JSON"


def test_a_lone_surrogate_given_as_text_is_invalid_json_too() -> None:
    assert _code_of('{"cmd":"GET_STATE","id":"\ud800"}')[0] == "INVALID_JSON"


@pytest.mark.parametrize(
    ("line", "parameter"),
    [
        ('{"cmd":"GET_STATE","id":' + "9" * 5000 + "}", "id"),  # seen on main: INTERNAL
        ('{"cmd":"GET_STATE","id":1e400}', "id"),  # seen on main: answered "id":Infinity
        ('{"cmd":"ADVANCE_CLOCK","seconds":1' + "0" * 400 + "}", "seconds"),  # 1e400 written as an integer: INTERNAL
        ('{"cmd":"ADVANCE_CLOCK","seconds":-1e999}', "seconds"),
        ('{"cmd":"RESUME_PENDING","index":[1,{"a":2e308}]}', "index"),
    ],
)
def test_a_number_out_of_a_doubles_range_is_a_bad_parameter_naming_it(line: str, parameter: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        require_numbers_in_range(decode_command(line))
    assert (caught.value.code, caught.value.fields) == ("BAD_PARAMETER", {"parameter": parameter})


def test_numbers_a_double_holds_and_valid_unicode_pass() -> None:
    request = decode_command('{"cmd":"GET_STATE","id":[1.5e308,-12,' + "9" * 300 + ',"\\ud83d\\ude00 张"]}')
    assert request["id"][:2] == [1.5e308, -12] and request["id"][3] == "😀 张"


def test_bytes_that_are_not_utf_8_are_invalid_json() -> None:
    assert _code_of(b'{"cmd":"GET_STATE","id":"\xff"}')[0] == "INVALID_JSON"


# ---------------------------------------------------------------- encoding
def test_every_message_is_one_valid_json_line_whatever_it_holds() -> None:
    for message in [
        {"msg": "STATE", "id": 1, "name": "\ud800张\udfff", "last": True},
        {"msg": "ERROR", "id": "x", "text": "line\u2028separator\u2029paragraph\x85next", "last": True},
        {"msg": "ERROR", "id": 2, "value": float("nan"), "last": True},
        {"msg": "ERROR", "id": 3, "value": object(), "last": True},
    ]:
        line = encode_message(message)
        decoded = strict_json(line)
        assert decoded["id"] == message["id"] and decoded["last"] is True
    assert strict_json(encode_message({"msg": "ERROR", "id": 2, "value": float("inf")}))["error"] == "INTERNAL"
    assert json.loads(encode_message({"msg": "X", "t": "a\u2028b"}))["t"] == "a\u2028b"


# ---------------------------------------------------------------- echoes
@pytest.mark.parametrize(
    ("typed", "hidden"),
    [
        (RESIDENT_ID, RESIDENT_ID),
        (f"ENTER_CHILD {RESIDENT_ID}", RESIDENT_ID),
        ("x" * 30 + RESIDENT_ID, RESIDENT_ID),  # an ID cut by the length limit is still masked
        ("123456", "123456"),  # a PIN-looking run of digits
    ],
)
def test_what_a_reply_echoes_is_masked(typed: str, hidden: str) -> None:
    shown = echoed(typed)
    assert hidden not in shown and hidden[:10] not in shown and "123456" not in shown
    assert len(shown) <= 40 + 3


def test_a_request_id_comes_back_as_sent_but_with_id_numbers_masked() -> None:
    assert echoed_id(7) == 7 and echoed_id("req-12345") == "req-12345" and echoed_id(None) is None
    assert echoed_id(["a", {"k": RESIDENT_ID}]) == ["a", {"k": "4301**********0016"}]
    assert echoed_id(f"visit {RESIDENT_ID}") == "visit 4301**********0016"


def test_an_echo_escapes_control_characters() -> None:
    assert "\x1b" not in echoed("\x1b[2JSTART") and "\\x1b" in echoed("\x1b[2JSTART")


# ---------------------------------------------------------------- kiosk.py automate, through pipes
def _environ(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ["KIOSK_DATA_DIR"] = str(tmp_path / "data")
    return environ


def test_kiosk_py_automate_answers_every_line_that_broke_it_on_main(tmp_path: Path) -> None:
    lines = [
        '{"cmd":"GET_STATE","id":"\\ud800"}',
        '{"cmd":"GET_STATE","id":NaN}',
        '{"cmd":"GET_STATE","id":Infinity}',
        '{"cmd":"GET_STATE","id":1e400}',
        '{"cmd":"GET_STATE","id":' + "7" * 5000 + "}",
        '{"cmd":"ADVANCE_CLOCK","seconds":1' + "0" * 400 + ',"id":6}',
        f'{{"cmd":"{RESIDENT_ID}","id":7}}',
        f'{{"cmd":"INSERT_CARD","profile":"{RESIDENT_ID}","id":8}}',
        '{"cmd":"GET_STATE","id":9}',
    ]
    result = subprocess.run(
        [sys.executable, str(ROOT / "kiosk.py"), "automate", "--manual-clock"],
        input=("\n".join(lines) + "\n").encode(), capture_output=True, env=_environ(tmp_path), timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stdout + result.stderr
    messages = [strict_json(line) for line in result.stdout.decode("utf-8").splitlines()]
    finals = [m for m in messages if m.get("last")]
    assert [(m.get("id"), m["error"] if m["msg"] == "ERROR" else m["step"]) for m in finals] == [
        (None, "INVALID_JSON"), (None, "INVALID_JSON"), (None, "INVALID_JSON"), (None, "BAD_PARAMETER"),
        (None, "BAD_PARAMETER"), (6, "BAD_PARAMETER"), (7, "UNKNOWN_COMMAND"), (8, "BAD_PARAMETER"), (9, "welcome"),
    ]
    assert finals[5]["parameter"] == "seconds" and finals[3]["parameter"] == "id"
    assert RESIDENT_ID not in result.stdout.decode("utf-8")
    assert "4301**********0016" in finals[6]["text"] and "4301**********0016" in finals[7]["text"]


def test_a_card_name_holding_terminal_escapes_reaches_no_json_line_and_no_log(tmp_path: Path) -> None:
    # Seen on main: a holder name with ESC [2J and SO went raw to the terminal through masking.
    cards = tmp_path / "cards"
    cards.mkdir()
    source = ROOT / "config" / "cards"
    (cards / "psam-test.toml").write_text((source / "psam-test.toml").read_text(encoding="utf-8"), encoding="utf-8")
    profile = (source / "li-na-2.00.toml").read_text(encoding="utf-8").replace('name = "李娜"', 'name = "李\\u001b[2J\\u000e娜"')
    (cards / "li-na-escape.toml").write_text(profile, encoding="utf-8")
    environ = {**_environ(tmp_path), "KIOSK_CARD_PROFILES_DIR": str(cards)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "kiosk.py"), "automate", "--manual-clock", "--card", "li-na-escape"],
        input=b'{"cmd":"GET_STATE","id":1}\n', capture_output=True, env=environ, timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    state = [strict_json(line) for line in result.stdout.decode("utf-8").splitlines()][-1]
    assert state["step"] == "holder" and state["holder"]["name"] == "李*****娜"  # 李, ESC [ 2 J, SO, 娜 masked
    log = (tmp_path / "data" / "logs" / "kiosk.log").read_bytes()
    for raw in (result.stdout, result.stderr, log):
        assert b"\x1b" not in raw and b"\x0e" not in raw and b"\\u001b" not in raw
