"""The parsed stylesheet kept between starts (screens/stylesheet_cache.py): the same screen with it as without it, and a
stale or broken file ignored and written anew, never a kiosk that does not start."""
from __future__ import annotations

import pickle

import pytest

from kiosk.session import Step
from screens.stylesheet_cache import CACHE_FILE, FORMAT, StoredStylesheet, cache_folder
from tests.conftest import kiosk_root
from tests.functional.harness import Journey
from tests.functional.screen_image import screen_cells


@pytest.fixture
def welcome_cells(settings_for, with_demo_registry):
    """`await welcome_cells(folder, written=...)`: the welcome screen's cells of a kiosk started on the stylesheet
    stored in `folder` (None: none); with `written`, once the file has been (re)written after the first screen."""

    async def start(folder, written=False):
        settings = with_demo_registry(settings_for())
        kiosk = kiosk_root.build_kiosk(settings)
        stored = None if folder is None else folder / CACHE_FILE
        before = stored.read_bytes() if stored is not None and stored.exists() else None
        app = kiosk_root.build_app(kiosk, stylesheet_folder=folder)
        async with app.run_test(size=(120, 40)) as pilot:
            journey = Journey(pilot, kiosk)
            await journey.reach(Step.WELCOME)
            if written:
                await journey.until(lambda: stored.exists() and stored.read_bytes() != before)
            return screen_cells(app)

    return start


def _stored_sources(folder) -> int:
    """How many parsed sources a newly built app finds in the file."""
    return StoredStylesheet(folder).load(kiosk_root.build_app(_a_kiosk(folder)))


def _a_kiosk(folder):
    from kiosk.settings import load_settings

    return kiosk_root.build_kiosk(load_settings(environ={}, overrides={
        "data_dir": str(folder.parent / "kiosk-data"), "voice_prompts": "off"}).settings, deferred=True)


async def test_the_welcome_is_the_same_parsed_afresh_stored_and_read_back(tmp_path, welcome_cells):
    folder = tmp_path / "cache"
    without = await welcome_cells(None)
    first = await welcome_cells(folder, written=True)  # no file yet: parsed, then stored
    assert _stored_sources(folder) > 0
    again = await welcome_cells(folder)  # started on the stored rules
    assert first == without
    assert again == without


async def test_a_stale_file_is_ignored_and_written_anew(tmp_path, welcome_cells):
    folder = tmp_path / "cache"
    without = await welcome_cells(None)
    await welcome_cells(folder, written=True)
    stored = folder / CACHE_FILE
    _format, key, entries = pickle.loads(stored.read_bytes())
    # Another Textual (or Python, or theme): the same sources, but a key that does not match.
    stored.write_bytes(pickle.dumps((FORMAT, ("another textual",), entries)))
    assert _stored_sources(folder) == 0
    assert await welcome_cells(folder, written=True) == without
    assert pickle.loads(stored.read_bytes())[1] == key
    assert _stored_sources(folder) > 0


@pytest.mark.parametrize("garbage", [b"", b"not a pickle at all", pickle.dumps(("a", "tuple", "of", "four")),
                                     pickle.dumps((FORMAT, None, [("not", "rules")]))])
async def test_a_broken_file_is_ignored_and_written_anew(tmp_path, welcome_cells, garbage):
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / CACHE_FILE).write_bytes(garbage)
    without = await welcome_cells(None)
    assert _stored_sources(folder) == 0
    assert await welcome_cells(folder, written=True) == without
    assert _stored_sources(folder) > 0


def test_the_cache_folder_is_systemds_then_xdgs_then_the_homes():
    assert cache_folder({"CACHE_DIRECTORY": "/var/cache/ecard-kiosk:/var/cache/other", "XDG_CACHE_HOME": "/x",
                         "HOME": "/home/k"}).as_posix() == "/var/cache/ecard-kiosk"
    assert cache_folder({"XDG_CACHE_HOME": "/x", "HOME": "/home/k"}).as_posix() == "/x/ecard-kiosk"
    assert cache_folder({"XDG_CACHE_HOME": "relative", "HOME": "/home/k"}).as_posix() == "/home/k/.cache/ecard-kiosk"
    assert cache_folder({}) is None
