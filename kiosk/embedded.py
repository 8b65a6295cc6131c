"""Provides where the kiosk's embedded data is installed: default settings, rule files, card profiles, demo data, words.

The data ships inside the installed packages (`config/` as the package `kiosk.config`, the gettext
catalogues under `kiosk/locale/`), so a kiosk installed from its wheel finds it as well as a
checkout does (`pip install -e .`); it is looked up through the import system (the package's spec,
as importlib.resources finds it), never from the folder a module happens to sit in. (importlib.resources
itself is not used: it brings zipfile and more on the kiosk's way to its first screen.)
"""
from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

CONFIG_PACKAGE = "kiosk.config"


def package_folder(package: str) -> Path:
    """The folder on disk of an installed package (its data files are read with ordinary paths).

    Raises:
        ImportError: when the package is not installed, or not as files on disk (a zip import).
    """
    try:
        spec = find_spec(package)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        raise ImportError(f"the package {package} is not installed: run `bash .ci/setup` (pip install -e .) "
                          "in a checkout, or install the kiosk's wheel")
    locations = list(spec.submodule_search_locations or ())
    folder = Path(locations[0]) if len(locations) == 1 else None
    if folder is None or not folder.is_dir():
        raise ImportError(f"{package} must be a package installed as files on disk, not {locations or spec.origin}")
    return folder


CONFIG_DIR = package_folder(CONFIG_PACKAGE)
"""config/: kiosk.toml, regions/, cards/, demo/."""
DEFAULTS_FILE = CONFIG_DIR / "kiosk.toml"
"""The embedded default settings, every key commented."""
REGIONS_DIR = CONFIG_DIR / "regions"
"""The regional rule files a `region` name picks from."""
CARD_PROFILES_DIR = CONFIG_DIR / "cards"
"""The demo virtual cards (and the test PSAM): the card profiles when `card_profiles_dir` is empty."""
DEMO_REGISTRY_FILE = CONFIG_DIR / "demo" / "registry.toml"
"""The fictional people, cards and e-cards an empty database is filled with (`demo_data`)."""
LOCALE_DIR = package_folder("kiosk") / "locale"
"""The gettext catalogues: <locale>/LC_MESSAGES/kiosk.po and .mo."""
