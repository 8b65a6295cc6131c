"""The out-of-service screen on the guardian's side: it says why in plain words and goes away by itself."""
from __future__ import annotations

import shutil

from kiosk import CONFIG_DIR
from kiosk.session import Step
from tests.functional.screen_image import screen_text


async def test_database_gone_and_back_with_the_screens_following(start_kiosk, tmp_path):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        database = tmp_path / "data" / "registry.sqlite3"
        journey.kiosk.registry.close()
        database.rename(tmp_path / "away.sqlite3")
        journey.kiosk.monitor.check()
        await journey.reach(Step.OUT_OF_SERVICE)
        text = screen_text(journey.app)
        assert "本机暂停服务" in text and "系统暂时无法办理业务" in text and "正在自动恢复" in text
        await journey.pilot.press("enter", "f9", "escape")  # nothing a guardian presses starts a visit now
        assert journey.session.step is Step.OUT_OF_SERVICE
        (tmp_path / "away.sqlite3").rename(database)
        journey.kiosk.monitor.check()
        await journey.reach(Step.WELCOME)
        assert "本机暂停服务" not in screen_text(journey.app)


async def test_broken_rules_in_english_and_back(start_kiosk, tmp_path):
    rules = tmp_path / "rules" / "default.toml"
    rules.parent.mkdir()
    shutil.copy(CONFIG_DIR / "regions" / "default.toml", rules)
    async with start_kiosk(region=str(rules), language="en") as journey:
        await journey.reach(Step.WELCOME)
        rules.write_text("age_limit = [", encoding="utf-8")
        journey.kiosk.monitor.check()
        await journey.reach(Step.OUT_OF_SERVICE)
        assert "This kiosk is being set up" in screen_text(journey.app)
        shutil.copy(CONFIG_DIR / "regions" / "default.toml", rules)
        journey.kiosk.monitor.check()
        await journey.reach(Step.WELCOME)
