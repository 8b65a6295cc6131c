"""Provides the busy screen shown while the card is read or the registration is written."""
from __future__ import annotations

from kiosk.messages import N_

from textual.app import ComposeResult
from textual.widgets import LoadingIndicator, Static

from kiosk.session import Step
from screens.base import StepScreen


class ReadingScreen(StepScreen):
    steps = (Step.READING, Step.REGISTERING)
    AUTO_FOCUS = ""  # nothing to focus (None would inherit the app's "*" and focus the first button)

    def body(self) -> ComposeResult:
        key = N_("reading.heading") if self.view.step is Step.READING else N_("registering.heading")
        yield Static(self.t(key), classes="heading")
        yield LoadingIndicator()
