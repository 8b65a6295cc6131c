"""Screens draw their buttons from the session's actions: no button for what the session would refuse, the
"another child" and "try again" buttons exactly where the session takes them, and their keys likewise."""
from __future__ import annotations

from textual.widgets import Button

from kiosk.session import Action, Step
from tests.functional.screen_image import screen_text

A = Action
# Which action each button of a step screen asks for (keypad keys and the welcome options are not session actions).
BUTTONS = {
    Step.WELCOME: {"primary": A.START},
    Step.INSERT_CARD: {"cancel": A.FINISH},
    Step.HOLDER: {"primary": A.CONFIRM_HOLDER, "cancel": A.FINISH},
    Step.PIN: {"primary": A.ENTER_PIN, "cancel": A.FINISH},
    Step.CHILD_ID: {"primary": A.ENTER_CHILD, "cancel": A.FINISH, "resume-0": A.RESUME_PENDING,
                    "type-child": A.TYPE_CHILD, **{f"pick-{i}": A.PICK_CHILD for i in range(9)}},
    Step.CHILD_CONFIRM: {"primary": A.CONFIRM_CHILD, "retype": A.ANOTHER_CHILD},
    Step.ELIGIBLE: {"primary": A.REGISTER, "cancel": A.FINISH},
    Step.NOT_ELIGIBLE: {"primary": A.FINISH, "another": A.ANOTHER_CHILD},
    Step.ACTIVATION: {"leave": A.FINISH},
    Step.ACTIVATED: {"primary": A.FINISH, "another": A.ANOTHER_CHILD},
    Step.ERROR: {"finish": A.FINISH},  # "primary" is "try again" beside "finish", else the only "OK"
}
NOT_ACTIONS = ("language", "help-need", "help-ways", "large-text", "high-contrast")


def actions_drawn(journey) -> set[Action]:
    screen = journey.app.screen
    step = screen.view.step
    drawn = set()
    for button in screen.query(Button):
        if button.id in NOT_ACTIONS or (button.id or "").startswith("key-"):
            continue
        if step is Step.ERROR and button.id == "primary":
            drawn.add(A.RETRY if screen.query("#finish") else A.FINISH)
        else:
            drawn.add(BUTTONS[step][button.id])
    return drawn


async def at(journey, step: Step) -> set[Action]:
    screen = await journey.reach(step)
    drawn = actions_drawn(journey)
    assert drawn <= set(screen.view.actions), f"{step.value}: buttons for {drawn - set(screen.view.actions)}"
    return drawn


async def test_every_button_of_a_journey_is_an_action_the_session_takes(start_kiosk):
    async with start_kiosk() as journey:
        assert await at(journey, Step.WELCOME) == {A.START}
        await journey.pilot.press("enter")
        assert await at(journey, Step.INSERT_CARD) == {A.FINISH}
        await journey.insert("li-na-2.00")
        assert await at(journey, Step.HOLDER) == {A.CONFIRM_HOLDER, A.FINISH}
        await journey.pilot.press("enter")
        assert await at(journey, Step.PIN) == {A.ENTER_PIN, A.FINISH}
        await journey.enter_pin()
        await journey.reach(Step.CHILD_ID)
        await journey.until(lambda: journey.app.screen.view.children is not None)  # her children, listed
        assert await at(journey, Step.CHILD_ID) == {A.PICK_CHILD, A.TYPE_CHILD, A.FINISH}
        await journey.open_typed_entry()
        assert await at(journey, Step.CHILD_ID) == {A.ENTER_CHILD, A.FINISH, A.RESUME_PENDING}  # 李娜 has one waiting
        await journey.enter_child("430102200905200037")  # 张明轩, not her child: not eligible, after the PIN
        assert await at(journey, Step.NOT_ELIGIBLE) == {A.FINISH, A.ANOTHER_CHILD}
        await journey.pilot.press("f3")
        await at(journey, Step.CHILD_ID)
        await journey.register("43010220210214005X")
        assert await at(journey, Step.ACTIVATION) == {A.FINISH}
        journey.kiosk.registry.activate(journey.session.view.ticket.user_code)
        assert await at(journey, Step.ACTIVATED) == {A.FINISH, A.ANOTHER_CHILD}


async def test_a_card_refused_before_the_pin_offers_no_other_child_and_f3_does_nothing(start_kiosk):
    async with start_kiosk(language="en") as journey:
        await journey.reach(Step.WELCOME)
        await journey.insert("wang-fang-expired")
        screen = await journey.reach(Step.NOT_ELIGIBLE)
        assert A.ANOTHER_CHILD not in screen.view.actions
        assert await at(journey, Step.NOT_ELIGIBLE) == {A.FINISH}
        await journey.pilot.press("f3")
        await journey.pilot.pause()
        assert journey.session.step is Step.NOT_ELIGIBLE and journey.app.screen is screen


async def test_try_again_is_drawn_only_where_the_session_would_read_the_card_again(start_kiosk):
    async with start_kiosk(language="en") as journey:
        await journey.reach(Step.WELCOME)
        await journey.insert("bank-card")  # final: not a social security card
        await journey.reach(Step.ERROR)
        assert await at(journey, Step.ERROR) == {A.FINISH}
        assert "Try again" not in screen_text(journey.app)
        await journey.remove()
        await journey.reach(Step.WELCOME)
        await journey.insert("mute-card")  # may go away, and the card is in
        await journey.reach(Step.ERROR)
        assert await at(journey, Step.ERROR) == {A.RETRY, A.FINISH}
        assert "Try again (Enter)" in screen_text(journey.app)
