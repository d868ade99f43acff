"""examples/qrscene.py over HTTP with FakeWeChat: codes made by an admin, first-touch attribution, retries and
re-follows counted once, scans tallied."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from wxhook.testing import BotClient, FakeWeChat

from ..conftest import serve

TOKEN = "qrscene-token"
ADMIN = "o_admin"


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[ModuleType, FakeWeChat]]:
    with FakeWeChat() as fake:
        for name, value in (("WXHOOK_TOKEN", TOKEN), ("WXHOOK_APPID", fake.appid), ("WXHOOK_SECRET", fake.secret),
                            ("WXHOOK_API_BASE", fake.url), ("WXHOOK_MP_BASE", fake.url), ("QRSCENE_ADMINS", ADMIN),
                            ("WXHOOK_STORE", f"sqlite:///{tmp_path / 'qrscene.db'}")):
            monkeypatch.setenv(name, value)
        sys.modules.pop("examples.qrscene", None)
        yield importlib.import_module("examples.qrscene"), fake
        sys.modules.pop("examples.qrscene", None)


async def test_followers_are_credited_to_the_code_that_brought_them(
    example: tuple[ModuleType, FakeWeChat],
) -> None:
    qrscene, fake = example
    with serve(qrscene.bot) as url:
        async with BotClient(url, token=TOKEN) as wechat:
            made = await wechat.send_text("qr spring-poster", openid=ADMIN)
            (call,) = fake.calls("/cgi-bin/qrcode/create")
            scene = {"scene": {"scene_str": "spring-poster"}}
            assert call.json == {"action_name": "QR_STR_SCENE", "action_info": scene, "expire_seconds": 2592000}
            (ticket,) = fake.state.qrcodes
            assert made.content == (f"QR code for spring-poster, valid 30 days: {fake.url}/cgi-bin/showqrcode?"
                                    f"ticket={ticket.replace('=', '%3D')}")
            assert (await wechat.send_text("qr x", openid="o_stranger")).content == "Thanks for your message!"

            follow = wechat.message("event", "o_a", Event="subscribe", EventKey="qrscene_spring-poster", Ticket=ticket)
            first = await wechat.post(follow)
            assert first.content == "Welcome! Show this chat at the counter for your spring discount."
            assert (await wechat.post(follow)).content == first.content  # WeChat's retry: the same answer, once
            await wechat.send_event("unsubscribe", "o_a")
            again = await wechat.send_event("subscribe", "o_a", EventKey="qrscene_metro-ad", Ticket="T2")
            assert again.content.startswith("Welcome, commuter!")  # greeted for this code, credited to the first
            await wechat.send_event("subscribe", "o_b", EventKey="qrscene_metro-ad", Ticket="T2")
            assert (await wechat.send_event("subscribe", "o_c")).content == "Welcome!"
            assert (await wechat.send_event("SCAN", "o_b", EventKey="spring-poster", Ticket=ticket)).content == (
                "Welcome back!")

            assert (await wechat.send_text("stats", openid="o_a")).content == "Thanks for your message!"
            assert (await wechat.send_text("stats", openid=ADMIN)).content == (
                "spring-poster: 1 new followers, 1 scans\nmetro-ad: 1 new followers, 0 scans")


async def test_stats_before_any_follow(example: tuple[ModuleType, FakeWeChat]) -> None:
    qrscene, _ = example
    with serve(qrscene.bot) as url:
        async with BotClient(url, token=TOKEN) as wechat:
            assert (await wechat.send_text("stats", openid=ADMIN)).content == "No follows through a QR code yet."
