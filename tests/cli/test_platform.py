"""`wxhook send --platform` and `wxhook platform resync` against a platform bot under uvicorn, FakeWeChat playing
the open platform."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.conftest import until
from tests.e2e.test_platform import AUTHORIZER, AUTHORIZER_GH, COMPONENT
from wxhook import Bot, Context, Message
from wxhook.cli import main
from wxhook.stores import open_store
from wxhook.stores.keys import platform_key
from wxhook.testing import FakeWeChat, serve

BOT_MODULE = '''
import os
from wxhook import Bot
from wxhook.platform import Platform
bot = Bot(platform=Platform(), api_base=os.environ["FAKE_URL"])
'''


@pytest.fixture
def platform_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APPID", "SECRET", "TOKEN", "AES_KEY"):
        monkeypatch.setenv(f"WXHOOK_PLATFORM_{name}", getattr(COMPONENT, name.lower()) or "")


async def test_send_pushes_for_an_authorizer_with_the_platforms_credentials(
    platform_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = Bot(platform=COMPONENT, store=f"sqlite:///{tmp_path / 'p.db'}")

    @bot.on_text
    def echo(msg: Message, ctx: Context) -> str:
        return f"{ctx.account.appid}: {msg.content}"  # type: ignore[attr-defined]

    with serve(bot) as url:
        argv = ["send", f"{url}{AUTHORIZER}", "--platform", "--to", AUTHORIZER_GH, "text", "hello"]
        assert await asyncio.to_thread(main, argv) == 0
        assert "encrypted text reply" in capsys.readouterr().out
        assert await asyncio.to_thread(main, [*argv[:3], "--plain", *argv[3:]]) == 2


async def test_resync_rebuilds_the_records_of_a_lost_store(platform_env: None, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    store = f"sqlite:///{tmp_path / 'p.db'}"
    with FakeWeChat() as fake:
        platform = fake.platform(appid=COMPONENT.appid or "", secret=COMPONENT.secret, token=COMPONENT.token,
                                 aes_key=COMPONENT.aes_key)
        bot = Bot(platform=COMPONENT, store=store)
        bot.api = fake.client()
        with serve(bot) as url:
            platform.events_url = f"{url}events"
            assert (await platform.push_ticket()).ok
            await platform.authorize(AUTHORIZER, original_id=AUTHORIZER_GH)
            await until(lambda: platform.authorizations[AUTHORIZER].exchanged)
        shared = open_store(store)
        record = platform_key(COMPONENT.appid or "", f"authorizer:{AUTHORIZER}")
        await shared.delete(record)  # the refresh token is lost
        (tmp_path / "platform_bot.py").write_text(BOT_MODULE)
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("FAKE_URL", fake.url)
        monkeypatch.setenv("WXHOOK_STORE", store)
        monkeypatch.syspath_prepend(str(tmp_path))
        sys.modules.pop("platform_bot", None)
        assert await asyncio.to_thread(main, ["platform", "resync", "platform_bot:bot"]) == 0
        kept = await shared.get(record)
        await shared.close()
    assert kept is not None and platform.authorizations[AUTHORIZER].refresh_token in kept
