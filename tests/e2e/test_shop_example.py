"""examples/shop.py over HTTP: a menu across messages (sessions), QR scenes, background jobs."""

from __future__ import annotations

import importlib
import logging
import sys

import pytest

from wxhook.testing import BotClient

from ..conftest import serve


async def test_menu_conversation_and_qr_scenes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("WXHOOK_TOKEN", "shop-token")
    sys.modules.pop("examples.shop", None)
    shop = importlib.import_module("examples.shop")
    with caplog.at_level(logging.INFO, logger="shop"), serve(shop.bot) as url:
        async with BotClient(url, token="shop-token") as wechat:
            assert (await wechat.send_text("2", openid="o_a")).content == "Send 'menu' first."
            assert (await wechat.send_text("菜单", openid="o_a")).content.startswith("Reply 1 for coffee")
            assert (await wechat.send_text("2", openid="o_b")).content == "Send 'menu' first."
            assert (await wechat.send_text("2", openid="o_a")).content == "One tea coming up!"
            assert (await wechat.send_text("2", openid="o_a")).content == "Send 'menu' first."
            follow = await wechat.send_event("subscribe", EventKey="qrscene_spring-promo", Ticket="T")
            assert follow.content == "Welcome! You found us through QR code spring-promo. Send 'menu' to order."
            plain_follow = await wechat.send_event("subscribe", openid="o_c")
            assert plain_follow.content == "Welcome! Send 'menu' to order."
            scan = await wechat.send_event("SCAN", EventKey="spring-promo", Ticket="T")
            assert scan.content == "Welcome back (QR code spring-promo)."
            assert (await wechat.send_text("hi")).content.startswith("Send 'menu' to order")
    assert "order from o_a: Tea" in caplog.text
