"""The headless automation interface: a scripted journey per demo case, and bad input answered, never a crash.

In-process tests feed lines to `kiosk.automation.AutomationInterface` and read the lines it writes;
everything runs on the test thread (the protocol is synchronous), on a manual clock. Two tests run
`kiosk.py automate` and the documented example script through real pipes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kiosk import CONFIG_DIR
from kiosk.automation import COMMANDS, AutomationInterface
from kiosk.ports import ManualClock
from tests.conftest import kiosk_root

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
PIN = "123456"
IDLE_TIMEOUT = 90
TICKET_TTL = 300
FAREWELL = 20

# config/demo/registry.toml and config/cards/*.toml
ZHANG_XIAOYU = "430102201906010029"  # eligible
ZHANG_MINGXUAN = "430102200905200037"  # 17: too old
ZHOU_ZIHAO = "430102201704040019"  # nobody's child: NOT_GUARDIAN
NOBODY = "430102201803030019"  # valid, not in the registry: CHILD_UNKNOWN
LI_ZIHAN = "43010220210214005X"  # eligible
LI_SIYUAN = "430102201809090071"  # already has an active e-card
YANG_YINUO = "430104202201050095"  # eligible
HUANG_ZIRUI = "430105202006060075"  # no slot left
ZHAO_YIMING = "430102202002020018"  # eligible


def _personal_data() -> list[str]:
    """Every name, ID number and card number of the demo registry, in clear, plus the PIN."""
    demo = tomllib.loads((CONFIG_DIR / "demo" / "registry.toml").read_text(encoding="utf-8"))
    items = [NOBODY, PIN]
    items += [person["resident_id"] for person in demo["person"]] + [person["name"] for person in demo["person"]]
    items += [card["number"] for card in demo["card"]]
    return items


PERSONAL = _personal_data()


class AutomationScript:
    """A tester's script at the automation interface: sends lines, reads back the answer's messages."""

    def __init__(self, kiosk, clock: ManualClock | None, *, bench: bool = True) -> None:
        self.kiosk = kiosk
        self.lines: list[str] = []
        self.automation = AutomationInterface(
            kiosk.session, self.lines.append, activate_code=kiosk.registry.activate,
            bench=kiosk.bench if bench else None, manual_clock=clock, service_check=kiosk.monitor.check,
            kiosk_id=kiosk.settings.kiosk_id, reader=kiosk.settings.reader,
        )

    def raw(self, line: str | bytes) -> list[dict]:
        """Send one raw line; returns the answer's messages (every line written must be JSON)."""
        start = len(self.lines)
        self.automation.handle_line(line)
        return [json.loads(line) for line in self.lines[start:]]

    def send(self, cmd: str, **fields: object) -> list[dict]:
        return self.raw(json.dumps({"cmd": cmd, **fields}))

    def state(self, cmd: str, **fields: object) -> dict:
        """Send a command that must succeed; returns the final STATE."""
        final = self.send(cmd, **fields)[-1]
        assert final["msg"] == "STATE", final
        return final

    def error(self, cmd: str, expected: str, **fields: object) -> dict:
        """Send a command that must be refused with the error `expected`; returns the ERROR."""
        answer = self.send(cmd, **fields)
        final = answer[-1]
        assert final["msg"] == "ERROR" and final["error"] == expected, final
        return final


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def build(settings_for, with_demo_registry, clock):
    """Build a kiosk (keyword arguments override settings); closed at the end of the test."""
    built = []

    def make(**overrides):
        values = {"idle_timeout_seconds": IDLE_TIMEOUT, "step_idle_seconds": {}, "farewell_seconds": FAREWELL,
                  "activation_ttl_seconds": TICKET_TTL, "language": "zh", **overrides}
        kiosk = kiosk_root.build_kiosk(with_demo_registry(settings_for(**values)), clock=clock)
        built.append(kiosk)
        return kiosk

    yield make
    for kiosk in built:
        kiosk.registry.close()


@pytest.fixture
def tester(build, clock) -> AutomationScript:
    return AutomationScript(build(), clock)


def to_child_id(tester: AutomationScript, profile: str = "zhang-wei-3.00") -> dict:
    tester.state("INSERT_CARD", profile=profile)
    tester.state("CONFIRM_HOLDER")
    state = tester.state("ENTER_PIN", pin=PIN)
    assert state["step"] == "child_id"
    return state


# ------------------------------------------------------------------ a scripted journey per demo case
HOLDER_PIN = [("CONFIRM_HOLDER", {}), ("ENTER_PIN", {"pin": PIN})]


def child(number: str, confirm: bool = True) -> list[tuple[str, dict]]:
    return [("ENTER_CHILD", {"child_id": number})] + ([("CONFIRM_CHILD", {})] if confirm else [])


JOURNEYS = [
    # profile, commands after INSERT_CARD, final step, what the final STATE must say
    pytest.param("zhang-wei-3.00", [*HOLDER_PIN, *child(ZHANG_XIAOYU), ("REGISTER", {}), ("ACTIVATE", {})],
                 "activated", {"child": "张*雨"}, id="zhang-wei-eligible-activated"),
    pytest.param("zhang-wei-3.00", [*HOLDER_PIN, *child(ZHANG_MINGXUAN)], "not_eligible",
                 {"failures": ["CHILD_TOO_OLD"], "child": "张*轩", "another": True}, id="zhang-wei-too-old"),
    pytest.param("zhang-wei-3.00", [*HOLDER_PIN, *child(ZHOU_ZIHAO, confirm=False)], "not_eligible",
                 {"failures": ["NOT_GUARDIAN"], "child": None, "another": True}, id="zhang-wei-not-guardian"),
    pytest.param("zhang-wei-3.00", [*HOLDER_PIN, *child(NOBODY, confirm=False)], "not_eligible",
                 {"failures": ["CHILD_UNKNOWN"], "child": None, "another": True}, id="zhang-wei-unknown-child"),
    pytest.param("li-na-2.00", [*HOLDER_PIN, *child(LI_ZIHAN), ("REGISTER", {}), ("ACTIVATE", {})],
                 "activated", {"child": "李*涵"}, id="li-na-eligible-activated"),
    pytest.param("li-na-2.00", [*HOLDER_PIN, *child(LI_SIYUAN)], "not_eligible",
                 {"failures": ["CHILD_HAS_ECARD"]}, id="li-na-child-has-ecard"),
    pytest.param("li-na-2.00", [*HOLDER_PIN, ("RESUME_PENDING", {"index": 0}), ("ACTIVATE", {})],
                 "activated", {"child": "李*怡", "resumed": True}, id="li-na-pending-resumed"),
    pytest.param("wang-fang-expired", [], "not_eligible", {"failures": ["CARD_EXPIRED"], "another": False},
                 id="wang-fang-expired-card"),
    pytest.param("liu-yang-lost", [], "not_eligible", {"failures": ["CARD_NOT_NORMAL"], "another": False},
                 id="liu-yang-lost-card"),
    pytest.param("chen-jing-blocked", [("CONFIRM_HOLDER", {})], "error", {"error": "PIN_BLOCKED", "tries": 0},
                 id="chen-jing-pin-blocked"),
    pytest.param("yang-lei-last-try", [("CONFIRM_HOLDER", {}), ("ENTER_PIN", {"pin": "654321"})], "error",
                 {"error": "PIN_BLOCKED", "tries": 0}, id="yang-lei-last-try-wrong"),
    pytest.param("yang-lei-last-try", [*HOLDER_PIN, *child(YANG_YINUO), ("REGISTER", {}), ("ACTIVATE", {})],
                 "activated", {"child": "杨*诺"}, id="yang-lei-last-try-right"),
    pytest.param("huang-qiang-slots-full", [*HOLDER_PIN, *child(HUANG_ZIRUI)], "not_eligible",
                 {"failures": ["CHILD_SLOTS_FULL"], "child": "黄*睿"}, id="huang-qiang-slots-full"),
    pytest.param("zhao-min-pulled", [], "welcome", {"notice": "CARD_REMOVED"}, id="zhao-min-pulled-while-reading"),
    pytest.param("zhao-min-pulled", [("INSERT_CARD", {"profile": "zhao-min-pulled"}), *HOLDER_PIN,
                                     *child(ZHAO_YIMING), ("REGISTER", {}), ("ACTIVATE", {})],
                 "activated", {"child": "赵*鸣"}, id="zhao-min-inserted-again-activated"),
    pytest.param("bank-card", [], "error", {"error": "CARD_NOT_SOCIAL_SECURITY"}, id="bank-card"),
    pytest.param("mute-card", [], "error", {"error": "CARD_MUTE"}, id="mute-card"),
]


@pytest.mark.parametrize(("profile", "commands", "step", "expected"), JOURNEYS)
def test_a_scripted_journey_ends_where_the_demo_case_says(tester, profile, commands, step, expected):
    answers = [tester.send("START"), tester.send("INSERT_CARD", profile=profile)]
    answers += [tester.send(cmd, **fields) for cmd, fields in commands]
    for answer in answers:
        assert answer[-1]["msg"] == "STATE", answer[-1]
    final = answers[-1][-1]
    assert final["step"] == step, final
    if "failures" in expected:
        decision = final["decision"]
        assert decision["eligible"] is False
        assert [failure["code"] for failure in decision["failures"]] == expected["failures"]
        for failure in decision["failures"]:
            assert failure["reason"] and failure["next_step"] and failure["legal_basis"]
    if "another" in expected:
        assert ("ANOTHER_CHILD" in final["commands"]) is expected["another"]
    if "child" in expected:
        assert (final["child"] or {}).get("name") == expected["child"]
    if "error" in expected:
        assert final["error"]["code"] == expected["error"]
        assert final["error"]["text"] and final["error"]["next_step"]
        assert final["commands"][0] == "FINISH"
    if "tries" in expected:
        assert final["pin_tries_left"] == expected["tries"]
    if "notice" in expected:
        assert final["notice"]["code"] == expected["notice"] and final["notice"]["text"]
    if step == "activated":
        assert final["decision"]["eligible"] is True and final["ticket"]["user_code"]
        assert final["resumed"] is expected.get("resumed", False)
    # Whatever happened, the guardian can end it and take the card: back at the welcome screen, nothing kept.
    if "FINISH" in final["commands"]:
        tester.state("FINISH")
    if tester.kiosk.bench.inserted() is not None:
        final = tester.state("REMOVE_CARD")
    assert final["step"] == "welcome" and final["holder"] is None and final["child"] is None
    # Only masked personal data, in every line written.
    for line in tester.lines:
        leaked = [item for item in PERSONAL if item in line]
        assert not leaked, f"{leaked} in {line}"


def test_the_happy_journey_reports_every_step_masked(tester):
    assert tester.state("START")["step"] == "insert_card"
    inserted = tester.send("INSERT_CARD", profile="zhang-wei-3.00")
    assert [m["step"] for m in inserted] == ["reading", "holder"]
    holder = inserted[-1]["holder"]
    assert holder == {"name": "张*", "resident_id": "4301**********0016", "card_number": "L4*****01",
                      "spec_version": "3.00", "expiry": "2033-03-01"}
    pin = tester.state("CONFIRM_HOLDER")
    assert pin["step"] == "pin" and pin["pin_tries_left"] == 3 and pin["commands"][:2] == ["ENTER_PIN", "FINISH"]
    assert tester.state("ENTER_PIN", pin=PIN)["step"] == "child_id"
    confirm = tester.state("ENTER_CHILD", child_id=ZHANG_XIAOYU)
    assert confirm["child"] == {"name": "张*雨", "resident_id": "4301**********0029", "age": 7, "sex": "2",
                                "relationship": "father"}
    assert confirm["decision"] == {"eligible": True, "resume": False, "phase": "child", "failures": []}
    assert tester.state("CONFIRM_CHILD")["step"] == "eligible"
    registered = tester.send("REGISTER")
    assert [m["step"] for m in registered] == ["registering", "activation"]
    ticket = registered[-1]["ticket"]
    assert ticket["url"].startswith("https://ecard.example.gov.cn/activate")
    assert datetime.fromisoformat(ticket["expires_at"]) == datetime(2026, 6, 1, 2, 5, tzinfo=timezone.utc)
    assert ticket["renewals"] == 0
    assert tester.state("ACTIVATE")["step"] == "activated"
    # The phone cannot use the same code twice: a catalogued error, in the session's language.
    used = tester.error("ACTIVATE", "ACTIVATION_USED", code=ticket["user_code"])
    assert used["text"] and used["next_step"] and used["retriable"] is False
    assert tester.state("ANOTHER_CHILD")["step"] == "child_id"


def test_the_child_number_may_come_as_id_but_is_never_echoed(tester):
    to_child_id(tester)
    answer = tester.raw(json.dumps({"cmd": "ENTER_CHILD", "id": ZHANG_XIAOYU}))
    assert answer[-1]["step"] == "child_confirm"
    assert all("id" not in message for message in answer)


def test_a_badly_typed_child_number_shows_where(tester):
    to_child_id(tester)
    state = tester.state("ENTER_CHILD", child_id="43010220190601002")
    assert state["step"] == "child_id"
    error = state["child_id_error"]
    assert error["code"] == "CHILD_ID_FORMAT" and error["text"] and error["reason"]
    assert "position" in error


def test_a_wrong_pin_is_reported_with_the_tries_left(tester):
    tester.state("INSERT_CARD", profile="li-na-2.00")
    tester.state("CONFIRM_HOLDER")
    state = tester.state("ENTER_PIN", pin="654321")
    assert state["step"] == "pin" and state["pin_tries_left"] == 2 and state["pin_error"]["code"] == "PIN_WRONG"
    state = tester.state("ENTER_PIN", pin="12")
    assert state["pin_error"]["code"] == "PIN_FORMAT" and state["pin_tries_left"] == 2


def test_language_switch_gives_english_texts(tester):
    tester.state("SET_LANGUAGE", lang="en")
    tester.state("INSERT_CARD", profile="wang-fang-expired")
    state = tester.send("GET_STATE")[-1]
    assert state["lang"] == "en"
    failure = state["decision"]["failures"][0]
    assert failure["code"] == "CARD_EXPIRED" and failure["reason"].isascii()


def test_a_card_in_the_reader_before_the_first_command_is_read_silently(build, clock):
    kiosk = build()
    kiosk.bench.insert("zhang-wei-3.00")
    tester = AutomationScript(kiosk, clock)
    tester.automation.start()
    assert tester.lines == []
    state = tester.send("GET_STATE")
    assert len(state) == 1 and state[0]["step"] == "holder"


def test_a_third_generation_card_without_a_psam_is_refused_in_words(build, clock):
    tester = AutomationScript(build(simulated_psam=""), clock)
    state = tester.state("INSERT_CARD", profile="zhang-wei-3.00")
    assert state["step"] == "error" and state["error"]["code"] == "CARD_NEEDS_PSAM"
    assert state["card"]["card_number"] == "L4*****01" and state["holder"] is None


# ------------------------------------------------------------------ the manual clock
def test_idle_timeout_and_more_time_on_the_manual_clock(tester):
    tester.state("START")
    assert tester.state("ADVANCE_CLOCK", seconds=IDLE_TIMEOUT - 10)["step"] == "insert_card"
    tester.state("MORE_TIME")
    assert tester.state("ADVANCE_CLOCK", seconds=IDLE_TIMEOUT - 10)["step"] == "insert_card"
    state = tester.state("ADVANCE_CLOCK", seconds=11)
    assert state["step"] == "welcome" and state["notice"]["code"] == "SESSION_TIMEOUT"


def test_an_expired_qr_code_is_renewed_and_the_closing_screen_finishes(tester):
    to_child_id(tester)
    tester.state("ENTER_CHILD", child_id=ZHANG_XIAOYU)
    tester.state("CONFIRM_CHILD")
    first = tester.state("REGISTER")["ticket"]
    renewed = tester.state("ADVANCE_CLOCK", seconds=TICKET_TTL + 1)
    assert renewed["step"] == "activation"
    assert renewed["ticket"]["renewals"] == 1 and renewed["ticket"]["user_code"] != first["user_code"]
    tester.error("ACTIVATE", "ACTIVATION_EXPIRED", code=first["user_code"])
    assert tester.state("ACTIVATE")["step"] == "activated"
    assert tester.state("ADVANCE_CLOCK", seconds=FAREWELL - 1)["step"] == "activated"
    assert tester.state("ADVANCE_CLOCK", seconds=1)["step"] == "take_card"


def test_advance_clock_needs_the_manual_clock(build):
    tester = AutomationScript(build(), None)
    error = tester.error("ADVANCE_CLOCK", "WRONG_STATE", seconds=10)
    assert "--manual-clock" in error["text"]
    assert "ADVANCE_CLOCK" not in tester.send("GET_STATE")[-1]["commands"]


# ------------------------------------------------------------------ bad input: an ERROR, and the loop goes on
@pytest.mark.parametrize(
    "line",
    ['{"cmd": "START"', "START", "", "{'cmd': 'START'}", "[1, 2]", '"START"', "42", "null", "true",
     b"\xff\xfe{}", "[" * 100000],
    ids=["truncated", "bare-word", "empty-ish", "single-quotes", "array", "string", "number", "null", "true",
         "not-utf8", "deeply-nested"],
)
def test_a_line_that_is_not_a_command_object_is_invalid_json(tester, line):
    if line == "":
        assert tester.raw("   \n") == []  # a blank line is not answered
        return
    answer = tester.raw(line)
    assert len(answer) == 1 and answer[0]["msg"] == "ERROR" and answer[0]["error"] == "INVALID_JSON"
    assert answer[0]["last"] is True and "id" not in answer[0]
    assert tester.state("START")["step"] == "insert_card"


def test_an_unknown_command_is_named_and_answered_with_the_list(tester):
    answer = tester.raw('{"cmd": "FORMAT_DISK", "id": 9}')
    error = answer[-1]
    assert error["error"] == "UNKNOWN_COMMAND" and error["id"] == 9 and "FORMAT_DISK" in error["text"]
    assert error["commands"] == list(COMMANDS)
    assert tester.state("GET_STATE")["step"] == "welcome"


@pytest.mark.parametrize(
    ("setup", "request_", "parameter"),
    [
        ([], {"id": 1}, "cmd"),
        ([], {"cmd": 7}, "cmd"),
        ([], {"cmd": ["START"]}, "cmd"),
        ([], {"cmd": "INSERT_CARD"}, "profile"),
        ([], {"cmd": "INSERT_CARD", "profile": 3}, "profile"),
        ([], {"cmd": "INSERT_CARD", "profile": "no-such-card"}, "profile"),
        ([], {"cmd": "SET_LANGUAGE", "lang": "fr"}, "lang"),
        ([], {"cmd": "SET_LANGUAGE"}, "lang"),
        ([], {"cmd": "ADVANCE_CLOCK", "seconds": "10"}, "seconds"),
        ([], {"cmd": "ADVANCE_CLOCK", "seconds": -1}, "seconds"),
        ([], {"cmd": "ADVANCE_CLOCK", "seconds": True}, "seconds"),
        ([], {"cmd": "ADVANCE_CLOCK"}, "seconds"),
        (["pin"], {"cmd": "ENTER_PIN"}, "pin"),
        (["pin"], {"cmd": "ENTER_PIN", "pin": 123456}, "pin"),
        (["child"], {"cmd": "ENTER_CHILD"}, "child_id"),
        (["child"], {"cmd": "ENTER_CHILD", "child_id": 430102201906010029}, "child_id"),
        (["child"], {"cmd": "RESUME_PENDING", "index": "0"}, "index"),
        (["child"], {"cmd": "RESUME_PENDING", "index": True}, "index"),
        (["child"], {"cmd": "ACTIVATE", "code": 1234}, "code"),
    ],
)
def test_a_missing_or_ill_typed_field_is_a_bad_parameter_naming_it(tester, setup, request_, parameter):
    if "pin" in setup:
        tester.state("INSERT_CARD", profile="zhang-wei-3.00")
        tester.state("CONFIRM_HOLDER")
    if "child" in setup:
        to_child_id(tester)
    before = tester.send("GET_STATE")[-1]
    if request_.get("cmd") != "ENTER_CHILD":  # whose "id" may be the child's number (not echoed)
        request_ = {"id": "req-1", **request_}
    answer = tester.raw(json.dumps(request_))
    error = answer[-1]
    assert error["msg"] == "ERROR" and error["error"] == "BAD_PARAMETER", error
    assert error["parameter"] == parameter and parameter in error["text"]
    assert error.get("id") == request_.get("id")
    assert tester.send("GET_STATE")[-1] == {**before}  # nothing happened


def test_resume_pending_out_of_range_is_a_bad_parameter(tester):
    to_child_id(tester, "li-na-2.00")
    error = tester.error("RESUME_PENDING", "BAD_PARAMETER", index=5)
    assert error["parameter"] == "index"


@pytest.mark.parametrize(
    ("setup", "cmd", "fields", "step"),
    [
        ([], "ENTER_PIN", {"pin": PIN}, "welcome"),
        ([], "CONFIRM_HOLDER", {}, "welcome"),
        ([], "REGISTER", {}, "welcome"),
        ([], "ACTIVATE", {}, "welcome"),
        ([], "FINISH", {}, "welcome"),
        ([], "REMOVE_CARD", {}, "welcome"),
        (["card"], "START", {}, "holder"),
        (["card"], "ENTER_CHILD", {"child_id": ZHANG_XIAOYU}, "holder"),
        (["card"], "RESUME_PENDING", {"index": 0}, "holder"),
        (["card"], "ACTIVATE", {}, "holder"),
        (["expired"], "ANOTHER_CHILD", {}, "not_eligible"),
        (["expired"], "CONFIRM_CHILD", {}, "not_eligible"),
    ],
)
def test_a_command_its_step_does_not_allow_is_wrong_state(tester, setup, cmd, fields, step):
    if "card" in setup:
        tester.state("INSERT_CARD", profile="zhang-wei-3.00")
        tester.send("ADVANCE_CLOCK", seconds=0)
    if "expired" in setup:
        tester.state("INSERT_CARD", profile="wang-fang-expired")
    before = tester.send("GET_STATE")[-1]
    error = tester.error(cmd, "WRONG_STATE", id=5, **fields)
    assert error["id"] == 5 and error["step"] == step
    assert error["allowed"] == before["commands"] and cmd not in error["allowed"]
    assert step in error["text"]
    assert tester.send("GET_STATE")[-1] == before


def test_more_time_is_refused_where_nothing_waits_for_the_guardian(tester):
    error = tester.error("MORE_TIME", "WRONG_STATE")
    assert error["step"] == "welcome"


def test_tester_commands_need_the_simulated_bench(build, clock):
    tester = AutomationScript(build(), clock, bench=False)
    for cmd, fields in (("INSERT_CARD", {"profile": "zhang-wei-3.00"}), ("REMOVE_CARD", {})):
        error = tester.error(cmd, "WRONG_STATE", **fields)
        assert "simulated reader" in error["text"]
    info = tester.send("GET_INFO")[-1]
    assert info["profiles"] == [] and info["card_in_reader"] is None


def test_an_unexpected_failure_is_internal_and_the_loop_goes_on(tester, monkeypatch):
    tester.state("INSERT_CARD", profile="zhang-wei-3.00")

    def broken() -> None:
        raise RuntimeError("Traceback? 430102198803150016")

    monkeypatch.setattr(tester.kiosk.session, "confirm_holder", broken)
    answer = tester.raw('{"cmd": "CONFIRM_HOLDER", "id": "x"}')
    error = answer[-1]
    assert error["error"] == "INTERNAL" and error["id"] == "x" and error["text"]
    assert not any("Traceback" in line or "RuntimeError" in line for line in tester.lines)
    monkeypatch.undo()
    assert tester.state("CONFIRM_HOLDER")["step"] == "pin"


def test_an_unknown_activation_code_is_a_catalogued_error(tester):
    error = tester.error("ACTIVATE", "ACTIVATION_UNKNOWN", code="BBBB-CCCC")
    assert error["text"] and error["next_step"] and error["retriable"] is False


# ------------------------------------------------------------------ replies
def test_every_line_of_an_answer_carries_the_id_and_only_the_last_is_flagged(tester):
    for request_id in (1, "journey-2", {"n": 3}, None):
        answer = tester.raw(json.dumps({"cmd": "GET_STATE", "id": request_id}))
        assert [message["id"] for message in answer] == [request_id]
    answer = tester.raw(json.dumps({"cmd": "INSERT_CARD", "profile": "zhang-wei-3.00", "id": 42}))
    assert len(answer) == 2 and all(message["id"] == 42 for message in answer)
    assert [message.get("last", False) for message in answer] == [False, True]
    assert all("id" not in message for message in tester.send("GET_INFO"))


def test_get_info_describes_the_kiosk(tester):
    info = tester.send("GET_INFO")
    assert len(info) == 1
    info = info[0]
    assert info["msg"] == "INFO" and info["protocol"] == 1 and info["version"]
    assert info["kiosk_id"] == tester.kiosk.settings.kiosk_id and info["reader"] == "simulated"
    assert info["manual_clock"] is True and info["now"] == NOW.isoformat()
    names = [profile["name"] for profile in info["profiles"]]
    assert "zhang-wei-3.00" in names and "mute-card" in names and "psam-test" not in names
    assert info["commands"] == list(COMMANDS)


def test_the_end_of_input_finishes_the_visit(tester):
    tester.automation.run([json.dumps({"cmd": "INSERT_CARD", "profile": "zhang-wei-3.00"}).encode()])
    view = tester.kiosk.session.view
    assert view.step.value == "take_card" and view.holder is None and view.card is None
    assert len(tester.lines) == 2  # the answer to INSERT_CARD; nothing for the end


# ------------------------------------------------------------------ through real pipes
def _environ(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ["KIOSK_DATA_DIR"] = str(tmp_path / "data")
    return environ


def test_kiosk_py_automate_answers_a_script_through_pipes(tmp_path):
    commands = [
        {"cmd": "GET_STATE", "id": 1},
        {"cmd": "CONFIRM_HOLDER", "id": 2},
        {"cmd": "ENTER_PIN", "pin": PIN, "id": 3},
        "this is not json",
        {"cmd": "CONFIRM_CHILD", "id": 4},
        {"cmd": "ENTER_CHILD", "child_id": ZHANG_XIAOYU, "id": 5},
        {"cmd": "ADVANCE_CLOCK", "seconds": IDLE_TIMEOUT + 1, "id": 6},
        {"cmd": "REMOVE_CARD", "id": 7},
    ]
    script = "".join((c if isinstance(c, str) else json.dumps(c)) + "\n" for c in commands)
    result = subprocess.run(
        [sys.executable, str(ROOT / "kiosk.py"), "automate", "--manual-clock", "--card", "zhang-wei-3.00"],
        input=script.encode(), capture_output=True, env=_environ(tmp_path), timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr + result.stdout
    messages = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    finals = [m for m in messages if m.get("last")]
    assert len(finals) == len(commands)
    assert [m.get("id") for m in finals] == [1, 2, 3, None, 4, 5, 6, 7]
    assert [m["error"] if m["msg"] == "ERROR" else m["step"] for m in finals] == [
        "holder", "pin", "child_id", "INVALID_JSON", "WRONG_STATE", "child_confirm", "take_card", "welcome",
    ]
    assert finals[6]["notice"]["code"] == "SESSION_TIMEOUT"
    stdout = result.stdout.decode("utf-8")
    assert not [item for item in PERSONAL if item in stdout]
    assert (tmp_path / "data" / "logs" / "kiosk.log").exists()


def test_the_documented_example_script_runs_a_whole_journey(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "automation_journey.py")],
                            capture_output=True, text=True, env=_environ(tmp_path), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "journey complete" in result.stdout and "activated" in result.stdout
