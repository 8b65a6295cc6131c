"""Provides the rules a setting's value must keep (text, a choice, a number in a range, a flag, a path, a table).

Values come from TOML (typed) and from KIOSK_* variables and the command line (text), so every
rule takes the text form too ("120", "true"). A value a rule does not allow raises RuleBroken, whose
message says what is allowed, in the words operators already know from the settings' error lines.
The rules are a few dozen lines of plain Python rather than a validation library on purpose: they
run before the kiosk's first screen, which should not wait for one to load.
"""
from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*")
_DECIMAL_TEXT = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*\.0+")
_DIGITS = r"[0-9]+(?:_[0-9]+)*"
_NUMBER_TEXT = re.compile(rf"[+-]?(?:(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?|inf|infinity|nan)",
                          re.IGNORECASE)
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class RuleBroken(ValueError):
    """A value a rule does not allow; the message says what is allowed."""


class Rule(Protocol):
    def check(self, value: object) -> Any:
        """The value in its setting's type. Raises: RuleBroken."""
        ...


def _either(values: tuple[str, ...]) -> str:
    quoted = [repr(value) for value in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


@dataclass(frozen=True)
class Text:
    """A string of `min_length`..`max_length` characters, matching `pattern` (whose words are `pattern_says`)."""

    min_length: int = 0
    max_length: int | None = None
    pattern: str | None = None
    pattern_says: str = ""

    def check(self, value: object) -> str:
        if not isinstance(value, str):
            raise RuleBroken("Input should be a valid string")
        if len(value) < self.min_length:
            raise RuleBroken(f"String should have at least {self.min_length} character{'s' * (self.min_length != 1)}")
        if self.max_length is not None and len(value) > self.max_length:
            raise RuleBroken(f"String should have at most {self.max_length} characters")
        if self.pattern is not None and not re.match(self.pattern, value):
            raise RuleBroken(self.pattern_says or f"String should match pattern '{self.pattern}'")
        return value


@dataclass(frozen=True)
class Choice:
    """One of a few words."""

    values: tuple[str, ...]

    def check(self, value: object) -> str:
        if value not in self.values:
            raise RuleBroken(f"Input should be {_either(self.values)}")
        return value  # type: ignore[return-value]


@dataclass(frozen=True)
class Integer:
    """A whole number from `ge` to `le`."""

    ge: int | None = None
    le: int | None = None

    def check(self, value: object) -> int:
        if isinstance(value, str):
            value = _integer_from_text(value)
        elif isinstance(value, float):
            if not value.is_integer():
                raise RuleBroken("Input should be a valid integer, got a number with a fractional part")
            value = int(value)
        if not isinstance(value, int):
            raise RuleBroken("Input should be a valid integer")
        return _in_range(int(value), self.ge, self.le)


@dataclass(frozen=True)
class Number:
    """A number (with a fraction, or not) from `ge` to `le`."""

    ge: float | None = None
    le: float | None = None

    def check(self, value: object) -> float:
        if isinstance(value, str):
            if not _NUMBER_TEXT.fullmatch(value.strip()):
                raise RuleBroken("Input should be a valid number, unable to parse string as a number")
            value = float(value.strip())
        if not isinstance(value, (int, float)):
            raise RuleBroken("Input should be a valid number")
        if math.isnan(value) and self.le is not None:
            raise RuleBroken(f"Input should be less than or equal to {self.le}")
        return _in_range(float(value), self.ge, self.le)


def _integer_from_text(text: str) -> int:
    text = text.strip()
    if _INTEGER_TEXT.fullmatch(text):
        return int(text)  # 1_000 as in Python
    if _DECIMAL_TEXT.fullmatch(text):
        return int(float(text))  # 3650.0
    raise RuleBroken("Input should be a valid integer, unable to parse string as an integer")


def _in_range(value: Any, ge: float | None, le: float | None) -> Any:
    if ge is not None and value < ge:
        raise RuleBroken(f"Input should be greater than or equal to {ge}")
    if le is not None and value > le:
        raise RuleBroken(f"Input should be less than or equal to {le}")
    return value


@dataclass(frozen=True)
class Flag:
    """Yes or no: true/false in TOML; true, false, yes, no, on, off, 1, 0 as text."""

    def check(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        if isinstance(value, (str, int)) or (isinstance(value, float) and value.is_integer()):
            raise RuleBroken("Input should be a valid boolean, unable to interpret input")
        raise RuleBroken("Input should be a valid boolean")


@dataclass(frozen=True)
class FolderPath:
    """A path on disk (made absolute before it gets here)."""

    def check(self, value: object) -> Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise RuleBroken("Input should be a valid path")


@dataclass(frozen=True)
class Table:
    """A table: keys by `keys`, values by `values`; as text "a=1,b=2" or a JSON object (`example` shows one)."""

    keys: Rule
    values: Rule
    example: str

    def check(self, value: object) -> dict[Any, Any]:
        if isinstance(value, str):
            value = _table_from_text(value, self.example)
        if not isinstance(value, dict):
            raise RuleBroken("Input should be a valid dictionary")
        checked = {}
        for key, item in value.items():
            try:
                checked[self.keys.check(key)] = self.values.check(item)
            except RuleBroken as exc:
                raise RuleBroken(f"{key}: {exc}") from None
        return checked


def _table_from_text(text: str, example: str) -> object:
    """A table given as text (a KIOSK_* variable, the command line): "a=1,b=2" or a JSON object."""
    text = text.strip()
    if text.startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise RuleBroken(f"not a JSON object ({exc.msg}); expected {example}") from None
    pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise RuleBroken(f"expected {example}")
    return {key.strip(): item.strip() for key, item in pairs}


def read_settings_file(path: Path, error: type[Exception]) -> dict[str, Any]:
    """A settings file's keys, or `error` with one line saying why the file cannot be used (missing, not TOML, unreadable)."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise error(f"settings file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"settings file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise error(f"settings file {path} cannot be read: {exc.strerror}") from None


def read_credentials(environ: Mapping[str, str], keys: Iterable[str], error: type[Exception]) -> dict[str, str]:
    """The `keys` present in $CREDENTIALS_DIRECTORY (systemd's LoadCredential=), as text like an environment
    variable's (trailing newline off); `error` with one line when one cannot be read (its value never shown).

    An empty file counts as absent, so an installer may leave one in place without overriding the site file.
    """
    folder = environ.get("CREDENTIALS_DIRECTORY")
    if not folder:
        return {}
    found = {}
    for key in keys:
        try:
            text = (Path(folder) / key).read_text(encoding="utf-8").rstrip("\r\n")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise error(f"credential {key} in {folder} cannot be read: {exc}") from None
        if text.strip():
            found[key] = text
    return found
