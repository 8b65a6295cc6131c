"""Provides the tester panel (F9, simulated mode only): virtual cards in and out, their state changed on the fly,
the guardian's phone at the QR code, and the kiosk's clock jumped."""
from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, ListItem, ListView, Static

from kiosk.errors import KioskError
from kiosk.logbook import follow_clock
from kiosk.messages import N_, message
from kiosk.ports import OffsetClock, TesterBench
from screens.widgets.pin_pad import pad_key

if TYPE_CHECKING:
    from screens.app import KioskApp

log = logging.getLogger(__name__)


JUMPS: dict[str, int] = {"1": 60, "2": 5 * 60, "3": 60 * 60, "4": 24 * 60 * 60}
"""Clock jump presets: the key after J, and seconds (+1 min, +5 min, +1 h, +1 day); J then 0 goes back."""


ACTION_BUTTONS: tuple[tuple[str, str], ...] = (
    ("insert", N_("tester.insert")), ("remove", N_("tester.remove")), ("tries-down", N_("tester.tries_down")),
    ("tries-up", N_("tester.tries_up")), ("block", N_("tester.block")),
    ("expiry", N_("tester.expiry")), ("pull", N_("tester.pull")), ("mute", N_("tester.mute")),
    ("reset", N_("tester.reset")), ("scan", N_("tester.scan")),
    ("jump-1", N_("tester.jump_1min")), ("jump-2", N_("tester.jump_5min")), ("jump-3", N_("tester.jump_1h")),
    ("jump-4", N_("tester.jump_1day")), ("close", N_("tester.close")),
)
"""The panel's buttons (id, label key), five to a row; each does what its key does."""

PAD_BUTTONS: tuple[tuple[str, str | None], ...] = (
    *((digit, None) for digit in "1234567890"),
    ("ok", N_("tester.pad_ok")), ("clear", N_("tester.pad_clear")), ("cancel", N_("tester.pad_cancel")),
)
"""The simulated reader's PIN pad keys (the pad's key, its label key; a digit is its own label), shown when the
reader has a pad: K then the keys does the same from the keyboard."""
PAD_DISPLAY_DIGITS = 6


def format_offset(offset: timedelta) -> str:
    """`+1d 00:05:00`, `-00:01:00`, `+00:00:00`: how far the kiosk's clock is from the system time."""
    seconds = round(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    days, rest = divmod(abs(seconds), 24 * 3600)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{f'{days}d ' if days else ''}{hours:02d}:{minutes:02d}:{secs:02d}"


class TesterPanel(ModalScreen[str | None]):
    """The tester's panel over the kiosk. Keyboard first, every action also a button.

    The card it acts on is the highlighted profile (the card in the reader when it opens).
    Changes to a card apply at once, where a real card would notice them: PIN tries and a pull
    fault at the card's next APDU; expiry and mute at the next insertion (the kiosk reads a card
    once per visit). Inserting, removing, resetting the card in the reader and jumping the clock
    close the panel, so the kiosk reacts at once (and the panel's own keys do not count as the
    guardian's activity)."""

    DEFAULT_CSS = """
    #tester-body { height: 1fr; }
    #tester-body > ListView { width: 1fr; }
    #profiles Label { width: 100%; }  /* a description wraps inside the list instead of being cut mid-word */
    #tester-side { width: 1fr; padding: 0 0 0 2; overflow-y: auto; }
    #tester-side > Static { width: 100%; padding: 0 0 1 0; }
    #card-state { text-style: bold; }
    #tester-prompt { width: 100%; color: $warning; text-style: bold; }
    #tester-prompt.-empty { display: none; }
    #pull-input { display: none; }
    #pull-input.-asking { display: block; }
    #tester-actions { grid-size: 5; grid-gutter: 0 1; height: auto; grid-rows: 1; padding: 1 0 0 0; }
    #tester-actions Button { width: 100%; min-width: 8; padding: 0; }
    #pad-state { padding: 1 0 0 0; text-style: bold; }
    #pad-keys { grid-size: 7; grid-gutter: 0 1; height: auto; grid-rows: 1; }
    #pad-keys Button { width: 100%; min-width: 4; padding: 0; }
    """

    BINDINGS = [
        Binding("escape", "dismiss_panel", "Close"),
        Binding("r", "remove", "Remove card"),
        Binding("t", "ask_tries", "PIN tries"),
        Binding("plus", "tries(1)", "One PIN try more"),
        Binding("minus", "tries(-1)", "One PIN try less"),
        Binding("b", "block", "Block the PIN"),
        Binding("e", "toggle_expiry", "Expire or renew the card"),
        Binding("p", "ask_pull", "Pull after n APDUs"),
        Binding("m", "toggle_mute", "Mute or unmute"),
        Binding("z", "reset", "Reset the card to its profile"),
        Binding("s", "scan", "The phone scans the QR code"),
        Binding("j", "ask_jump", "Jump the clock"),
        Binding("k", "ask_pad", "Type on the reader's PIN pad"),
    ]

    def __init__(self, bench: TesterBench, lang: str) -> None:
        super().__init__()
        self.bench = bench
        self.lang = lang
        self.choices = bench.choices()
        self._asking: str | None = None  # "tries" or "jump": the next key answers; "pad": keys go to the PIN pad
        self._status = ""

    @property
    def kiosk(self) -> "KioskApp":
        return self.app  # type: ignore[return-value]

    def t(self, key: str, **values: object) -> str:
        return message(key, self.lang, **values)

    async def set_lang(self, lang: str) -> None:
        """F2 while the panel is open: the panel follows the session's language."""
        self.lang = lang
        await self.recompose()

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        with Vertical(id="tester-panel"):
            yield Static(self.t("tester.heading"), classes="heading")
            with Horizontal(id="tester-body"):
                yield ListView(
                    *[
                        ListItem(
                            Label(f"{choice.label.get(self.lang)}  [dim]({choice.name})[/]\n  {choice.description.get(self.lang)}"),
                            name=choice.name,
                        )
                        for choice in self.choices
                    ],
                    id="profiles",
                    initial_index=self._initial_index(),
                )
                with Vertical(id="tester-side"):
                    yield Static(id="card-state", markup=False)
                    yield Static(id="clock-state", markup=False)
                    yield Static(self.t("tester.applies"), id="tester-applies")
                    yield Input(id="pull-input", type="integer", max_length=4,
                                placeholder=self.t("tester.pull_placeholder"))
                    yield Static(id="tester-status", markup=False)
            # Under the list, over the buttons, not at the foot of the side column: what the panel asks (T, J, P,
            # K) is in view at 80x24 too, where the side column shows only its first lines.
            yield Static(id="tester-prompt", classes="-empty", markup=False)
            with Grid(id="tester-actions"):
                for button_id, key in ACTION_BUTTONS:
                    button = Button(self.t(key), id=button_id, compact=True)
                    button.can_focus = False  # the list keeps the focus: the keys work after a click too
                    yield button
            if self.bench.pin_pad is not None:
                yield Static(id="pad-state", markup=False)  # under the buttons: in view at 80x24 too
                with Grid(id="pad-keys"):
                    for pad_key_name, key in PAD_BUTTONS:
                        button = Button(self.t(key) if key else pad_key_name, id=f"pad-{pad_key_name}", compact=True)
                        button.can_focus = False
                        yield button

    def _initial_index(self) -> int:
        # The card in the reader; else the profile highlighted when the panel last closed (after R the tester
        # is still working on that card: the highlight must not jump back to the first profile).
        names = [choice.name for choice in self.choices]
        for name in (self.bench.inserted(), self.kiosk.tester_profile):
            if name in names:
                return names.index(name)
        return 0

    def on_mount(self) -> None:
        profiles = self.query_one("#profiles", ListView)
        profiles.focus()
        # The highlighted profile in view (it may be far down the list): the tester sees which card keys act on.
        self.call_after_refresh(lambda: profiles.highlighted_child is not None and profiles.scroll_to_widget(
            profiles.highlighted_child, animate=False))
        self.refresh_state()
        # Live: the APDU count grows while the kiosk talks to the card, a pull fault fires, the clock runs.
        self.set_interval(0.5, self.refresh_state, name="tester-state")

    # ----------------------------------------------------------------- what is shown
    @property
    def selected(self) -> str | None:
        """The profile the card actions apply to: the highlighted one."""
        item = self.query_one("#profiles", ListView).highlighted_child
        return item.name if item is not None else None

    def _today(self) -> date:
        # The session's "today": the kiosk's clock, jumped or not.
        return self.kiosk.session.clock.now().astimezone().date()

    def refresh_state(self) -> None:
        """Show the selected card's state, the clock, and the last result."""
        name = self.selected
        self.query_one("#card-state", Static).update(self._card_text(name) if name else self.t("tester.empty"))
        clock = self.kiosk.session.clock
        self.query_one("#clock-state", Static).update(
            self.t("tester.clock", offset=format_offset(clock.offset)) if isinstance(clock, OffsetClock)
            else self.t("tester.clock_fixed"))
        self.query_one("#tester-status", Static).update(self._status)
        pad = self.bench.pin_pad
        if pad is not None:
            # The pad's own display: how many digits it holds (never which), as a real pad shows them.
            typed = min(pad.typed, PAD_DISPLAY_DIGITS)
            dots = "●" * typed + "○" * (PAD_DISPLAY_DIGITS - typed)
            self.query_one("#pad-state", Static).update(
                self.t("tester.pad_waiting", dots=dots) if pad.active else self.t("tester.pad_idle"))

    def _card_text(self, name: str) -> str:
        state = self.bench.state(name)
        lines = [self.t("tester.in_reader", name=name) if state.in_reader else self.t("tester.selected", name=name)]
        if state.pin_blocked:
            lines.append(self.t("tester.state_blocked", max=state.pin_max_tries))
        else:
            lines.append(self.t("tester.state_tries", left=state.pin_tries_left, max=state.pin_max_tries))
        if not state.has_issuer_file:
            lines.append(self.t("tester.state_no_issuer"))
        elif state.expiry is None:
            lines.append(self.t("tester.state_no_expiry"))
        elif state.expiry < self._today():
            lines.append(self.t("tester.state_expired", date=state.expiry.isoformat()))
        else:
            lines.append(self.t("tester.state_expiry", date=state.expiry.isoformat()))
        if state.pull_after_apdus is None:
            lines.append(self.t("tester.state_pull_off", count=state.apdus_since_power_on))
        else:
            lines.append(self.t("tester.state_pull", n=state.pull_after_apdus, count=state.apdus_since_power_on))
        lines.append(self.t("tester.state_mute") if state.mute else self.t("tester.state_answers"))
        return "\n".join(lines)

    def say(self, text: str) -> None:
        """Show the result of the last action."""
        self._status = text
        self.refresh_state()

    def _ask(self, asking: str | None, prompt: str = "") -> None:
        self._asking = asking
        widget = self.query_one("#tester-prompt", Static)
        widget.update(prompt)
        widget.set_class(not prompt, "-empty")

    # ----------------------------------------------------------------- keys
    def on_list_view_highlighted(self, _event: ListView.Highlighted) -> None:
        if self.is_mounted:
            self.kiosk.tester_profile = self.selected
            self.refresh_state()

    def on_key(self, event: events.Key) -> None:
        """The key after T (a digit, + or -) or after J (a preset); any other key just ends the question.
        After K the digits, Enter (OK), Backspace (Clear) and Esc (Cancel) are the PIN pad's, until OK or Cancel."""
        asking = self._asking
        if asking == "pad":
            key = pad_key(event)
            if key is not None:
                event.stop()
                event.prevent_default()
                self.press_pad(key)
                return
            self._ask(None)
            return
        if asking is None or event.key == "escape":
            return
        self._ask(None)
        character = event.character or ""
        if asking == "tries" and (character.isdigit() or character in "+-"):
            event.stop()
            event.prevent_default()
            if character.isdigit():
                self._set_tries(int(character))
            else:
                self.action_tries(1 if character == "+" else -1)
        elif asking == "jump" and (character in JUMPS or character == "0"):
            event.stop()
            event.prevent_default()
            self.jump(character)

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        assert event.item.name is not None
        self.bench.insert(event.item.name)
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button.id or ""
        event.stop()
        if button == "insert":
            if self.selected is not None:
                self.bench.insert(self.selected)
                self.dismiss(None)
        elif button.startswith("jump-"):
            self.jump(button.removeprefix("jump-"))
        elif button.startswith("pad-"):
            self.press_pad(button.removeprefix("pad-"))
        else:
            action = {
                "remove": self.action_remove, "tries-down": lambda: self.action_tries(-1),
                "tries-up": lambda: self.action_tries(1), "block": self.action_block,
                "expiry": self.action_toggle_expiry, "pull": self.action_ask_pull, "mute": self.action_toggle_mute,
                "reset": self.action_reset, "scan": self.action_scan,
            }.get(button, self.action_dismiss_panel)
            action()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_pull_input()
        name = self.selected
        text = event.value.strip()
        if name is None or not text.isdigit():
            self.say(self.t("tester.pull_cancelled"))
            return
        apdus = int(text)
        self.bench.set_pull_after(name, apdus)
        self.say(self.t("tester.pull_set", n=apdus) if apdus else self.t("tester.pull_off"))

    # ----------------------------------------------------------------- actions
    def action_dismiss_panel(self) -> None:
        # Esc first ends a question (T, J, P) the panel is asking; then it closes the panel.
        pull_input = self.query_one("#pull-input", Input)
        if self._asking is not None or pull_input.has_class("-asking"):
            self._ask(None)
            self._close_pull_input()
            self.say(self.t("tester.cancelled"))
            return
        self.dismiss(None)

    def action_remove(self) -> None:
        self.bench.remove()
        self.dismiss(None)

    def action_ask_tries(self) -> None:
        if self.selected is not None:
            self._ask("tries", self.t("tester.ask_tries", max=self.bench.state(self.selected).pin_max_tries))

    def action_tries(self, change: int) -> None:
        if self.selected is not None:
            self._set_tries(self.bench.state(self.selected).pin_tries_left + change)

    def _set_tries(self, tries: int) -> None:
        name = self.selected
        if name is None:
            return
        left = self.bench.set_pin_tries(name, tries)
        self.say(self.t("tester.tries_set", left=left) if left else self.t("tester.blocked"))

    def action_block(self) -> None:
        self._set_tries(0)

    def action_toggle_expiry(self) -> None:
        name = self.selected
        if name is None:
            return
        if not self.bench.state(name).has_issuer_file:
            self.say(self.t("tester.state_no_issuer"))
            return
        expiry = self.bench.toggle_expiry(name, self._today())
        if expiry is None:
            self.say(self.t("tester.state_no_expiry"))
        elif expiry < self._today():
            self.say(self.t("tester.expired_now", date=expiry.isoformat()))
        else:
            self.say(self.t("tester.renewed_now", date=expiry.isoformat()))

    def action_ask_pull(self) -> None:
        if self.selected is None:
            return
        pull_input = self.query_one("#pull-input", Input)
        pull_input.value = ""
        pull_input.add_class("-asking")
        pull_input.focus()
        self._ask(None, self.t("tester.ask_pull"))

    def _close_pull_input(self) -> None:
        self.query_one("#pull-input", Input).remove_class("-asking")
        self._ask(None)
        self.query_one("#profiles", ListView).focus()

    def action_toggle_mute(self) -> None:
        name = self.selected
        if name is not None:
            mute = not self.bench.state(name).mute
            self.bench.set_mute(name, mute)
            self.say(self.t("tester.muted") if mute else self.t("tester.unmuted"))

    def action_reset(self) -> None:
        name = self.selected
        if name is None:
            return
        in_reader = self.bench.state(name).in_reader
        self.bench.reset(name)
        self.say(self.t("tester.reset_done", name=name))
        if in_reader:
            self.dismiss(None)  # the fresh card went in: the kiosk reads it, as after Enter

    def action_scan(self) -> None:
        """The guardian's phone scans the QR code on the kiosk's screen (the registry's activate)."""
        ticket = self.kiosk.view.ticket
        if ticket is None:
            self.say(self.t("tester.scan_no_qr"))
            return
        self.say(self.t("tester.scan_working", code=ticket.user_code))
        self._scan(ticket.url)

    @work(thread=True, exit_on_error=False, group="tester-phone")
    def _scan(self, presented: str) -> None:
        try:
            result = self.bench.scan(presented)
        except KioskError as exc:
            entry = exc.entry
            text = self.t("tester.scan_failed", code=entry.code, text=entry.text.get(self.lang))
        else:
            text = self.t("tester.scan_activated", ecard=result.ecard_id)
        self.app.call_from_thread(self._scanned, text)

    def _scanned(self, text: str) -> None:
        if self.is_attached:
            self.say(text)

    def action_ask_pad(self) -> None:
        if self.bench.pin_pad is None:
            self.say(self.t("tester.pad_none"))
            return
        self._ask("pad", self.t("tester.ask_pad"))

    def press_pad(self, key: str) -> None:
        """One key on the simulated reader's PIN pad ("0".."9", "ok", "clear", "cancel"), only while it waits for a
        PIN (a key pressed before would be taken by the next verification). OK and Cancel end the entry and close
        the panel: the kiosk shows at once what the pad did (checking the PIN, or the pad cancelled)."""
        pad = self.bench.pin_pad
        if pad is None:
            self.say(self.t("tester.pad_none"))
            return
        if not pad.active:
            self._ask(None)
            self.say(self.t("tester.pad_not_waiting"))
            return
        pad.press(key)
        if key in ("ok", "cancel"):
            self._ask(None)
            self.dismiss(None)
            return
        self.refresh_state()

    def action_ask_jump(self) -> None:
        if not isinstance(self.kiosk.session.clock, OffsetClock):
            self.say(self.t("tester.clock_fixed"))
            return
        self._ask("jump", self.t("tester.ask_jump"))

    def jump(self, preset: str) -> None:
        """Jump the kiosk's clock by a preset ("1".."4"; "0": back to the system time), then close the panel."""
        clock = self.kiosk.session.clock
        if not isinstance(clock, OffsetClock):
            self.say(self.t("tester.clock_fixed"))
            return
        clock.jump(JUMPS[preset] if preset in JUMPS else -clock.offset.total_seconds())
        follow_clock(clock)  # log times on the same clock as the audit log's (kiosk.logbook says why)
        log.info("tester jumped the kiosk's clock: now %s from the system time", format_offset(clock.offset))
        self.kiosk.notify(self.t("tester.clock", offset=format_offset(clock.offset)), timeout=4)
        self.dismiss(None)
