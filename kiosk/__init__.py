"""Provides the kiosk's core: domain types, rules, registry and the kiosk session (no UI, no hardware)."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"
