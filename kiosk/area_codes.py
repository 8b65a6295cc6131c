"""Provides the GB/T 2260 administrative area codes the resident-ID check knows, from the data file in config/.

The list is `config/gbt2260-area-codes.txt` (its header states the source and the date of the list). It keeps
every code that was ever in use, retired ones included: an ID number keeps the area code of the place where it
was first issued, so a code abolished since (崇文区 110103, until 2010) still starts valid numbers, and people
born before a code existed hold numbers with it. `python -m kiosk.area_codes update` rebuilds the file from an
installed python-stdnum (its `stdnum/cn/loc.dat`).
"""
from __future__ import annotations

import argparse
import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.embedded import CONFIG_DIR

AREA_CODES_FILE = CONFIG_DIR / "gbt2260-area-codes.txt"
"""Shipped with the kiosk's other data (config/, installed as the package kiosk.config)."""
EXTRA_CODES = {
    "830000": "台湾居民居住证 (Taiwan residents' residence permit, 2018): not in GB/T 2260, "
              "but the address code of those 18-character numbers",
}
"""Codes that start valid 18-character numbers without being GB/T 2260 area codes."""

_LINE = re.compile(r"^(\d{6})\t([^\t]*)\t(\d{4})?-(\d{4})?$")


@dataclass(frozen=True)
class AreaCode:
    """One entry of the list: a code, the name it had, and the years it had that name (None: open)."""

    code: str
    name: str
    since: int | None
    until: int | None


@dataclass(frozen=True)
class AreaCodeList:
    """The area codes, and every prefix of one (for live feedback while a number is typed)."""

    entries: tuple[AreaCode, ...]
    codes: frozenset[str]
    prefixes: frozenset[str]

    def known(self, code: str) -> bool:
        """Whether `code` (6 digits) is, or was, an area code."""
        return code in self.codes

    def prefix_possible(self, prefix: str) -> bool:
        """Whether some area code starts with `prefix` (1 to 6 digits)."""
        return prefix in self.prefixes


def parse_area_codes(text: str, where: str = "area codes") -> AreaCodeList:
    """Read the data file's text: `#` comments, then `code<TAB>name<TAB>since-until` lines (years may be empty).

    Raises:
        ValueError: naming `where` and the line, for a line that is neither.
    """
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"{where}: line {number} is not 'code<TAB>name<TAB>since-until': {line[:60]!r}")
        code, name, since, until = match.groups()
        entries.append(AreaCode(code, name, int(since) if since else None, int(until) if until else None))
    if not entries:
        raise ValueError(f"{where}: no area codes")
    codes = frozenset(entry.code for entry in entries)
    prefixes = frozenset(code[:end] for code in codes for end in range(1, 7))
    return AreaCodeList(tuple(entries), codes, prefixes)


@functools.cache
def area_codes() -> AreaCodeList:
    """The kiosk's list, read once from AREA_CODES_FILE.

    Raises:
        ValueError: when the file is missing or broken (the kiosk cannot check area codes without it).
    """
    try:
        text = AREA_CODES_FILE.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{AREA_CODES_FILE}: {exc.strerror}") from None
    return parse_area_codes(text, str(AREA_CODES_FILE))


# ----------------------------------------------------------------------------- rebuilding the file
def entries_from_stdnum_loc(text: str) -> list[AreaCode]:
    """The entries of python-stdnum's `cn/loc.dat`: `NN province=...` lines, then `  NNNN county="[since-until]name,..."`."""
    entries: list[AreaCode] = []
    province = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        suffix, _, props = line.strip().partition(" ")
        names = re.search(r'county="([^"]*)"', props)
        if province is None or names is None or len(province + suffix) != 6:
            continue
        for part in names.group(1).split(","):
            since = until = None
            if part.startswith("["):
                years, _, part = part[1:].partition("]")
                start, _, end = years.partition("-")
                since, until = (int(start) if start else None), (int(end) if end else None)
            entries.append(AreaCode(province + suffix, part, since, until))
    return entries


def render(entries: list[AreaCode], source: str) -> str:
    """The data file's text for `entries`, with a header naming `source`."""
    newest = max(year for entry in entries for year in (entry.since, entry.until) if year is not None)
    header = [
        "# GB/T 2260 administrative area codes (中华人民共和国行政区划代码), county level, for the resident-ID check.",
        f"# Source: {source}, which python-stdnum builds from the Wikipedia lists",
        "#   of PRC administrative division codes (中华人民共和国行政区划代码, regions 1 to 8), which follow",
        "#   GB/T 2260 and the Ministry of Civil Affairs' yearly code changes.",
        f"# Date of the list: the newest change it records is from {newest}.",
        "# Every code that was ever in use is kept, retired ones included (years since-until; empty: open):",
        "#   an ID number keeps the code of the place it was first issued, whenever that code was abolished.",
        "# Rebuilt with: python -m kiosk.area_codes update   (needs python-stdnum, a test extra)",
        "# Extra codes that start valid numbers without being GB/T 2260 codes:",
        *(f"#   {code}  {why}" for code, why in EXTRA_CODES.items()),
    ]
    lines = [f"{e.code}\t{e.name}\t{e.since or ''}-{e.until or ''}" for e in entries]
    lines += [f"{code}\t{why.split(' (')[0]}\t2018-" for code, why in EXTRA_CODES.items()]
    return "\n".join(header + lines) + "\n"


def rebuild_from_stdnum() -> Path:
    """Write AREA_CODES_FILE from the installed python-stdnum.

    Raises:
        ModuleNotFoundError: without python-stdnum.
    """
    from importlib import metadata, resources

    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    source = f"python-stdnum {metadata.version('python-stdnum')}, stdnum/cn/loc.dat"
    AREA_CODES_FILE.write_text(render(entries_from_stdnum_loc(text), source), encoding="utf-8")
    return AREA_CODES_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.area_codes", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("update", "check"))
    args = parser.parse_args(argv)
    if args.command == "update":
        try:
            path = rebuild_from_stdnum()
        except ModuleNotFoundError:
            print("kiosk: rebuilding the area codes needs python-stdnum: pip install -e '.[test]'", file=sys.stderr)
            return 1
        print(f"wrote {path}")
        return 0
    listed = area_codes()
    print(f"{AREA_CODES_FILE}: {len(listed.codes)} codes, {len(listed.entries)} entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
