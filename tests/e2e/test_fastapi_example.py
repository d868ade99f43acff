"""examples/fastapi_app.py under uvicorn: the bot at /wechat/ beside the application's routes, one lifespan for
both, the routes sharing the bot's API client (FakeWeChat)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType

import httpx
import pytest

from wxhook.testing import BotClient, FakeWeChat

from ..conftest import serve

TOKEN = "fastapi-token"


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, FakeWeChat]]:
    with FakeWeChat() as fake:
        for name, value in (("WXHOOK_TOKEN", TOKEN), ("WXHOOK_APPID", fake.appid), ("WXHOOK_SECRET", fake.secret),
                            ("WXHOOK_API_BASE", fake.url)):
            monkeypatch.setenv(name, value)
        sys.modules.pop("examples.fastapi_app", None)
        yield importlib.import_module("examples.fastapi_app"), fake
        sys.modules.pop("examples.fastapi_app", None)


async def test_the_bot_and_the_routes_share_one_app(example: tuple[ModuleType, FakeWeChat]) -> None:
    module, fake = example
    fake.fail("/cgi-bin/message/custom/send", 43004, openid="o_gone", errmsg="require subscribe")
    with serve(module.app) as base:
        assert module.orders.open
        async with httpx.AsyncClient(base_url=base) as http, BotClient(base + "wechat/", token=TOKEN) as wechat:
            assert (await wechat.handshake("mounted")).text == "mounted"
            assert (await wechat.send_text("orders", openid="o_a")).content == "No orders yet."

            placed = await http.post("/orders", json={"openid": "o_a", "item": "coffee"})
            assert (placed.status_code, placed.json()) == (201, {"placed": True, "notified": True})
            (call,) = fake.calls("/cgi-bin/message/custom/send")
            assert call.json == {"touser": "o_a", "msgtype": "text", "text": {"content": "Order received: coffee"}}
            assert (await wechat.send_text("orders", openid="o_a")).content == "Your orders: coffee"

            refused = await http.post("/orders", json={"openid": "o_gone", "item": "tea"})
            answer = refused.json()
            assert (answer["placed"], answer["notified"]) == (True, False)
            assert answer["reason"].startswith("require subscribe rid: ")  # WeChat's errmsg, with its rid
            assert (await http.get("/orders/o_gone")).json() == ["tea"]
            assert (await http.get("/orders/o_nobody")).status_code == 404
            assert (await http.post("/orders", json={"openid": "o_a"})).status_code == 422

            # bot.stats counts the messages by outcome and the window's events (deadlines passed, …): two answered
            assert (await http.get("/health")).json() == {"ok": True, "bot": {"passive": 2}}
            assert (await http.get("/wechat")).status_code == 307  # the URL to save has the trailing slash
    assert not module.orders.open  # the application's lifespan ran its shutdown, the bot's inside it
