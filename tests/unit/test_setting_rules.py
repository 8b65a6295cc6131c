"""The settings' rules against pydantic as an oracle (what the settings were checked with before), and a fuzzer.

The kiosk checks its settings without pydantic, so that its first screen does not wait for it to
load; the values it accepts, and the words of its refusals, must stay what they were. pydantic is
still installed (SQLModel needs it), so it judges the same seeded values.
"""
from __future__ import annotations

import random
import re
from typing import Annotated, Literal

import pytest
from pydantic import Field, TypeAdapter, ValidationError

from kiosk.setting_rules import Choice, Flag, Integer, Number, Rule, RuleBroken, Text
from kiosk.settings import Settings, SettingsError, load_settings

CASES = 10_000
"""Seeded values per rule."""
_LOOSE_UNDERSCORE = re.compile(r"_(?![0-9])|(?<![0-9])_")


def _value(rng: random.Random) -> object:
    kind = rng.randrange(11)
    if kind == 0:
        return rng.randint(-100, 5000)
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.uniform(-10, 5000)
    if kind == 3:
        return float(rng.randint(-5, 100))
    if kind == 4:
        return (rng.choice([" ", "", "+", "-", "0"]) + str(rng.randint(0, 5000))
                + rng.choice(["", " ", ".0", ".00", ".", ".5", "e2", "_0", "\n", "x"]))
    if kind == 5:
        return rng.choice(["true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0", "TRUE", "Yes",
                           " on ", "2", "nan", "inf", "-inf", "0x10", "1e3", "١٢", "²", "", "zh", "en", "pcsc"])
    if kind == 6:
        return "".join(rng.choice("0123456789 .+-eE_xabc") for _ in range(rng.randint(0, 6)))
    if kind == 7:
        return rng.choice([None, [1], {"a": 1}])  # what TOML can hold besides numbers, text and flags
    if kind == 8:
        return "".join(rng.choice("abcdefghij张伟 ") for _ in range(rng.randint(0, 45)))
    if kind == 9:
        return rng.choice(["simulated", "pcsc", "PCSC", "any", "T0", "T1", "t0"])
    return str(rng.uniform(-5, 100))


def _pydantic_quirk(value: object) -> bool:
    # pydantic's float parser refuses " 1_0" (blanks around a number with "_") but takes " 10" and "1_0",
    # and takes "4_e8"; the rules take "_" between digits only, as Python does.
    return isinstance(value, str) and "_" in value and (value != value.strip() or bool(_LOOSE_UNDERSCORE.search(value)))


RULES = [
    (Integer(ge=15, le=900), Annotated[int, Field(ge=15, le=900)]),
    (Integer(ge=0, le=20), Annotated[int, Field(ge=0, le=20)]),
    (Number(ge=0.2, le=30), Annotated[float, Field(ge=0.2, le=30)]),
    (Flag(), bool),
    (Text(min_length=1, max_length=40), Annotated[str, Field(min_length=1, max_length=40)]),
    (Choice(("simulated", "pcsc")), Literal["simulated", "pcsc"]),
    (Choice(("any", "T0", "T1")), Literal["any", "T0", "T1"]),
]


@pytest.mark.parametrize(("rule", "annotation"), RULES, ids=lambda item: repr(item)[:40])
def test_a_rule_takes_and_refuses_what_pydantic_did_in_the_same_words(rule: Rule, annotation: object):
    rng = random.Random(f"settings-oracle-{rule!r}")
    oracle = TypeAdapter(annotation)
    compared = 0
    for _ in range(CASES):
        value = _value(rng)
        if isinstance(rule, Number) and _pydantic_quirk(value):
            continue
        try:
            ours = ("took", rule.check(value))
        except RuleBroken as exc:
            ours = ("refused", str(exc))
        try:
            theirs = ("took", oracle.validate_python(value))
        except ValidationError as exc:
            theirs = ("refused", exc.errors()[0]["msg"])
        assert ours == theirs, f"{value!r}: ours {ours}, pydantic {theirs}"
        compared += 1
    assert compared > CASES * 0.95


def test_any_text_in_any_setting_is_a_value_or_one_line_naming_the_key():
    rng = random.Random("settings-fuzz")
    keys = Settings.keys()
    outcomes = {"settings": 0, "refused": 0}
    for _ in range(1_500):
        environ = {f"KIOSK_{rng.choice(keys).upper()}": str(_value(rng)) for _ in range(rng.randint(1, 3))}
        try:
            load_settings(environ=environ)
            outcomes["settings"] += 1
        except SettingsError as exc:
            message = str(exc)
            assert "\n" not in message and message.startswith("setting '"), message
            outcomes["refused"] += 1
    assert outcomes["settings"] > 100 and outcomes["refused"] > 100, outcomes
