"""Provides StartupError: what stops the kiosk (or one of its commands) from starting, in one line for the operator."""
from __future__ import annotations


class StartupError(Exception):
    """Something that stops the kiosk from starting; the message is one line for the operator."""
