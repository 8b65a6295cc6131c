"""Provides screen_for: the one screen that presents each step of the session."""
from __future__ import annotations

from kiosk.session import SessionView, Step
from screens.activated import ActivatedScreen
from screens.activation import ActivationScreen
from screens.base import StepScreen
from screens.child_confirm import ChildConfirmScreen
from screens.child_id import ChildIdScreen
from screens.eligible import EligibleScreen
from screens.error import ErrorScreen
from screens.holder import HolderScreen
from screens.insert_card import InsertCardScreen
from screens.not_eligible import NotEligibleScreen
from screens.out_of_service import OutOfServiceScreen
from screens.pin import PinScreen
from screens.reading import ReadingScreen
from screens.take_card import TakeCardScreen
from screens.welcome import WelcomeScreen

_SCREENS: tuple[type[StepScreen], ...] = (
    WelcomeScreen, InsertCardScreen, ReadingScreen, HolderScreen, PinScreen, ChildIdScreen,
    ChildConfirmScreen, EligibleScreen, NotEligibleScreen, ActivationScreen, ActivatedScreen,
    TakeCardScreen, ErrorScreen, OutOfServiceScreen,
)
SCREEN_FOR_STEP: dict[Step, type[StepScreen]] = {step: cls for cls in _SCREENS for step in cls.steps}


def screen_for(view: SessionView) -> StepScreen:
    """A new screen presenting `view`."""
    return SCREEN_FOR_STEP[view.step](view)
