"""The catalogue tools, on Babel: check the catalogues against the code, compile them, make a template.

    python -m kiosk.i18n.tool check     # what the tests run; exit 1 with one line per problem
    python -m kiosk.i18n.tool compile   # .po -> .mo, after editing a .po
    python -m kiosk.i18n.tool extract   # the keys the code uses -> kiosk/locale/kiosk.pot

The keys the code uses are what Babel extracts from calls to `t`, `tn`, `message`, `plural` and `N_`
(first argument, a string literal) in kiosk/, screens/, devices/, ecard_kiosk/ and registry_service/, plus the error
catalogue's `err.<CODE>` and `err.<CODE>.next` for every catalogued code. A key built at run time
(`self.t(f"notice.{code}")`) must be declared with `N_("notice.CARD_REMOVED")` next to the code
that builds it, or it is reported as unused and its absence would go unnoticed.
"""
from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

from kiosk.embedded import package_folder
from kiosk.i18n import DOMAIN, LOCALE_DIR, LOCALES

SOURCES = ("kiosk", "screens", "devices", "ecard_kiosk", "registry_service")
"""The packages whose code asks for words (the tool runs where they are installed for development, pip install -e)."""
KEYWORDS = {"t": None, "tn": None, "message": None, "plural": None, "N_": None}
_PLACEHOLDER = re.compile(r"\{(\w+)[^{}]*\}")


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(locale: str) -> Catalog:
    with po_path(locale).open("rb") as file:
        return read_po(file, locale=locale, domain=DOMAIN)


def used_keys() -> dict[str, list[str]]:
    """Every key the code asks for, with where (file:line)."""
    found: dict[str, list[str]] = {}

    def note(key: str, where: str) -> None:
        found.setdefault(key, []).append(where)

    for package in SOURCES:
        for filename, lineno, msg, _comments, _context in extract_from_dir(
                package_folder(package), method_map=[("**.py", "python")], keywords=KEYWORDS):
            key = msg[0] if isinstance(msg, tuple) else msg
            note(key, f"{package}/{filename}:{lineno}")
    from kiosk.errors import CATALOGUE

    for code in CATALOGUE:
        note(f"err.{code}", "kiosk/errors.py (catalogue)")
        note(f"err.{code}.next", "kiosk/errors.py (catalogue)")
        if CATALOGUE[code].has_basis:
            note(f"err.{code}.basis", "kiosk/errors.py (catalogue)")
    return found


def _placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


def problems() -> list[str]:
    """Everything wrong with the catalogues, one line each (empty: all good)."""
    out: list[str] = []
    used = used_keys()
    catalogues = {}
    for locale in LOCALES.values():
        try:
            catalogues[locale] = read_catalogue(locale)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            out.append(f"{po_path(locale)}: cannot be read: {exc}")
    reference = "en"
    for locale, catalogue in catalogues.items():
        keys = {}
        for entry in catalogue:
            if not entry.id:
                continue
            key = entry.id[0] if isinstance(entry.id, tuple) else entry.id
            keys[key] = entry
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            if entry.fuzzy:
                out.append(f"{locale}: {key}: marked fuzzy (check the text, then remove the flag)")
            if not all(s.strip() for s in strings):
                out.append(f"{locale}: {key}: empty text")
            if locale != reference and reference in catalogues:
                other = catalogues[reference].get(entry.id)
                if other is not None:
                    theirs = other.string if isinstance(other.string, tuple) else (other.string,)
                    if set().union(*map(_placeholders, strings)) != set().union(*map(_placeholders, theirs)):
                        out.append(f"{locale}: {key}: placeholders differ from {reference}")
        for key, where in sorted(used.items()):
            if key not in keys:
                out.append(f"{locale}: {key}: missing (used at {where[0]})")
        for key in sorted(set(keys) - set(used)):
            out.append(f"{locale}: {key}: not used by the code (remove it, or declare it with N_ where it is built)")
        mo = po_path(locale).with_suffix(".mo")
        if not mo.exists():
            out.append(f"{mo}: missing (python -m kiosk.i18n.tool compile)")
        else:
            with mo.open("rb") as file:
                compiled = read_mo(file)
            if _content(compiled) != _content(catalogue):
                out.append(f"{mo}: older than its .po (python -m kiosk.i18n.tool compile)")
    return out


def _content(catalogue: Catalog) -> dict:
    def frozen(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {frozen(entry.id): frozen(entry.string) for entry in catalogue if entry.id and entry.string}


def compile_all() -> list[Path]:
    written = []
    for locale in LOCALES.values():
        catalogue = read_catalogue(locale)
        mo = po_path(locale).with_suffix(".mo")
        buffer = io.BytesIO()
        write_mo(buffer, catalogue)
        if not mo.exists() or mo.read_bytes() != buffer.getvalue():
            mo.write_bytes(buffer.getvalue())
            written.append(mo)
    return written


def extract_template() -> Path:
    template = Catalog(domain=DOMAIN, project="child-ecard-kiosk", charset="utf-8")
    template.fuzzy = False
    for key, where in sorted(used_keys().items()):
        template.add(key, locations=[(w.rsplit(":", 1)[0], int(w.rsplit(":", 1)[1])) for w in where if ":" in w
                                     and w.rsplit(":", 1)[1].isdigit()])
    path = LOCALE_DIR / f"{DOMAIN}.pot"
    with path.open("wb") as file:
        write_po(file, template, width=100, omit_header=False)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.i18n.tool", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("check", "compile", "extract"))
    args = parser.parse_args(argv)
    if args.command == "compile":
        for path in compile_all():
            print(f"compiled {path}")
        return 0
    if args.command == "extract":
        print(f"wrote {extract_template()}")
        return 0
    found = problems()
    for line in found:
        print(line)
    if not found:
        print(f"catalogues {', '.join(LOCALES.values())}: complete ({len(used_keys())} keys)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
