"""Provides the automation interface's wire: one input line decoded into a command (or a catalogued protocol error),
any message encoded as one valid JSON line, and whatever a reply echoes of the input masked.

What travels is I-JSON (RFC 7493): UTF-8, strings of Unicode text (no lone surrogates), numbers an IEEE 754 double
can hold (no NaN or Infinity, no 1e400, no 5000-digit integers). Anything else is answered with an ERROR, never a
crash and never a line a strict JSON reader would refuse.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any

from kiosk.masking import scrub

log = logging.getLogger(__name__)

ECHO_LIMIT = 40
"""How many characters of an input a reply repeats."""
_MAX_INT_DIGITS = 310  # 1.8e308, the largest double, has 309 digits: longer integers are out of range however written
_PIN_LIKE = re.compile(r"\d{5,}")
# Characters JSON may leave raw in a string that some line readers split on (Python's str.splitlines does).
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


class ProtocolError(Exception):
    """A command the interface refuses: INVALID_JSON, UNKNOWN_COMMAND, BAD_PARAMETER or WRONG_STATE."""

    def __init__(self, code: str, text: str, **fields: object) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text
        self.fields = fields


class OutOfRange:
    """A number in the input that no double holds (1e400, a 5000-digit integer): no field takes it."""

    def __init__(self, text: str) -> None:
        self.digits = len(text)


def _parse_int(text: str) -> int | OutOfRange:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return OutOfRange(text)
    value = int(text)
    try:
        float(value)
    except OverflowError:
        return OutOfRange(text)
    return value


def _parse_float(text: str) -> float | OutOfRange:
    value = float(text)
    return value if value not in (float("inf"), float("-inf")) else OutOfRange(text)


def _no_constant(name: str) -> object:
    raise ProtocolError("INVALID_JSON", f"not JSON: {name} is no JSON number")


_DECODER = json.JSONDecoder(parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constant)


def decode_command(line: str | bytes) -> dict:
    """One input line as a command object.

    A number out of a double's range outside "id" stays in the object as an `OutOfRange` (which no
    field's type check takes); `require_numbers_in_range` then names it, once the reply's id is known.

    Raises:
        ProtocolError: INVALID_JSON for bytes that are not UTF-8, text that is not JSON (NaN and
            Infinity included), strings that are not Unicode (a lone surrogate), or JSON that is not
            an object; BAD_PARAMETER for an "id" holding a number out of a double's range.
    """
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("INVALID_JSON", f"the line is not UTF-8 (byte {exc.start})") from None
    elif not _is_unicode(line):
        raise ProtocolError("INVALID_JSON", "the line is not Unicode text (a lone surrogate)")
    try:
        request = _DECODER.decode(line.strip())
    except json.JSONDecodeError as exc:
        # The position only: the line itself may hold a PIN or an ID number.
        raise ProtocolError("INVALID_JSON", f"not JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ProtocolError("INVALID_JSON", "not JSON: nested too deeply") from None
    if not isinstance(request, dict):
        raise ProtocolError("INVALID_JSON", f"a command is a JSON object, not {_json_kind(request)}")
    if _first_problem(request, "surrogate"):
        raise ProtocolError("INVALID_JSON", "a string holds a lone surrogate (\\ud800-\\udfff): not Unicode text")
    if "id" in request and _first_problem({"id": request["id"]}, "range"):
        raise _out_of_range("id")
    return request


def require_numbers_in_range(request: dict) -> None:
    """Refuse a command holding a number out of a double's range (1e400, a 400-digit integer) in any field.

    Raises:
        ProtocolError: BAD_PARAMETER naming the field.
    """
    for key, value in request.items():
        if _first_problem({key: value}, "range"):
            raise _out_of_range(masked(key))


def _out_of_range(name: str) -> ProtocolError:
    return ProtocolError("BAD_PARAMETER", f"{name!r} holds a number out of the range of JSON numbers (a double)",
                         parameter=name)


def _first_problem(value: Any, kind: str) -> bool:
    try:
        return _holds(value, kind)
    except RecursionError:
        raise ProtocolError("INVALID_JSON", "not JSON: nested too deeply") from None


def _holds(value: Any, kind: str) -> bool:
    """Whether `value` holds a string that is no Unicode text (kind "surrogate") or a number no double holds ("range")."""
    if isinstance(value, str):
        return kind == "surrogate" and not _is_unicode(value)
    if isinstance(value, OutOfRange):
        return kind == "range"
    if isinstance(value, dict):
        return any(_holds(key, kind) or _holds(item, kind) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds(item, kind) for item in value)
    return False


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number"


def encode_message(outgoing: dict) -> str:
    """One message as one JSON line (no newline at its end): valid I-JSON whatever `outgoing` holds.

    A message that cannot be written (a NaN, an object JSON has no form for) becomes an INTERNAL
    error carrying the same id; a lone surrogate becomes U+FFFD.
    """
    try:
        text = _dumps(outgoing)
        if not _is_unicode(text):
            text = _dumps(_unicode(outgoing))
    except (ValueError, TypeError, RecursionError):
        log.exception("an automation message could not be written as JSON")
        fallback: dict = {"msg": "ERROR"}
        if "id" in outgoing:
            try:
                _dumps({"id": outgoing["id"]})
                fallback["id"] = _unicode(outgoing["id"])
            except (ValueError, TypeError, RecursionError):
                pass
        fallback.update({"error": "INTERNAL", "text": "the answer could not be written as JSON"})
        if outgoing.get("last"):
            fallback["last"] = True
        text = _dumps(_unicode(fallback))
    for raw, escaped in _LINE_BREAKS.items():
        if raw in text:
            text = text.replace(raw, escaped)
    return text


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _unicode(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        if _is_unicode(value):
            return value
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)
    if isinstance(value, dict):
        return {_unicode(k): _unicode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_unicode(item) for item in value]
    return value


def masked(value: str) -> str:
    """An input string as a reply may repeat it: ID numbers and PIN-like digit runs (5 or more) masked, at most
    ECHO_LIMIT characters (masked first, so that no number escapes the mask by being cut)."""
    shown = _PIN_LIKE.sub(lambda match: "*" * len(match.group()), scrub(value))
    return shown if len(shown) <= ECHO_LIMIT else shown[:ECHO_LIMIT] + "…"


def echoed_id(value: Any) -> Any:
    """A request's "id" as every line of its answer carries it: as sent, but with ID numbers in its strings masked
    (`4301**********0016`), like everything else the interface writes; anything but a string, list or object as is."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [echoed_id(item) for item in value]
    if isinstance(value, dict):
        return {scrub(key): echoed_id(item) for key, item in value.items()}
    return value


def echoed(value: str) -> str:
    """`masked(value)` quoted as Python quotes it, control characters escaped: what UNKNOWN_COMMAND and BAD_PARAMETER say."""
    return repr(masked(value))
