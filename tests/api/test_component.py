"""The third-party platform's calls and the calls on an authorizer's behalf, against FakeWeChat as the open
platform: web login (the component variant), the JS-SDK, options, quota, the ticket pushes, authorization links."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from tests.e2e.test_platform import AUTHORIZER, AUTHORIZER_GH, COMPONENT
from wxhook import Bot, WebLogin
from wxhook.api import AuthorizationCodeError, OAuthUserInfo
from wxhook.platform import PlatformService
from wxhook.testing import FakeWeChat, serve


@pytest.fixture
async def authorized() -> AsyncIterator[tuple[FakeWeChat, PlatformService, Bot]]:
    """A platform bot whose ticket is kept and whose authorizer's code was exchanged, as after their pushes."""
    with FakeWeChat() as fake:
        platform = fake.platform(appid=COMPONENT.appid or "", secret=COMPONENT.secret, token=COMPONENT.token,
                                 aes_key=COMPONENT.aes_key)
        bot = Bot(platform=COMPONENT, store="memory://")
        bot.api = fake.client()
        service = bot.platform
        assert service is not None
        await service.records.keep_ticket(platform.new_ticket(), int(time.time()))
        granted = await platform.authorize(AUTHORIZER, original_id=AUTHORIZER_GH, name="Shop", push=False)
        record = await service.exchange(granted.code)
        assert (record.original_id, record.name) == (AUTHORIZER_GH, "Shop") and record.refresh_token
        assert await service.exchange(granted.code) == record, "a code exchanged twice gives the first record"
        yield fake, service, bot
        await bot.shutdown()


async def test_web_login_on_an_authorizers_behalf(authorized: tuple[FakeWeChat, PlatformService, Bot]) -> None:
    fake, service, bot = authorized
    fake.account(AUTHORIZER).add_follower("o_shopper", nickname="小红")
    fake.sign_in("o_shopper")
    seen: list[OAuthUserInfo] = []

    async def on_login(request: Request, user: OAuthUserInfo) -> Response:
        seen.append(user)
        return JSONResponse({"openid": user.openid})

    login = WebLogin((await bot.account(AUTHORIZER)).api, on_login)
    with serve(Starlette(routes=[Mount("/auth", login)])) as base:
        async with httpx.AsyncClient(timeout=10) as browser:
            start = await browser.get(f"{base}auth/login")
            query = parse_qs(urlsplit(start.headers["location"]).query)
            assert query["appid"] == [AUTHORIZER] and query["component_appid"] == [COMPONENT.appid]
            consent = await browser.get(start.headers["location"])
            done = await browser.get(consent.headers["location"])
    assert done.json() == {"openid": "o_shopper"} and seen[0].nickname == "小红"
    (exchange,) = fake.calls("/sns/oauth2/component/access_token")
    assert exchange.query["component_appid"] == COMPONENT.appid and "secret" not in exchange.query
    assert exchange.query["component_access_token"] == await service.component_token()


async def test_js_sdk_on_an_authorizers_behalf(authorized: tuple[FakeWeChat, PlatformService, Bot]) -> None:
    fake, _, bot = authorized
    client = (await bot.account(AUTHORIZER)).api
    config = await client.ticket.jssdk_config("https://shop.example/page#x", ["chooseImage"])
    assert config["appId"] == AUTHORIZER
    (ticket,) = fake.calls("/cgi-bin/ticket/getticket")
    assert ticket.appid == AUTHORIZER, "fetched with the authorizer's token"


async def test_the_platforms_own_calls(authorized: tuple[FakeWeChat, PlatformService, Bot]) -> None:
    fake, service, _ = authorized
    api = service.api
    await api.set_authorizer_option(AUTHORIZER, "voice_recognize", 1)
    assert await api.authorizer_option(AUTHORIZER, "voice_recognize") == "1"
    info = await api.authorizer_info(AUTHORIZER)
    assert (info.user_name, info.nick_name) == (AUTHORIZER_GH, "Shop")
    total, rows = await api.authorizers()
    assert total == 1 and rows[0].authorizer_appid == AUTHORIZER and rows[0].refresh_token
    await api.clear_quota(AUTHORIZER)
    (reset,) = fake.calls("/cgi-bin/component/clear_quota/v2")
    assert reset.json == {"component_appid": COMPONENT.appid, "appsecret": COMPONENT.secret, "appid": AUTHORIZER}
    await api.start_push_ticket()
    assert fake.count("/cgi-bin/component/api_start_push_ticket") == 1
    with pytest.raises(AuthorizationCodeError, match="61009"):
        await api.query_auth("not-a-code")


async def test_authorization_links(authorized: tuple[FakeWeChat, PlatformService, Bot]) -> None:
    _, service, _ = authorized
    code, lifetime = await service.api.pre_auth_code()
    assert code and lifetime > 0
    pc = urlsplit(service.api.authorize_url(code, "https://shop.example/back?x=1", auth_type=1))
    assert pc.path == "/cgi-bin/componentloginpage"
    assert parse_qs(pc.query) == {"component_appid": [COMPONENT.appid], "pre_auth_code": [code],
                                  "redirect_uri": ["https://shop.example/back?x=1"], "auth_type": ["1"]}
    mobile = service.api.authorize_url(code, "https://shop.example/back", biz_appid=AUTHORIZER, mobile=True)
    assert urlsplit(mobile).path == "/safe/bindcomponent" and mobile.endswith("#wechat_redirect")
    assert parse_qs(urlsplit(mobile).query)["action"] == ["bindcomponent"]
    with pytest.raises(ValueError, match="not both"):
        service.api.authorize_url(code, "https://shop.example/", auth_type=1, biz_appid=AUTHORIZER)
