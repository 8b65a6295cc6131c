"""Provides Journey: a Pilot-driven guardian at the kiosk, waiting on session events instead of sleeping."""
from __future__ import annotations

import asyncio
import unicodedata

from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot

from kiosk.session import Step
from screens.child_id import ChildIdScreen
from screens.registry import screen_class


def _key_event(character: str) -> events.Key:
    """The key event a terminal sends for one typed character (as Pilot.press makes it)."""
    key = character if character.isalnum() else _character_to_key(character)
    try:
        char: str | None = unicodedata.lookup(_get_unicode_name_from_key(REPLACED_KEYS.get(key, key)))
    except KeyError:
        char = character
    return events.Key(key, char)


class HeldWork:
    """An effect runner that keeps the session's work waiting for good: a card or a registry that takes its time."""

    def __init__(self) -> None:
        self.waiting: list[str] = []

    def run(self, job, name: str) -> None:
        self.waiting.append(name)


class Journey:
    """Drives a running KioskApp like a guardian (keys and clicks) and a tester (the virtual cards)."""

    def __init__(self, pilot: Pilot, kiosk) -> None:
        self.pilot = pilot
        self.app = pilot.app
        self.kiosk = kiosk
        self.session = kiosk.session
        self._changed = asyncio.Event()
        loop = asyncio.get_running_loop()
        self.session.subscribe(lambda view: loop.call_soon_threadsafe(self._changed.set))

    async def reach(self, step: Step, timeout: float = 10.0):
        """Wait until the session is at `step` and its screen is up; return the screen."""

        def screen_up():
            screen = self.app.screen
            view = self.session.view
            # The screen shows the session's view of now, not an earlier one of the same step (a card pulled
            # mid-read goes WELCOME -> READING -> WELCOME: the first welcome screen is not the one to return).
            if (view.step is step and isinstance(screen, screen_class(view)) and screen.view.step is step
                    and screen.view == view):
                return screen
            return None

        try:
            return await self._wait(screen_up, lambda: self.session.view.step is step, timeout)
        except TimeoutError:
            raise AssertionError(
                f"never reached {step.value}: session at {self.session.step.value}, "
                f"screen {type(self.app.screen).__name__}, error {self.session.view.error}"
            ) from None

    async def until(self, predicate, timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds (looked at after each change of the session and each screen update)."""
        try:
            # What it looks at may change with no change of the session's (a screen's own worker): look after each
            # round of the app's work.
            await self._wait(lambda: True if predicate() else None, lambda: True, timeout)
        except TimeoutError:
            raise AssertionError(f"never held; session at {self.session.step.value}") from None

    async def _wait(self, done, catching_up, timeout: float):
        """Wait until `done()` returns something other than None; return that.

        `done()` is looked at after each change of the session, and, while `catching_up()` holds, after each round
        of the app's work (Pilot.pause waits for the app to go idle): the session is where it should be and its
        screen is on the way, brought up by the app's messages, with no further change of the session to wake on.

        Raises:
            TimeoutError: not done within `timeout` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            await self.pilot.pause()
            result = done()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError
            if catching_up() or self._changed.is_set():
                continue  # the app is at work on what the session said: let it finish (pause waits for it)
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass

    def hold_work(self) -> HeldWork:
        """From now on the session's work waits (the screen of the moment stays, as a slow card would leave it)."""
        held = HeldWork()
        self.session.use_runner(held)
        return held

    async def insert(self, profile: str) -> None:
        self.kiosk.bench.insert(profile)

    async def remove(self) -> None:
        self.kiosk.bench.remove()

    async def type(self, text: str) -> None:
        """Type `text` as a quick hand (or a pasting terminal) does: every key queued for the app at once, in
        order, then wait for the app to have handled them. (Pilot.press waits for the app to go idle twice after
        each key: most of a journey's time went there.)"""
        for character in text:
            self.app.post_message(_key_event(character))
        await self.pilot.pause()

    async def enter_pin(self, pin: str = "123456") -> None:
        await self.reach(Step.PIN)
        await self.type(pin)
        await self.pilot.press("enter")

    async def open_typed_entry(self) -> ChildIdScreen:
        """At the child step: past the list of the guardian's children (key 0) to the typed ID number."""
        screen = await self.reach(Step.CHILD_ID)
        if not isinstance(screen, ChildIdScreen):
            await self.pilot.press("0")  # the session opens the typed entry at once: its screen follows
            screen = await self.reach(Step.CHILD_ID)
        assert isinstance(screen, ChildIdScreen), "the typed entry did not open"
        return screen

    async def enter_child(self, resident_id: str) -> None:
        await self.open_typed_entry()
        await self.type(resident_id.lower() if resident_id.endswith("X") else resident_id)
        await self.pilot.press("enter")

    async def register(self, resident_id: str):
        """From the child-ID step: type the child, confirm, agree; return the activation (QR) screen."""
        await self.enter_child(resident_id)
        await self.reach(Step.CHILD_CONFIRM)
        await self.pilot.press("enter")
        await self.reach(Step.ELIGIBLE)
        await self.pilot.press("enter")
        return await self.reach(Step.ACTIVATION)

    async def to_holder(self, profile: str):
        await self.reach(Step.WELCOME)
        await self.insert(profile)
        return await self.reach(Step.HOLDER)

    async def to_child_id(self, profile: str, pin: str = "123456"):
        await self.to_holder(profile)
        await self.pilot.press("enter")
        await self.enter_pin(pin)
        return await self.open_typed_entry()
