"""No card I/O while the session's lock is held: a card that hangs while it is let go (a slow pcscd) never holds up the
guardian's keys, whichever runner runs the work."""
from __future__ import annotations

import threading

import pytest

from kiosk.session import InlineRunner, Step

from .conftest import LI_NA_CARD, Stuck, ThreadRunner


def _in_time(action, seconds: float = 3.0) -> bool:
    """Run `action` on a thread of its own (the UI thread); True when it returned within `seconds`."""
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def _keys(session) -> None:
    # What the UI thread does on keys and redraws: activity, a language switch, the picture.
    session.touch()
    session.set_language("en")
    assert session.view.lang == "en"
    session.idle_seconds_left()


@pytest.mark.parametrize("runner", [InlineRunner, ThreadRunner], ids=["inline", "threads"])
def test_a_release_that_hangs_does_not_hold_up_the_guardians_keys(own_session, runner) -> None:
    own = own_session(card=lambda service: Stuck(service, "release", "card_present"), runner=runner())
    session = own.session
    own.bench.insert(LI_NA_CARD)
    own.waiter.until(lambda v: v.step is Step.HOLDER)

    ending = threading.Thread(target=session.finish, daemon=True)  # inline: the release hangs on this thread
    ending.start()
    assert own.card.entered["release"].wait(5)

    assert _in_time(lambda: _keys(session)), "a key waited for the card's release"
    view = session.view
    assert view.step is Step.TAKE_CARD and view.holder is None  # ended and wiped before the card was let go
    assert "card_present" not in own.card.calls  # where the card is comes from the reader's events, not a call

    own.card.go()
    ending.join(5)
    if isinstance(own.runner, ThreadRunner):
        own.runner.join()
    assert not ending.is_alive()


def test_a_card_pulled_while_its_release_hangs_still_reaches_the_welcome_screen(own_session) -> None:
    own = own_session(card=lambda service: Stuck(service, "release"), runner=ThreadRunner())
    session = own.session
    own.bench.insert(LI_NA_CARD)
    own.waiter.until(lambda v: v.step is Step.HOLDER)
    session.finish()
    assert own.card.entered["release"].wait(5)
    assert _in_time(own.bench.remove)  # the reader's event, on the tester's thread
    assert session.view.step is Step.WELCOME
    own.card.go()
    own.runner.join()
