"""Provides Region: a regional rule file (limits, enabled rules and every rule's texts), read from TOML."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from kiosk.eligibility.rules import RULES, RULES_BY_CODE
from kiosk.text import LocalText

TEXT_KEYS = ("reason", "next_step", "legal_basis")
PLACEHOLDERS = ("age_limit", "child_slots")
"""What a rule text may say in braces, e.g. "{age_limit}"; filled from the region."""
AGE_LIMITS = range(1, 19)
CHILD_SLOTS = range(1, 21)

_TOP_KEYS = frozenset(
    {"extends", "code", "name", "area_prefixes", "age_limit", "child_slots", "physical_card_required",
     "enabled_rules", "rules"}
)
_RULE_KEYS = frozenset({*TEXT_KEYS, "variants"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

_Origins = dict[tuple[str, ...], Path]


class RegionFileError(ValueError):
    """A regional rule file that cannot be used; the message names the file and the key."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class RuleText:
    """What the guardian reads when a rule fails."""

    reason: LocalText
    next_step: LocalText
    legal_basis: LocalText


@dataclass(frozen=True)
class RuleTexts:
    """A rule's texts, with the more precise ones some variants have (e.g. per card status)."""

    general: RuleText
    variants: Mapping[str, RuleText] = field(default_factory=dict, hash=False)

    def pick(self, variant: str | None) -> RuleText:
        """The variant's text when the region gives one, else the general text."""
        return self.variants.get(variant, self.general) if variant else self.general


@dataclass(frozen=True)
class Region:
    """The rules of the region the kiosk serves."""

    code: str
    name: LocalText
    area_prefixes: tuple[str, ...]
    """Area codes the region covers, as prefixes ("4301"); empty: everywhere."""
    age_limit: int
    """From this age on a child applies themselves, not through a guardian."""
    child_slots: int
    """How many children one guardian may hold e-cards for."""
    physical_card_required: bool
    """A child must hold a physical card before getting an e-card."""
    enabled_rules: tuple[str, ...]
    """Rule codes in force, in rule order."""
    texts: Mapping[str, RuleTexts] = field(hash=False)
    source: Path | None = None

    def is_enabled(self, code: str) -> bool:
        """Whether the rule with this code is in force here."""
        return code in self.enabled_rules

    def covers(self, area_code: str) -> bool:
        """Whether an area code (of a card or an ID number) lies in this region."""
        return not self.area_prefixes or area_code.startswith(self.area_prefixes)

    def text_for(self, code: str, variant: str | None = None) -> RuleText:
        """The texts of a failed rule, with placeholders such as {age_limit} filled in."""
        text = self.texts[code].pick(variant)
        return RuleText(*(self._fill(getattr(text, key)) for key in TEXT_KEYS))

    def _fill(self, text: LocalText) -> LocalText:
        values = {"age_limit": str(self.age_limit), "child_slots": str(self.child_slots)}

        def fill(template: str) -> str:
            return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)

        return LocalText(zh=fill(text.zh), en=fill(text.en))


def load_region(path: Path | str) -> Region:
    """Read a regional rule file, and the files it `extends`, into a Region.

    A file that says `extends = "default"` starts from default.toml in the same folder
    and changes only the keys it gives; tables merge key by key.

    Raises:
        RegionFileError: naming the file and key (unreadable file, bad TOML, unknown key or
            rule code, missing zh/en text, a number out of range, a required rule switched off).
    """
    path = Path(path)
    values, origins = _read_chain(path, ())
    return _RegionReader(path, values, origins).region()


def _read_chain(path: Path, seen: tuple[Path, ...]) -> tuple[dict[str, Any], _Origins]:
    resolved = path.resolve()
    if resolved in seen:
        raise RegionFileError(path, "extends", "files extend each other in a circle")
    try:
        with path.open("rb") as handle:
            own = tomllib.load(handle)
    except FileNotFoundError:
        raise RegionFileError(path, "", "file does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegionFileError(path, "", f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise RegionFileError(path, "", f"cannot be read: {exc.strerror}") from None
    values: dict[str, Any] = {}
    origins: _Origins = {}
    base = own.pop("extends", None)
    if base is not None:
        if not isinstance(base, str) or not base.strip():
            raise RegionFileError(path, "extends", "expected the name of another region file")
        base_path = path.parent / (base if base.endswith(".toml") else f"{base}.toml")
        values, origins = _read_chain(base_path, (*seen, resolved))
    _merge(values, own, origins, path, ())
    return values, origins


def _merge(into: dict[str, Any], layer: Mapping[str, Any], origins: _Origins, path: Path, at: tuple[str, ...]) -> None:
    for key, value in layer.items():
        where = (*at, key)
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value, origins, path, where)
        else:
            into[key] = _copy(value)
        origins[where] = path


def _copy(value: Any) -> Any:
    return {k: _copy(v) for k, v in value.items()} if isinstance(value, dict) else value


class _RegionReader:
    """Turns merged TOML values into a Region, naming the right file in every error."""

    def __init__(self, path: Path, values: dict[str, Any], origins: _Origins) -> None:
        self._path = path
        self._values = values
        self._origins = origins

    def _error(self, key: tuple[str, ...], problem: str) -> RegionFileError:
        for end in range(len(key), 0, -1):
            if key[:end] in self._origins:
                return RegionFileError(self._origins[key[:end]], ".".join(key), problem)
        return RegionFileError(self._path, ".".join(key), problem)

    def region(self) -> Region:
        unknown = sorted(set(self._values) - _TOP_KEYS)
        if unknown:
            raise self._error((unknown[0],), f"unknown key; known keys: {', '.join(sorted(_TOP_KEYS - {'extends'}))}")
        enabled = self._enabled_rules()
        texts = self._rule_texts(enabled)
        return Region(
            code=self._string(("code",)),
            name=self._text(("name",)),
            area_prefixes=self._area_prefixes(),
            age_limit=self._number(("age_limit",), AGE_LIMITS),
            child_slots=self._number(("child_slots",), CHILD_SLOTS),
            physical_card_required=self._flag(("physical_card_required",)),
            enabled_rules=enabled,
            texts=MappingProxyType(texts),
            source=self._path,
        )

    def _get(self, key: tuple[str, ...]) -> Any:
        value: Any = self._values
        for part in key:
            if not isinstance(value, dict) or part not in value:
                raise self._error(key, "missing")
            value = value[part]
        return value

    def _string(self, key: tuple[str, ...]) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise self._error(key, "expected a non-empty string")
        return value.strip()

    def _number(self, key: tuple[str, ...], allowed: range) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
            raise self._error(key, f"expected a whole number from {allowed.start} to {allowed.stop - 1}, got {value!r}")
        return value

    def _flag(self, key: tuple[str, ...]) -> bool:
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._error(key, f"expected true or false, got {value!r}")
        return value

    def _text(self, key: tuple[str, ...]) -> LocalText:
        where = ".".join(key)
        try:
            text = LocalText.from_mapping(self._get(key), where)
        except ValueError as exc:
            raise self._error(key, str(exc).removeprefix(f"{where}: ")) from None
        for template in (text.zh, text.en):
            for name in _PLACEHOLDER.findall(template):
                if name not in PLACEHOLDERS:
                    raise self._error(key, f"unknown placeholder {{{name}}}; allowed: {', '.join(PLACEHOLDERS)}")
        return text

    def _area_prefixes(self) -> tuple[str, ...]:
        value = self._values.get("area_prefixes", [])
        if not isinstance(value, list) or not all(
            isinstance(p, str) and p.isdigit() and 1 <= len(p) <= 6 for p in value
        ):
            raise self._error(("area_prefixes",), "expected a list of 1- to 6-digit area code prefixes")
        return tuple(value)

    def _enabled_rules(self) -> tuple[str, ...]:
        key = ("enabled_rules",)
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
            raise self._error(key, "expected a list of rule codes")
        for code in value:
            if code not in RULES_BY_CODE:
                raise self._error(key, f"unknown rule code {code!r}; known: {', '.join(RULES_BY_CODE)}")
        for rule in RULES:
            if rule.required and rule.code not in value:
                raise self._error(key, f"rule {rule.code} cannot be switched off")
        return tuple(rule.code for rule in RULES if rule.code in value)

    def _rule_texts(self, enabled: tuple[str, ...]) -> dict[str, RuleTexts]:
        tables = self._values.get("rules", {})
        if not isinstance(tables, dict):
            raise self._error(("rules",), "expected a table of rule tables")
        for code in tables:
            if code not in RULES_BY_CODE:
                raise self._error(("rules", code), f"unknown rule code; known: {', '.join(RULES_BY_CODE)}")
        texts = {}
        for code in enabled:
            texts[code] = self._one_rule(code)
        return texts

    def _one_rule(self, code: str) -> RuleTexts:
        at = ("rules", code)
        table = self._get(at)
        if not isinstance(table, dict):
            raise self._error(at, "expected a table")
        unknown = sorted(set(table) - _RULE_KEYS)
        if unknown:
            raise self._error((*at, unknown[0]), f"unknown key; known keys: {', '.join(sorted(_RULE_KEYS))}")
        general = RuleText(*(self._text((*at, key)) for key in TEXT_KEYS))
        variants_at = (*at, "variants")
        variant_tables = table.get("variants", {})
        if not isinstance(variant_tables, dict):
            raise self._error(variants_at, "expected a table of variant tables")
        variants = {}
        allowed = RULES_BY_CODE[code].variants
        for name, variant in variant_tables.items():
            where = (*variants_at, name)
            if name not in allowed:
                raise self._error(where, f"unknown variant; this rule has: {', '.join(allowed) or 'none'}")
            if not isinstance(variant, dict) or not set(variant) <= set(TEXT_KEYS):
                raise self._error(where, f"expected a table with some of {', '.join(TEXT_KEYS)}")
            variants[name] = RuleText(
                *(self._text((*where, key)) if key in variant else getattr(general, key) for key in TEXT_KEYS)
            )
        return RuleTexts(general, MappingProxyType(variants))
