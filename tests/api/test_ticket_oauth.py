from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from wxhook.api import Client, ConfigurationError, WeChatAPIError, sign_card, sign_jsapi
from wxhook.testing import FakeWeChat

from .conftest import FAST
from .test_token import RecordingStore

OFFICIAL_TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
TICKET = "/cgi-bin/ticket/getticket"


def test_official_jsapi_vector() -> None:
    signature = sign_jsapi(
        OFFICIAL_TICKET, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value"
    )
    assert signature == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


async def test_jsapi_signature_through_the_client(fake: FakeWeChat, client: Client) -> None:
    fake.set_ticket("jsapi", OFFICIAL_TICKET)
    url = "http://mp.weixin.qq.com?params=value#section"
    results = await asyncio.gather(
        *(client.ticket.jsapi_signature(url, "Wm3WZYTPz0wzccnW", 1414587457) for _ in range(10))
    )
    assert {r.signature for r in results} == {"0f9de62fce790f9a083d5c99e95740ceb90c27ed"}
    assert results[0].url == "http://mp.weixin.qq.com?params=value" and results[0].appid == fake.appid
    assert fake.count(TICKET) == 1 and fake.calls(TICKET)[0].query["type"] == "jsapi"
    fresh = await client.ticket.jsapi_signature("http://example.com/")
    assert len(fresh.noncestr) == 16 and fresh.timestamp > 1_700_000_000


async def test_card_ticket_is_cached_separately(fake: FakeWeChat, client: Client) -> None:
    jsapi = await client.ticket.get("jsapi")
    card = await client.ticket.get("wx_card")
    assert jsapi != card and await client.ticket.get("wx_card") == card
    assert [c.query["type"] for c in fake.calls(TICKET)] == ["jsapi", "wx_card"]
    signature, nonce, ts = await client.ticket.card_signature(card_id="c1", nonce_str="n", timestamp=1)
    assert (signature, nonce, ts) == (sign_card(card, "1", "n", "c1"), "n", 1)


async def test_authorize_url(client: Client, fake: FakeWeChat, monkeypatch: pytest.MonkeyPatch) -> None:
    url = client.oauth.authorize_url("https://example.com/cb?x=1", "snsapi_userinfo", "abc123")
    parts = urlsplit(url)
    assert (f"{parts.scheme}://{parts.netloc}", parts.path, parts.fragment) == (
        fake.url,
        "/connect/oauth2/authorize",
        "wechat_redirect",
    )
    assert parse_qs(parts.query) == {
        "appid": [fake.appid],
        "redirect_uri": ["https://example.com/cb?x=1"],
        "response_type": ["code"],
        "scope": ["snsapi_userinfo"],
        "state": ["abc123"],
    }
    popup = parse_qs(urlsplit(client.oauth.authorize_url("https://example.com/cb", force_popup=True)).query)
    assert popup == {
        "appid": [fake.appid],
        "redirect_uri": ["https://example.com/cb"],
        "response_type": ["code"],
        "scope": ["snsapi_base"],
        "forcePopup": ["true"],
    }
    assert "forcePopup" not in parse_qs(parts.query)
    with pytest.raises(ValueError, match="state"):
        client.oauth.authorize_url("https://example.com/cb", state="not/allowed")
    official = Client(fake.appid).oauth.authorize_url("https://example.com/cb")
    assert official.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?appid=")
    monkeypatch.setenv("WXHOOK_OPEN_BASE", "http://open.proxy.test/")
    assert Client(fake.appid).oauth.authorize_url("https://example.com/cb").startswith(
        "http://open.proxy.test/connect/oauth2/authorize?"
    )


def test_qrconnect_url_is_the_documented_link_for_a_website_app() -> None:
    client = Client("wx0000000000000a0a")
    url = client.oauth.qrconnect_url(
        "wxbdc5610cc59c1631", "https://passport.yhd.com/wechat/callback.do", "3d6be0a4035d839573b04816624a415e"
    )
    assert url == (
        "https://open.weixin.qq.com/connect/qrconnect?appid=wxbdc5610cc59c1631"
        "&redirect_uri=https%3A%2F%2Fpassport.yhd.com%2Fwechat%2Fcallback.do&response_type=code&scope=snsapi_login"
        "&state=3d6be0a4035d839573b04816624a415e#wechat_redirect"
    )
    back = client.oauth.qrconnect_url("wxbdc5610cc59c1631", "https://site.example/cb?next=/a b&x=1")
    assert back.endswith(
        "redirect_uri=https%3A%2F%2Fsite.example%2Fcb%3Fnext%3D%2Fa+b%26x%3D1&response_type=code&scope=snsapi_login"
        "&state=#wechat_redirect"
    )
    assert Client(None, open_base="http://open.proxy.test/").oauth.qrconnect_url("wxb", "https://s/cb").startswith(
        "http://open.proxy.test/connect/qrconnect?appid=wxb&"
    )


def test_qrconnect_url_refuses_this_accounts_own_appid() -> None:
    client = Client("wx0000000000000a0a")
    with pytest.raises(ValueError, match="website app's appid"):
        client.oauth.qrconnect_url("wx0000000000000a0a", "https://site.example/cb")
    for appid, redirect in (("", "https://site.example/cb"), ("wxbdc5610cc59c1631", "")):
        with pytest.raises(ValueError, match="redirect_uri"):
            client.oauth.qrconnect_url(appid, redirect)


async def test_exchange_refresh_user_info_check(fake: FakeWeChat, client: Client) -> None:
    fake.add_follower(
        "o1", unionid="u1", nickname="小明", sex=1, province="广东", city="广州", country="中国", headimgurl="http://h/0"
    )
    token = await client.oauth.exchange(fake.oauth_code("o1", "snsapi_userinfo"))
    (call,) = fake.calls("/sns/oauth2/access_token")
    assert call.query == {
        "appid": fake.appid,
        "secret": fake.secret,
        "code": call.query["code"],
        "grant_type": "authorization_code",
    }
    assert (token.openid, token.scope, token.unionid) == ("o1", "snsapi_userinfo", "u1")
    assert (token.expires_in, token.is_snapshotuser, len(token.refresh_token)) == (7200, 0, 96)
    info = await client.oauth.user_info(token.access_token, token.openid, lang="en")
    (call,) = fake.calls("/sns/userinfo")
    assert call.query == {"access_token": token.access_token, "openid": "o1", "lang": "en"}
    assert (info.openid, info.nickname, info.unionid, info.sex) == ("o1", "小明", "u1", 1)
    assert (info.province, info.city, info.country, info.headimgurl, info.privilege) == (
        "广东",
        "广州",
        "中国",
        "http://h/0",
        [],
    )
    assert await client.oauth.check(token.access_token, "o1")
    assert not await client.oauth.check(token.access_token, "o2")
    assert not await client.oauth.check("forged", "o1")
    renewed = await client.oauth.refresh(token.refresh_token)
    assert fake.calls("/sns/oauth2/refresh_token")[0].query["grant_type"] == "refresh_token"
    assert renewed.access_token != token.access_token
    assert fake.count("/cgi-bin/stable_token") == 0


async def test_code_is_single_use_and_base_scope_has_no_profile(fake: FakeWeChat, client: Client) -> None:
    code = fake.oauth_code("o1")
    token = await client.oauth.exchange(code)
    with pytest.raises(WeChatAPIError) as caught:
        await client.oauth.exchange(code)
    assert caught.value.errcode == 40163
    with pytest.raises(WeChatAPIError) as caught:
        await client.oauth.user_info(token.access_token, "o1")
    assert caught.value.errcode == 48001


async def test_jssdk_config_with_the_official_vector(fake: FakeWeChat, client: Client) -> None:
    fake.set_ticket("jsapi", OFFICIAL_TICKET)
    config = await client.ticket.jssdk_config(
        "http://mp.weixin.qq.com?params=value#top",
        ["chooseImage", "scanQRCode"],
        noncestr="Wm3WZYTPz0wzccnW",
        timestamp=1414587457,
    )
    assert config == {
        "debug": False,
        "appId": fake.appid,
        "timestamp": 1414587457,
        "nonceStr": "Wm3WZYTPz0wzccnW",
        "signature": "0f9de62fce790f9a083d5c99e95740ceb90c27ed",
        "jsApiList": ["chooseImage", "scanQRCode"],
    }
    assert fake.calls(TICKET)[0].query["type"] == "jsapi"


async def test_jssdk_config_with_the_fakes_own_ticket(fake: FakeWeChat, client: Client) -> None:
    url = "https://shop.example.com/share?item=7&from=timeline"
    config = await client.ticket.jssdk_config(url, open_tags=["wx-open-launch-weapp"], debug=True)
    assert fake.calls(TICKET)[0].query["type"] == "jsapi"
    ticket = fake.state.tickets["jsapi"]
    string1 = f"jsapi_ticket={ticket}&noncestr={config['nonceStr']}&timestamp={config['timestamp']}&url={url}"
    assert config["signature"] == hashlib.sha1(string1.encode()).hexdigest()
    assert config["debug"] is True and config["jsApiList"] == []
    assert config["openTagList"] == ["wx-open-launch-weapp"] and config["appId"] == fake.appid
    assert abs(config["timestamp"] - time.time()) < 600 and len(config["nonceStr"]) == 16
    with pytest.raises(ValueError, match=r"location\.href\.split"):
        await client.ticket.jssdk_config("/share")


async def test_fake_consent_page(fake: FakeWeChat, client: Client) -> None:
    fake.add_follower("o1", nickname="小红", sex=2, language="zh_TW", province="Guangdong")
    async with httpx.AsyncClient() as browser:
        url = client.oauth.authorize_url("https://site.example/cb?x=1", "snsapi_userinfo", "s1")
        nobody = await browser.get(url)
        assert nobody.status_code == 403 and "fake.sign_in(openid)" in nobody.text
        fake.sign_in("o1")
        consent = await browser.get(url)
        assert consent.status_code == 302
        back = urlsplit(consent.headers["location"])
        assert f"{back.scheme}://{back.netloc}{back.path}" == "https://site.example/cb"
        query = parse_qs(back.query)
        assert query["x"] == ["1"] and query["state"] == ["s1"]
        fake.sign_in("o1", consent=False)
        declined = await browser.get(client.oauth.authorize_url("https://site.example/cb", "snsapi_userinfo"))
        assert declined.headers["location"] == "https://site.example/cb?state="
        wrong = await browser.get(url.replace(fake.appid, "wx0000000000000000"))
        assert wrong.json()["errcode"] == 40013
        scope = await browser.get(url.replace("snsapi_userinfo", "snsapi_login"))
        assert scope.json()["errcode"] == 10005
    token = await client.oauth.exchange(query["code"][0])
    info = await client.oauth.user_info(token.access_token, token.openid)
    assert (info.nickname, info.sex, info.language, info.province) == ("小红", 2, "zh_TW", "Guangdong")
    assert info.appid is None
    assert info.raw["language"] == "zh_TW"


def test_signing_keys_are_derived_per_purpose(fake: FakeWeChat, client: Client) -> None:
    key = client.oauth.signing_key("weblogin-state")
    assert key == hmac.new(fake.secret.encode(), b"wxhook:weblogin-state", hashlib.sha256).digest()
    assert key != client.oauth.signing_key("other") and fake.secret.encode() not in key
    with pytest.raises(ConfigurationError, match="WXHOOK_SECRET"):
        Client(fake.appid).oauth.signing_key("weblogin-state")


async def test_lifetimes_come_from_wechat() -> None:
    """The token's and ticket's expires_in are read, not assumed to be 7200."""
    async with FakeWeChat(token_ttl=3000) as fake:
        store = RecordingStore()
        async with fake.client(store=store, token_margin=100, **FAST) as client:
            await client.ticket.get("jsapi")
            assert store.ttls[f"wxhook:ticket:jsapi:{fake.appid}"] == 3000 - 100
            token = await client.oauth.exchange(fake.oauth_code("o1"))
            assert token.expires_in == 3000
            assert (await client.oauth.refresh(token.refresh_token)).expires_in == 3000
