"""Provides the kiosk session (the state machine of a visit) and the picture of it that screens present."""
from kiosk.session.machine import KioskSession, SessionListener, SessionPolicy
from kiosk.session.view import STAGES, CardView, ChildView, HolderView, PendingView, SessionView, Step, TicketView

__all__ = [
    "STAGES", "CardView", "ChildView", "HolderView", "KioskSession", "PendingView", "SessionListener",
    "SessionPolicy", "SessionView", "Step", "TicketView",
]
