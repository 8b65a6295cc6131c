"""Provides KioskApp: the full-screen Textual app that presents the kiosk session, locked down for kiosks."""
from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Callable, ClassVar, cast

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState

from kiosk.session import InlineRunner, KioskSession, SessionView, Step
from screens.base import StepScreen
from screens.button_styles import use_quiet_button_init
from screens.collector import collect_between_visits
from screens.line_breaking import use_kiosk_line_breaking
from screens.registry import screen_class, screen_for
from screens.runner import StartWork, WorkerRunner

if TYPE_CHECKING:
    from kiosk.maintenance import MaintenanceMode
    from kiosk.ports import SimulatedPinPad, TesterBench
    from screens.maintenance.console import MaintenanceConsole
    from screens.maintenance.login import TechnicianLogin
    from screens.tester import TesterPanel
    from screens.timeout import TimeoutWarning

log = logging.getLogger(__name__)

MAINTENANCE_CORNER = (6, 3)
"""The top-left screen cells (columns, rows) where five taps within three seconds open the technician login."""


def _is_up(screen: object, module: str, name: str) -> bool:
    """isinstance(screen, module.name) without importing `module` for it: the idle warning, the tester panel and the
    maintenance screens load when first shown (the first screen does not wait for them), and a screen whose module
    was never imported is not up."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(screen, getattr(loaded, name))


def _is_tester_or_login(screen: object) -> bool:
    """The tester panel or the technician login: modal screens that stay up while the session moves on."""
    return _is_up(screen, "screens.tester", "TesterPanel") or _is_login(screen)


def _is_login(screen: object) -> bool:
    return _is_up(screen, "screens.maintenance.login", "TechnicianLogin")


class SessionChanged(Message):
    """The session has a new picture; posted from whichever thread changed it."""

    def __init__(self, view: SessionView) -> None:
        super().__init__()
        self.view = view


class KioskApp(App, inherit_bindings=False):
    """The kiosk. No quit key, no command palette, no traceback on screen in kiosk mode."""

    CSS_PATH = "kiosk.tcss"
    TITLE = "Child e-card kiosk"
    ENABLE_COMMAND_PALETTE = False
    # Below 38 rows the app gets class -short (the stylesheet drops decoration to keep the buttons in view).
    VERTICAL_BREAKPOINTS: ClassVar = [(0, "-short"), (38, "-tall")]
    BINDINGS: ClassVar = [
        Binding("f1", "help", "Help", show=False, priority=True),
        Binding("f2", "toggle_language", "中文/English", show=False, priority=True),
        Binding("f4", "toggle_large_text", "Large text", show=False, priority=True),
        Binding("f5", "toggle_high_contrast", "High contrast", show=False, priority=True),
        Binding("f6", "repeat_prompt", "Repeat the instruction", show=False, priority=True),
        Binding("f9", "tester_panel", "Tester", show=False, priority=True),
    ]

    def __init__(
        self,
        session: KioskSession,
        *,
        tester: TesterBench | None = None,
        kiosk_mode: bool = True,
        repeat_prompt: Callable[[], None] | None = None,
        keypad_shuffled: bool = False,
        maintenance: MaintenanceMode | None = None,
        simulated_pin_pad: SimulatedPinPad | None = None,
    ) -> None:
        """Args:
            repeat_prompt: says the current step's instruction again (F6); None without voice prompts.
            maintenance: the technicians' maintenance mode; None: no way into it.
            simulated_pin_pad: the simulated reader's PIN pad: while it waits for a PIN, the digits, Enter,
                Backspace and Esc typed at the kiosk are its keys (a real pad's PIN never passes through here).
        """
        use_kiosk_line_breaking()  # Chinese wraps by character, punctuation kept off the wrong line end
        use_quiet_button_init()  # a new button is styled once, when mounted (bench/keys.py)
        super().__init__()
        self.maintenance = maintenance
        self.simulated_pin_pad = simulated_pin_pad
        self.tester_profile: str | None = None  # the tester panel's last highlighted profile, kept between openings
        self._last_input_event: events.Event | None = None
        self.repeat_prompt = repeat_prompt
        self.keypad_shuffled = keypad_shuffled
        self.session = session
        self.effect_runner: WorkerRunner | None = None
        """Runs the session's work while the app is up (made on mount)."""
        self.tester = tester
        self.kiosk_mode = kiosk_mode
        self._view = session.view
        self._held_view: SessionView | None = None
        self._kept_screens: dict[type[StepScreen], StepScreen] = {}
        """The kept step screens (`StepScreen.KEPT`) made so far, each installed: made once, shown every visit."""
        if not kiosk_mode:
            self.bind("ctrl+q", "quit", description="Quit")

    @property
    def tester_panel_enabled(self) -> bool:
        return self.tester is not None

    @property
    def view(self) -> SessionView:
        """The session picture the screens show now."""
        return self._view

    # ----------------------------------------------------------------- life cycle
    def get_default_screen(self) -> StepScreen:
        # The first step's screen is the app's first screen itself: pushed over Textual's blank default one, that
        # blank screen would be styled, laid out and resized too before the first frame (bench/README.md §3).
        # Subscribed first: a change from now on reaches the app as a message, so the first screen never misses one.
        self.session.subscribe(lambda view: self.post_message(SessionChanged(view)))
        self._view = self.session.view  # the session may have moved since __init__ (a card already in)
        self._apply_display(self._view)
        screen = self._step_screen(self._view)
        screen.become_first_screen()
        return screen

    def on_mount(self) -> None:
        self.call_after_refresh(collect_between_visits)  # start-up's objects out of the collector's way
        # The session's work runs in thread workers from now on (a card in before the app was up is read now).
        self.effect_runner = WorkerRunner(self)
        self.session.use_runner(self.effect_runner)
        # The session's timers run on its clock; it is told the time at least as often as it looks for an activation.
        self.set_interval(min(1.0, self.session.policy.poll_seconds), self.check_time, name="session-time")

    def exit(self, result: object = None, return_code: int = 0, message: object = None) -> None:
        """Stop the app; a visit still under way ends first (its card let go of, inline), so no card worker is left
        waiting on a guardian (a PIN pad's entry, say) while the app waits for its workers to finish."""
        self.session.use_runner(InlineRunner())
        self.session.end_visit()
        super().exit(result, return_code, message)

    def on_unmount(self) -> None:
        # No more workers: whatever the session still does (ending the visit at shutdown) runs where it is asked.
        self.session.use_runner(InlineRunner())

    def on_start_work(self, message: StartWork) -> None:
        if self.effect_runner is not None:
            self.effect_runner.start(message.job, message.work_name)

    def on_resize(self, event: events.Resize) -> None:
        # Below 100 columns the title gives way, so the step indicator and the buttons fit.
        self.set_class(event.size.width < 100, "narrow")

    async def on_event(self, event: events.Event) -> None:
        # Any key or touch is activity: it keeps the guardian's session alive.
        if isinstance(event, (events.Key, events.MouseDown)):
            # The same event comes by twice (from the terminal, then bubbling back up); mouse events
            # may come only bubbling (Textual's Pilot). Each one counts once.
            if event is not self._last_input_event:
                self._last_input_event = event
                self.session.touch()
                self._maintenance_input(event)
        await super().on_event(event)

    def _handle_exception(self, error: Exception) -> None:
        # Never a traceback on the guardian's screen: log it, show the catalogued error, go on.
        if not self.kiosk_mode:
            super()._handle_exception(error)
            return
        log.exception("unexpected error in the UI", exc_info=error)

    # ----------------------------------------------------------------- session -> screens
    async def on_session_changed(self, message: SessionChanged) -> None:
        await self.show(message.view)

    async def show(self, view: SessionView) -> None:
        """Put the screen for `view` up, or update the one that is up."""
        previous, self._view = self._view, view
        if self.maintenance_console is not None:
            self._held_view = view  # the guardian screens wait under the console; shown when it closes
            return
        self._apply_display(view)
        screen = self.screen
        while (isinstance(screen, ModalScreen) and not _is_tester_or_login(screen)
               and view.step is not previous.step):
            # Help or the idle warning (or both) stood over a step that is gone (card pulled, timed out, moved on).
            await self.pop_screen()
            screen = self.screen
        if isinstance(screen, ModalScreen):
            self._held_view = view  # shown when the modal closes (the step's work goes on meanwhile)
            set_lang = getattr(screen, "set_lang", None)
            if set_lang is not None and view.lang != previous.lang:
                await set_lang(view.lang)
            return
        current = self.screen
        if isinstance(current, StepScreen) and view.step in current.steps and type(current) is screen_class(view):
            await current.apply(view)
        else:
            await self.switch_screen(await self._screen_to_show(view))
        if view.step in (Step.WELCOME, Step.OUT_OF_SERVICE):
            await self._forget_visit(view)
        if view.step is Step.WELCOME and previous.step is not Step.WELCOME:
            self.call_after_refresh(collect_between_visits)  # a visit ended: its garbage goes, the welcome drawn first

    async def _screen_to_show(self, view: SessionView) -> StepScreen:
        """The screen for `view`: the kept one of its class showing it, or a new one (kept from now on if its class
        says so)."""
        kept = self._kept_screens.get(screen_class(view))
        if kept is not None:
            await kept.reuse(view)
            return kept
        screen = self._step_screen(view)
        if screen.KEPT:
            self.install_screen(screen, name=f"kept-{type(screen).__name__}")
            self._kept_screens[type(screen)] = screen
        return screen

    async def _forget_visit(self, view: SessionView) -> None:
        """No visit any more: the kept screens wipe what they showed of the last one."""
        for screen in self._kept_screens.values():
            if screen.holds_visit and screen is not self.screen and screen.is_mounted:
                await screen.forget(view)

    def _step_screen(self, view: SessionView) -> StepScreen:
        """A new screen for `view`, with the size classes Textual gives a screen on its first resize (-short or
        -tall) already on: set then, they would restyle every widget of the new screen once more (bench/keys.py)."""
        screen = screen_for(view)
        height = self.size.height
        classes = {name: False for _, name in self.VERTICAL_BREAKPOINTS}
        reached = [(threshold, name) for threshold, name in self.VERTICAL_BREAKPOINTS if height >= threshold]
        if reached:
            classes[max(reached)[1]] = True
        screen.update_classes(classes, update=False)
        return screen

    def _apply_display(self, view: SessionView) -> None:
        self.set_class(view.large_text, "large-text")
        self.set_class(view.high_contrast, "high-contrast")

    async def release_held_view(self) -> None:
        """Called when a modal closes: catch up with the session."""
        held, self._held_view = self._held_view, None
        if held is not None:
            await self.show(held)

    # ----------------------------------------------------------------- blocking work
    def run_blocking(self, operation: Callable[..., None], *args: object) -> None:
        """Run a blocking maintenance operation in a thread worker (the session runs its own work: `effect_runner`)."""
        self._run_in_thread(operation, args)

    @work(thread=True, exit_on_error=False, group="maintenance")
    def _run_in_thread(self, operation: Callable[..., None], args: tuple[object, ...]) -> None:
        operation(*args)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        log.error("worker failed", exc_info=error)
        from kiosk.errors import CATALOGUE, KioskError

        entry = error.entry if isinstance(error, KioskError) else CATALOGUE["INTERNAL"]
        # Catalogued words for the guardian, never an exception's text.
        self.notify(f"{entry.text.get(self._view.lang)} {entry.next_step.get(self._view.lang)}",
                    severity="error", timeout=5)

    def check_time(self) -> None:
        """The session's time (idle timeout, deadlines, closing screens, the activation), the idle warning and the
        screens' countdowns; runs every second or faster (tests call it after moving the clock)."""
        if self._check_maintenance_time():
            return
        self.session.tick()
        screen = self.screen
        left = self.session.idle_seconds_left()
        warn = left is not None and left <= self.session.policy.idle_warning_seconds
        if _is_up(screen, "screens.timeout", "TimeoutWarning"):
            if warn:
                cast("TimeoutWarning", screen).update_seconds(left)
            else:
                screen.dismiss(False)  # activity meanwhile, or nothing to wait for any more
        elif warn and left > 0 and not _is_tester_or_login(screen):
            from screens.timeout import TimeoutWarning

            self.push_screen(TimeoutWarning(self._view.lang, left), callback=self._after_warning)
        for step_screen in self.screen_stack:
            tick = getattr(step_screen, "tick", None)
            if isinstance(step_screen, StepScreen) and tick is not None:
                tick()

    async def _after_warning(self, more: bool | None) -> None:
        if more:
            self.session.more_time()
        await self.release_held_view()

    # ----------------------------------------------------------------- actions
    def action_toggle_language(self) -> None:
        # Maintenance screens switch their own language; the guardians' stays as the kiosk's.
        technician_screen = self.maintenance_console or (self.screen if _is_login(self.screen) else None)
        if technician_screen is not None:
            self.call_later(technician_screen.toggle_language)
            return
        self.session.set_language("en" if self._view.lang == "zh" else "zh")

    def action_toggle_large_text(self) -> None:
        if not self._technician_at_work():
            self.session.set_display(large_text=not self._view.large_text)

    def action_toggle_high_contrast(self) -> None:
        if not self._technician_at_work():
            self.session.set_display(high_contrast=not self._view.high_contrast)

    def action_repeat_prompt(self) -> None:
        if self.repeat_prompt is not None and not self._technician_at_work():
            self.repeat_prompt()

    def action_help(self, topic: str = "step") -> None:
        """Open help over the current step (F1 again, Esc or Enter closes it; the step stays as it was)."""
        from screens.help import HelpScreen

        screen = self.screen
        if isinstance(screen, HelpScreen):
            screen.dismiss(None)
            return
        if isinstance(screen, ModalScreen) or self._technician_at_work():
            return
        self.push_screen(HelpScreen(self._view, topic), callback=self._after_modal)

    def action_tester_panel(self) -> None:
        if self.tester is None or isinstance(self.screen, ModalScreen):
            return
        from screens.tester import TesterPanel

        self.push_screen(TesterPanel(self.tester, self._view.lang), callback=self._after_modal)

    async def _after_modal(self, _result: object) -> None:
        await self.release_held_view()

    # ----------------------------------------------------------------- maintenance (technicians)
    @property
    def maintenance_console(self) -> MaintenanceConsole | None:
        """The maintenance console when it is up (possibly under a dialog), else None."""
        console = next((screen for screen in self.screen_stack
                        if _is_up(screen, "screens.maintenance.console", "MaintenanceConsole")), None)
        return cast("MaintenanceConsole | None", console)

    def _technician_at_work(self) -> bool:
        return self.maintenance_console is not None or _is_login(self.screen)

    def _maintenance_input(self, event: events.Key | events.MouseDown) -> None:
        """Technicians' input keeps the console open; guardians' input is watched for the hidden way in."""
        mode = self.maintenance
        if mode is None:
            return
        if self._technician_at_work():
            mode.touch()
            if _is_login(self.screen):
                cast("TechnicianLogin", self.screen).noticed_input(mode.clock.now())
            return
        if isinstance(event, events.Key):
            opened = mode.key_pressed(event.key)
        elif event.screen_x < MAINTENANCE_CORNER[0] and event.screen_y < MAINTENANCE_CORNER[1]:
            opened = mode.corner_tapped()
        else:
            mode.tapped_elsewhere()
            opened = False
        if opened:
            self.call_later(self.action_maintenance)

    async def action_maintenance(self) -> None:
        """Open the technician login (the hidden key sequence, or five taps in the top-left corner)."""
        mode = self.maintenance
        if mode is None or not mode.door.has_technicians or self._technician_at_work():
            return
        while isinstance(self.screen, ModalScreen):
            await self.pop_screen()  # help, the idle warning or the tester panel: the login comes first
        log.info("maintenance login opened")
        from screens.maintenance.login import TechnicianLogin

        await self.push_screen(TechnicianLogin(mode, self._view.lang), callback=self._after_login)

    async def _after_login(self, admitted: bool | None) -> None:
        mode = self.maintenance
        if admitted and mode is not None and mode.active:
            # The visit was ended and the kiosk held out of service by the login (mode.enter).
            from screens.maintenance.console import MaintenanceConsole

            await self.push_screen(MaintenanceConsole(mode, self._view.lang))
            return
        await self.release_held_view()

    def leave_maintenance(self, reason: str) -> None:
        """Close the console and go back to the guardian screens ("left", "idle")."""
        if self.maintenance is not None:
            self._leave_maintenance(reason)

    @work(thread=True, exit_on_error=False, group="maintenance")
    def _leave_maintenance(self, reason: str) -> None:
        assert self.maintenance is not None
        self.maintenance.leave(reason)  # audited; back in service unless a technician or a fault keeps it out
        self.call_from_thread(self._close_console)

    async def _close_console(self) -> None:
        while self.maintenance_console is not None:
            await self.pop_screen()
        self._held_view = None
        await self.show(self.session.view)

    def _check_maintenance_time(self) -> bool:
        """The scheduled purge, the console's idle return and a forgotten login; True while the console is up."""
        mode = self.maintenance
        if mode is None:
            return False
        if mode.purge_due():
            self.run_blocking(mode.run_scheduled_purge)
        left = mode.idle_seconds_left()
        if left is not None and left <= 0:
            log.info("maintenance: no input for %d s, back to the guardian screens", mode.idle_seconds)
            self.leave_maintenance("idle")
        screen = self.screen
        if _is_login(screen) and not cast("TechnicianLogin", screen).busy:
            from screens.maintenance.login import LOGIN_IDLE_SECONDS

            if (mode.clock.now() - cast("TechnicianLogin", screen).last_input).total_seconds() >= LOGIN_IDLE_SECONDS:
                screen.dismiss(False)
        return self.maintenance_console is not None
