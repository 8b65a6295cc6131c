"""Provides the kiosk session (the state machine of a visit, with its effects) and the picture of it that screens present."""
from kiosk.session.machine import KioskSession, SessionListener, load_event_code
from kiosk.session.runner import InlineRunner
from kiosk.session.state import SessionPolicy
from kiosk.session.view import (
    STAGES,
    Action,
    CardView,
    ChildView,
    HolderView,
    PendingView,
    SessionView,
    Step,
    TicketView,
)

__all__ = [
    "STAGES", "Action", "CardView", "ChildView", "HolderView", "InlineRunner", "KioskSession", "PendingView",
    "SessionListener", "SessionPolicy", "SessionView", "Step", "TicketView", "load_event_code",
]
