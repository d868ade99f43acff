"""examples/weblogin.py against FakeWeChat: the bot at /wechat, a WeChat login for /me, a JS-SDK page."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import sys
from collections.abc import Iterator
from types import ModuleType

import httpx
import pytest

from wxhook.testing import BotClient, FakeWeChat

from ..api.test_ticket_oauth import OFFICIAL_TICKET
from ..conftest import serve


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeChat]:
    with FakeWeChat() as server:
        for name, value in (("API_BASE", server.url), ("OPEN_BASE", server.url), ("APPID", server.appid),
                            ("SECRET", server.secret), ("TOKEN", "weblogin-token")):
            monkeypatch.setenv(f"WXHOOK_{name}", value)
        yield server


@pytest.fixture
def example(fake: FakeWeChat) -> ModuleType:
    sys.modules.pop("examples.weblogin", None)
    return importlib.import_module("examples.weblogin")


async def test_login_then_profile_page(fake: FakeWeChat, example: ModuleType) -> None:
    fake.add_follower("o_ming", nickname="小明 <b>", headimgurl="https://thirdwx.qlogo.cn/ming/132")
    fake.sign_in("o_ming")
    with serve(example.app) as base:
        async with httpx.AsyncClient(timeout=10, follow_redirects=True) as browser:
            page = await browser.get(f"{base}me")
            hops = [str(r.url).split("?")[0] for r in page.history]
            assert hops == [f"{base}me", f"{base}auth/login", f"{fake.url}/connect/oauth2/authorize",
                            f"{base}auth/callback"]
            # Browsers carry the authorize URL's #wechat_redirect through the redirects that follow, as httpx does.
            assert page.status_code == 200 and page.url.copy_with(fragment=None) == f"{base}me"
            assert "<h1>Hello, 小明 &lt;b&gt;</h1>" in page.text
            assert 'src="https://thirdwx.qlogo.cn/ming/132"' in page.text
            again = await browser.get(f"{base}me")
            assert again.history == [] and "小明" in again.text
        async with BotClient(f"{base}wechat/", token="weblogin-token") as wechat:
            reply = await wechat.send_text("hello", openid="o_ming")
            assert reply.content == "Open the menu's 'My account' to log in on our website."
    assert fake.calls("/connect/oauth2/authorize")[0].query["redirect_uri"] == f"{base}auth/callback"
    assert fake.count("/sns/oauth2/access_token") == 1 and fake.count("/sns/userinfo") == 1


async def test_share_page_signs_its_own_address(fake: FakeWeChat, example: ModuleType) -> None:
    fake.set_ticket("jsapi", OFFICIAL_TICKET)
    with serve(example.app) as base:
        async with httpx.AsyncClient(timeout=10) as browser:
            page = await browser.get(f"{base}share", params={"from": "timeline"})
    found = re.search(r'<script id="wx-config" type="application/json">(.*?)</script>', page.text)
    assert found is not None
    config = json.loads(found.group(1))
    assert set(config) == {"debug", "appId", "timestamp", "nonceStr", "signature", "jsApiList"}
    assert config["appId"] == fake.appid and config["debug"] is False
    assert config["jsApiList"] == ["updateAppMessageShareData", "updateTimelineShareData"]
    string1 = (f"jsapi_ticket={OFFICIAL_TICKET}&noncestr={config['nonceStr']}&timestamp={config['timestamp']}"
               f"&url={base}share?from=timeline")
    assert config["signature"] == hashlib.sha1(string1.encode()).hexdigest()
    assert "jweixin-1.6.0.js" in page.text and fake.count("/cgi-bin/ticket/getticket") == 1
