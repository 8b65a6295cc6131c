"""Provides the out-of-service screen, shown while the kiosk cannot serve; it recovers by itself."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from kiosk.errors import CATALOGUE
from kiosk.session import Step
from screens.base import StepScreen


class OutOfServiceScreen(StepScreen):
    steps = (Step.OUT_OF_SERVICE,)
    AUTO_FOCUS = ""  # nothing to focus (None would inherit the app's "*" and focus the first button)

    def body(self) -> ComposeResult:
        yield Static("⚠ " + self.t("oos.heading"), classes="heading failure")
        reason = CATALOGUE.get(self.view.out_of_service or "OUT_OF_SERVICE", CATALOGUE["OUT_OF_SERVICE"])
        yield Static(reason.text.get(self.view.lang), classes="lead")
        if self.view.service_message:
            # The technician's own words, as typed: never read as markup.
            yield Static(self.t("oos.message", message=self.view.service_message), classes="notice",
                         id="service-message", markup=False)
        yield Static(self.t("oos.lead"), classes="lead")
        if self.view.out_of_service in ("MAINTENANCE", "MAINTENANCE_MODE"):
            yield Static(self.t("oos.technician"), classes="dim-text")
        else:
            yield Static(self.t("oos.recovering"), classes="dim-text")
