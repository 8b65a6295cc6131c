"""Provides the headless automation interface: JSON lines that drive the kiosk session, in the spirit of the AusweisApp SDK.

One JSON object per line each way. A tester's script sends commands (`{"cmd": "ENTER_PIN", "pin":
"123456", "id": 7}`); the kiosk answers each one before it reads the next, with messages
(`{"msg": "STATE", ...}`, `{"msg": "INFO", ...}`, `{"msg": "ERROR", ...}`). Every line of an answer
carries the command's `id` (when it had one) and the answer's last line carries `"last": true`.
Everything runs on the caller's thread: the session's card and registry work runs at once
(an inline effect runner), and the session is told the time before every command (its idle
timeout, closing screens and activation poll), so an answer is complete when it is written.
Which guardian commands are possible is the session's word (`SessionView.actions`). Only
masked personal data (the session's view) is ever written.
"""
from __future__ import annotations

import logging
import math
from importlib import metadata
from typing import Callable, Iterable

from kiosk.automation_messages import state_message
from kiosk.automation_wire import (
    ProtocolError,
    decode_command,
    echoed,
    echoed_id,
    encode_message,
    require_numbers_in_range,
)
from kiosk.errors import CATALOGUE, KioskError
from kiosk.ports import ManualClock, TesterBench
from kiosk.session import Action, InlineRunner, KioskSession, SessionView, Step
from kiosk.text import LANGUAGES

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
PACKAGE = "child-ecard-kiosk"

ANYTIME_COMMANDS = ("GET_INFO", "GET_STATE", "SET_LANGUAGE")
TESTER_COMMANDS = ("INSERT_CARD", "REMOVE_CARD", "ADVANCE_CLOCK")
PHONE_COMMANDS = ("ACTIVATE", "POLL_ACTIVATION")
"""The guardian's phone at the QR code on screen (ACTIVATE with a "code" of its own works at any time)."""
COMMANDS: tuple[str, ...] = (
    *ANYTIME_COMMANDS, "INSERT_CARD", "REMOVE_CARD", Action.MORE_TIME.value, "ADVANCE_CLOCK",
    *(action.value for action in Action if action is not Action.MORE_TIME), *PHONE_COMMANDS,
)
"""Every command the interface knows: the session's actions are the guardian's commands."""

MAX_ADVANCE_SECONDS = 366 * 24 * 3600

_ABSENT = object()


def kiosk_version() -> str:
    """The installed package's version ("unknown" when the kiosk runs from a bare checkout)."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "unknown"


class AutomationInterface:
    """Answers JSON-lines commands by driving a kiosk session; one instance serves one input stream."""

    def __init__(
        self,
        session: KioskSession,
        write: Callable[[str], None],
        *,
        activate_code: Callable[[str], object],
        bench: TesterBench | None = None,
        manual_clock: ManualClock | None = None,
        service_check: Callable[[], object] | None = None,
        kiosk_id: str = "",
        reader: str = "simulated",
    ) -> None:
        """Args:
            session: the kiosk session to drive (already built and wired to its reader).
            write: takes one JSON line (no newline) and delivers it at once (flushed).
            activate_code: what the guardian's app does with a code or URL (`Registry.activate`);
                raises KioskError (ACTIVATION_*) for a code that does not work.
            bench: the tester's hands at the simulated reader; None: INSERT_CARD and REMOVE_CARD are refused.
            manual_clock: the clock the session runs on when it moves only when told; None: ADVANCE_CLOCK is refused.
            service_check: checks the database and rule file now (`ServiceMonitor.check`), before every command.
            kiosk_id, reader: reported by GET_INFO.
        """
        self._session = session
        self._write = write
        self._activate_code = activate_code
        self._bench = bench
        self._manual_clock = manual_clock
        self._service_check = service_check
        self._kiosk_id = kiosk_id
        self._reader = reader
        self._states: list[dict] = []  # the STATE messages of the answer being built
        self._last_state: dict | None = None
        self._started = False
        self._subscribed = False

    # ----------------------------------------------------------------- the loop
    def start(self) -> None:
        """Subscribe to the session and run its work here (a card already in the reader is read); writes nothing."""
        if self._started:
            return
        self._started = True
        if not self._subscribed:
            self._session.subscribe(self._on_view)
            self._subscribed = True
        self._session.use_runner(InlineRunner())
        self._last_state = self._state(self._session.view)
        self._states.clear()

    def run(self, lines: Iterable[str | bytes]) -> None:
        """Answer every line until the input ends, then finish the session (nothing is written for that)."""
        self.start()
        for line in lines:
            self.handle_line(line)
        self.close()

    def close(self) -> None:
        """The input ended: end any visit (the card is asked back) and stop answering."""
        self._started = False
        try:
            self._session.end_visit()
        except Exception:  # noqa: BLE001 - ending must not fail on a broken session
            log.exception("finishing the session at the end of the input failed")
        self._states.clear()

    def handle_line(self, line: str | bytes) -> None:
        """Answer one input line; a blank line is not answered."""
        if not line.strip():
            return
        for message in self.answer(line):
            self._write(encode_message(message))

    def answer(self, line: str | bytes) -> list[dict]:
        """The messages answering one command line, the last one flagged `"last": true`; never raises."""
        self.start()
        request_id: object = _ABSENT
        reply: dict | None = None
        self._states = []
        try:
            request = decode_command(line)
            request_id = echoed_id(_request_id(request))
            require_numbers_in_range(request)
            self._run_timers()
            reply = self._execute(request)
        except ProtocolError as exc:
            reply = {"msg": "ERROR", "error": exc.code, "text": exc.text, **exc.fields}
        except KioskError as exc:
            log.info("command refused: %s %s", exc.code, exc.detail)
            reply = self._kiosk_error(exc.code)
        except Exception:  # noqa: BLE001 - the loop outlives any command; the traceback goes to the log only
            log.exception("automation command failed")
            reply = self._kiosk_error("INTERNAL")
        messages, self._states = self._states, []
        if reply is None:
            current = self._state(self._session.view)
            if not messages or messages[-1] != current:
                messages.append(current)
            self._last_state = current
        else:
            messages.append(reply)
        answer = []
        for message in messages:
            message = dict(message)
            if request_id is not _ABSENT:
                message = {"msg": message.pop("msg"), "id": request_id, **message}
            answer.append(message)
        answer[-1]["last"] = True
        return answer

    # ----------------------------------------------------------------- commands
    def _execute(self, request: dict) -> dict | None:
        """Run one command; returns its reply (INFO, ERROR), or None when the reply is the session's STATE."""
        name = request.get("cmd", _ABSENT)
        if name is _ABSENT:
            raise ProtocolError("BAD_PARAMETER", "a command needs \"cmd\"", parameter="cmd")
        if not isinstance(name, str):
            raise ProtocolError("BAD_PARAMETER", "\"cmd\" must be a string", parameter="cmd")
        if name not in COMMANDS:
            raise ProtocolError("UNKNOWN_COMMAND", f"no command {echoed(name)}", commands=list(COMMANDS))
        log.info("automation command %s at step %s", name, self._session.step.value)
        handler = getattr(self, "_cmd_" + name.lower())
        return handler(request)

    def _require(self, name: str) -> SessionView:
        """The current view, when `name` is one of the commands possible now."""
        view = self._session.view
        if name not in self._allowed(view):
            raise self._wrong_state(name, view)
        return view

    def _act(self, name: str, taken: bool) -> None:
        """The session's answer to a guardian's command: refused (it moved on meanwhile) is WRONG_STATE too."""
        if not taken:
            raise self._wrong_state(name, self._session.view)

    def _wrong_state(self, name: str, view: SessionView) -> ProtocolError:
        allowed = self._allowed(view)
        return ProtocolError(
            "WRONG_STATE", f"{name} is not possible at step {view.step.value}; possible: {', '.join(allowed)}",
            step=view.step.value, allowed=allowed,
        )

    def _cmd_get_info(self, request: dict) -> dict:
        lang = self._session.view.lang
        profiles = [
            {"name": choice.name, "label": choice.label.get(lang), "description": choice.description.get(lang)}
            for choice in (self._bench.choices() if self._bench is not None else [])
        ]
        return {
            "msg": "INFO",
            "name": PACKAGE,
            "version": kiosk_version(),
            "protocol": PROTOCOL_VERSION,
            "kiosk_id": self._kiosk_id,
            "reader": self._reader,
            "manual_clock": self._manual_clock is not None,
            "now": self._session.clock.now().isoformat(),
            "languages": list(LANGUAGES),
            "profiles": profiles,
            "card_in_reader": self._bench.inserted() if self._bench is not None else None,
            "commands": list(COMMANDS),
        }

    def _cmd_get_state(self, request: dict) -> None:
        return None

    def _cmd_set_language(self, request: dict) -> None:
        lang = _text(request, "lang")
        if lang not in LANGUAGES:
            raise ProtocolError("BAD_PARAMETER", f"\"lang\" must be one of {', '.join(LANGUAGES)}", parameter="lang")
        self._session.set_language(lang)

    def _cmd_insert_card(self, request: dict) -> None:
        bench = self._tester_bench("INSERT_CARD")
        profile = _text(request, "profile")
        names = [choice.name for choice in bench.choices()]
        if profile not in names:
            raise ProtocolError("BAD_PARAMETER", f"no virtual card profile {echoed(profile)}; profiles: {', '.join(names)}",
                                parameter="profile")
        bench.insert(profile)

    def _cmd_remove_card(self, request: dict) -> None:
        bench = self._tester_bench("REMOVE_CARD")
        if bench.inserted() is None:
            view = self._session.view
            raise ProtocolError("WRONG_STATE", f"REMOVE_CARD: there is no card in the reader (step {view.step.value})",
                                step=view.step.value, allowed=self._allowed(view))
        bench.remove()

    def _cmd_more_time(self, request: dict) -> None:
        self._require("MORE_TIME")
        self._act("MORE_TIME", self._session.more_time())

    def _cmd_advance_clock(self, request: dict) -> None:
        seconds = _number(request, "seconds")
        if self._manual_clock is None:
            view = self._session.view
            raise ProtocolError("WRONG_STATE", "ADVANCE_CLOCK needs the manual clock (start with --manual-clock)",
                                step=view.step.value, allowed=self._allowed(view))
        if not 0 <= seconds <= MAX_ADVANCE_SECONDS:
            raise ProtocolError("BAD_PARAMETER", f"\"seconds\" must be between 0 and {MAX_ADVANCE_SECONDS}",
                                parameter="seconds")
        self._manual_clock.advance(seconds)
        self._run_timers()

    def _cmd_start(self, request: dict) -> None:
        self._require("START")
        self._act("START", self._session.begin())

    def _cmd_confirm_holder(self, request: dict) -> None:
        self._require("CONFIRM_HOLDER")
        self._act("CONFIRM_HOLDER", self._session.confirm_holder())

    def _cmd_enter_pin(self, request: dict) -> None:
        pin = _text(request, "pin")
        self._require("ENTER_PIN")
        self._act("ENTER_PIN", self._session.submit_pin(pin))

    def _cmd_enter_child(self, request: dict) -> None:
        text = _text(request, "child_id" if "child_id" in request or "id" not in request else "id")
        self._require("ENTER_CHILD")
        self._act("ENTER_CHILD", self._session.submit_child_id(text))

    def _cmd_resume_pending(self, request: dict) -> None:
        index = _integer(request, "index")
        view = self._require("RESUME_PENDING")
        if not 0 <= index < len(view.pending):
            raise ProtocolError("BAD_PARAMETER", f"\"index\" must be between 0 and {len(view.pending) - 1}",
                                parameter="index")
        self._act("RESUME_PENDING", self._session.resume_pending(index))

    def _cmd_pick_child(self, request: dict) -> None:
        index = _integer(request, "index")
        view = self._require("PICK_CHILD")
        children = view.children or ()
        if not 0 <= index < len(children):
            raise ProtocolError("BAD_PARAMETER", f"\"index\" must be between 0 and {len(children) - 1}",
                                parameter="index")
        self._act("PICK_CHILD", self._session.pick_child(index))

    def _cmd_type_child(self, request: dict) -> None:
        self._require("TYPE_CHILD")
        self._act("TYPE_CHILD", self._session.type_child(request.get("open", True) is not False))

    def _cmd_confirm_child(self, request: dict) -> None:
        self._require("CONFIRM_CHILD")
        self._act("CONFIRM_CHILD", self._session.confirm_child())

    def _cmd_another_child(self, request: dict) -> None:
        self._require("ANOTHER_CHILD")
        self._act("ANOTHER_CHILD", self._session.another_child())

    def _cmd_register(self, request: dict) -> None:
        self._require("REGISTER")
        self._act("REGISTER", self._session.consent())

    def _cmd_retry(self, request: dict) -> None:
        self._require("RETRY")
        self._act("RETRY", self._session.retry())

    def _cmd_activate(self, request: dict) -> None:
        code = request.get("code", _ABSENT)
        if code is _ABSENT:
            view = self._require("ACTIVATE")
            assert view.ticket is not None
            code = view.ticket.user_code
        elif not isinstance(code, str):
            raise ProtocolError("BAD_PARAMETER", "\"code\" must be a string", parameter="code")
        self._activate_code(code)
        self._session.check_activation()  # the phone just scanned: the screen follows in this answer

    def _cmd_poll_activation(self, request: dict) -> None:
        self._require("POLL_ACTIVATION")
        self._session.check_activation()

    def _cmd_finish(self, request: dict) -> None:
        self._require("FINISH")
        self._act("FINISH", self._session.finish())

    def _tester_bench(self, name: str) -> TesterBench:
        if self._bench is None:
            view = self._session.view
            raise ProtocolError("WRONG_STATE", f"{name} needs the simulated reader (reader is {self._reader})",
                                step=view.step.value, allowed=self._allowed(view))
        return self._bench

    # ----------------------------------------------------------------- the session's side
    def _allowed(self, view: SessionView) -> list[str]:
        """The commands possible now: the session's actions, the phone at a QR code, and the interface's own."""
        actions = [action.value for action in view.actions if action is not Action.MORE_TIME]
        names = ([*PHONE_COMMANDS] if view.step is Step.ACTIVATION and view.ticket is not None else []) + actions
        names += ANYTIME_COMMANDS
        if self._bench is not None:
            names.append("INSERT_CARD")
            if self._bench.inserted() is not None:
                names.append("REMOVE_CARD")
        if view.allows(Action.MORE_TIME):
            names.append(Action.MORE_TIME.value)
        if self._manual_clock is not None:
            names.append("ADVANCE_CLOCK")
        return names

    def _on_view(self, view: SessionView) -> None:
        # Called by the session after every change, on this thread (the simulated reader's events and the work too):
        # one STATE for each, repeated ones left out.
        if not self._started:
            return
        state = self._state(view)
        if state != self._last_state:
            self._states.append(state)
            self._last_state = state

    def _state(self, view: SessionView) -> dict:
        return state_message(view, self._allowed(view))

    def _run_timers(self) -> None:
        """What the app's timers do between two commands: services checked, then the session told the time."""
        if self._service_check is not None:
            self._service_check()
        self._session.tick()

    def _kiosk_error(self, code: str) -> dict:
        entry = CATALOGUE.get(code, CATALOGUE["INTERNAL"])
        lang = self._session.view.lang
        return {
            "msg": "ERROR", "error": entry.code, "text": entry.text.get(lang),
            "next_step": entry.next_step.get(lang), "retriable": entry.retriable,
        }


# --------------------------------------------------------------------- reading commands
def _request_id(request: dict) -> object:
    """The id to echo in the answer. ENTER_CHILD may carry the child's ID number in "id" (with no
    "child_id"): that one is personal data, never echoed."""
    if request.get("cmd") == "ENTER_CHILD" and "child_id" not in request:
        return _ABSENT
    return request.get("id", _ABSENT)


def _text(request: dict, key: str) -> str:
    value = request.get(key, _ABSENT)
    if value is _ABSENT:
        raise ProtocolError("BAD_PARAMETER", f"{request['cmd']} needs \"{key}\"", parameter=key)
    if not isinstance(value, str):
        raise ProtocolError("BAD_PARAMETER", f"\"{key}\" must be a string", parameter=key)
    return value


def _integer(request: dict, key: str) -> int:
    value = request.get(key, _ABSENT)
    if value is _ABSENT:
        raise ProtocolError("BAD_PARAMETER", f"{request['cmd']} needs \"{key}\"", parameter=key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError("BAD_PARAMETER", f"\"{key}\" must be an integer", parameter=key)
    return value


def _number(request: dict, key: str) -> float:
    value = request.get(key, _ABSENT)
    if value is _ABSENT:
        raise ProtocolError("BAD_PARAMETER", f"{request['cmd']} needs \"{key}\"", parameter=key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProtocolError("BAD_PARAMETER", f"\"{key}\" must be a number", parameter=key)
    return float(value)
