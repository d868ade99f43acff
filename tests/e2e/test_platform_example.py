"""examples/platform_bot.py over HTTP, FakeWeChat playing the open platform: a merchant authorizes through the page,
a follower of the new authorizer chats, and WeChat's release test passes."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from wxhook.testing import FakeWeChat

from ..conftest import serve
from .test_platform import AUTHORIZER, AUTHORIZER_GH, COMPONENT, parse_links, until


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[ModuleType, FakeWeChat]]:
    monkeypatch.chdir(tmp_path)  # wxhook-platform.db, the default store, goes here
    monkeypatch.delenv("WXHOOK_STORE", raising=False)
    for name in ("APPID", "SECRET", "TOKEN", "AES_KEY"):
        monkeypatch.setenv(f"WXHOOK_PLATFORM_{name}", getattr(COMPONENT, name.lower()) or "")
    with FakeWeChat() as fake:
        fake.platform(appid=COMPONENT.appid or "", secret=COMPONENT.secret, token=COMPONENT.token,
                      aes_key=COMPONENT.aes_key)
        sys.modules.pop("examples.platform_bot", None)
        module = importlib.import_module("examples.platform_bot")
        module.bot.api = fake.client()
        yield module, fake
        sys.modules.pop("examples.platform_bot", None)


async def test_a_merchant_authorizes_and_a_follower_chats(example: tuple[ModuleType, FakeWeChat],
                                                          tmp_path: Path) -> None:
    module, fake = example
    platform = fake.platform(appid=COMPONENT.appid or "")
    with serve(module.bot) as url:
        platform.events_url = f"{url}events"
        assert (await platform.push_ticket()).ok
        platform.sign_in_merchant(AUTHORIZER, original_id=AUTHORIZER_GH, name="East Street")
        async with httpx.AsyncClient(follow_redirects=True) as browser:
            assert (await browser.get(f"{url}authorize", params={"shop": "nowhere"})).status_code == 403
            page = await browser.get(f"{url}authorize", params={"shop": "east"})
            done = await browser.get(parse_links(page.text)["pc"], headers={"referer": str(page.url)})
        assert done.text == "East Street is now connected to shop east."
        await until(lambda: platform.authorizations[AUTHORIZER].exchanged)
        async with platform.bot_client(f"{url}$APPID$", AUTHORIZER) as follower:
            assert (await follower.send_text("hi")).content == f"[{AUTHORIZER}] you said: hi"
        report = await platform.release_test(f"{url}$APPID$", events_url=f"{url}events")
        assert report.passed, str(report)
    assert (tmp_path / "wxhook-platform.db").exists(), "the records went to the default SQLite file"
