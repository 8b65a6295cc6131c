"""Provides the parsed stylesheet kept between starts: Textual's rules for each CSS source, stored in the kiosk's cache.

Parsing the kiosk's stylesheet and its widgets' default CSS is a good part of the time to the first
screen, and it comes to the same rules at every start. Textual keeps the rules of each source it
parsed in its stylesheet's parse cache, keyed by the CSS text, where it was read from and its
scope; this module fills that cache from a file before the app's first parse and writes it back
once the first screen is up. The file holds one key besides the rules: the theme's CSS variables
(the rules have them filled in), the Python version and the sizes and modification times of
Textual's and Rich's files (the rules are their objects). A file whose key differs is stale: its
rules are ignored and the file is rewritten. A file that cannot be read or unpickled is ignored
the same way: the kiosk starts as without one.

Pickle runs code named in the file it loads; that is acceptable here because the folder is the
kiosk user's own (systemd's CacheDirectory=, or the user's ~/.cache, made 0700): whoever can write
there can already change what the kiosk runs. Only the command line uses it (ecard_kiosk.commands);
the tests and the automation build their apps without it.
"""
from __future__ import annotations

import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping

if TYPE_CHECKING:
    from textual.app import App
    from textual.cache import LRUCache

log = logging.getLogger(__name__)

CACHE_FILE = "stylesheet.pickle"
FORMAT = 1
"""The file's own layout: (FORMAT, key, entries)."""
FOLDER_NAME = "ecard-kiosk"


def cache_folder(environ: Mapping[str, str]) -> Path | None:
    """Where the kiosk keeps what it can rebuild: $CACHE_DIRECTORY (systemd's CacheDirectory=, the first one),
    else $XDG_CACHE_HOME/ecard-kiosk, else ~/.cache/ecard-kiosk; None without any of them (no home)."""
    systemd = environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd)
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec: a relative path is to be ignored
        return Path(xdg) / FOLDER_NAME
    home = environ.get("HOME", "")
    if home:
        return Path(home) / ".cache" / FOLDER_NAME
    return None


def _libraries_fingerprint() -> tuple[tuple[str, str, int, int], ...]:
    """The sizes and modification times of Textual's and Rich's Python files: another version parses otherwise."""
    import rich
    import textual

    found: list[tuple[str, str, int, int]] = []
    for package in (textual, rich):
        root = os.path.dirname(package.__file__ or "")
        pending = [root]
        while pending:
            with os.scandir(pending.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name != "__pycache__":
                            pending.append(entry.path)
                    elif entry.name.endswith(".py"):
                        status = entry.stat()
                        found.append((package.__name__, entry.path[len(root):], status.st_size, status.st_mtime_ns))
    return tuple(sorted(found))


class StoredStylesheet:
    """The stylesheet cache file of one app: `load` before its first parse, `save` once its first screen is up."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / CACHE_FILE
        self.loaded = 0
        """How many parsed sources came from the file (0: none, or no usable file)."""
        self._stored: set[tuple] = set()
        self._fingerprint: tuple | None = None

    def _key(self, app: "App") -> tuple:
        if self._fingerprint is None:
            self._fingerprint = _libraries_fingerprint()
        variables = tuple(sorted(app.get_css_variables().items()))  # what the app's stylesheet was made with
        return (sys.version, variables, self._fingerprint)

    def load(self, app: "App") -> int:
        """Put the rules stored for `app`'s stylesheet into its parse cache; returns how many sources they are."""
        parse_cache = _parse_cache(app)
        if parse_cache is None:
            return 0
        try:
            with open(self.path, "rb") as handle:
                stored_format, key, entries = pickle.load(handle)
            if stored_format != FORMAT or key != self._key(app):
                log.info("stylesheet cache %s is stale: parsing afresh", self.path)
                return 0
            # Textual keeps 64 sources; room for the stored ones and as many again, so none is dropped.
            parse_cache.grow(2 * len(entries))
            for source, rules in entries:
                parse_cache.set(source, rules)
        except FileNotFoundError:
            return 0
        except Exception as exc:  # a broken file is one to rebuild, never a kiosk that does not start
            log.warning("stylesheet cache %s unusable (%s): parsing afresh", self.path, type(exc).__name__)
            return 0
        self._stored = {source for source, _ in entries}
        self.loaded = len(entries)
        return self.loaded

    def save(self, app: "App") -> bool:
        """Store the rules `app` has parsed, unless the file holds them all already; returns True when written."""
        parse_cache = _parse_cache(app)
        if parse_cache is None:
            return False
        entries = [(source, rules) for source, rules in ((source, parse_cache.get(source)) for source in
                                                         list(parse_cache.keys()))
                   if rules is not None and not any(rule.errors for rule in rules)]
        if not entries or {source for source, _ in entries} <= self._stored:
            return False
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            data = pickle.dumps((FORMAT, self._key(app), entries), protocol=pickle.HIGHEST_PROTOCOL)
            handle, temporary = tempfile.mkstemp(prefix=CACHE_FILE, suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(temporary, self.path)  # a start that reads it meanwhile sees the old file or the new
            except BaseException:
                os.unlink(temporary)
                raise
        except Exception as exc:  # no cache is a slower start, not a failure
            log.warning("stylesheet cache %s not written (%s: %s)", self.path, type(exc).__name__, exc)
            return False
        self._stored = {source for source, _ in entries}
        return True


def _parse_cache(app: "App") -> "LRUCache | None":
    """The stylesheet's parse cache (source -> rules); None where this Textual keeps none the way it is used here."""
    cache = getattr(app.stylesheet, "_parse_cache", None)
    if cache is None or not all(hasattr(cache, name) for name in ("keys", "get", "set", "grow")):
        return None
    return cache


def use_stored_stylesheet(app: "App", folder: Path | None) -> "StoredStylesheet | None":
    """Start `app` on the stylesheet stored in `folder` and store it there once its first screen is up.

    None (nothing done) without a folder.
    """
    if folder is None:
        return None
    stored = StoredStylesheet(folder)
    stored.load(app)
    save: Callable[[], object] = lambda: stored.save(app)  # noqa: E731
    app.call_later(app.call_after_refresh, save)
    return stored
