from __future__ import annotations

from typing import Any

import httpx
import pytest

from wxhook.api import Client, RateLimitError, WeChatAPIError, WeChatNetworkError
from wxhook.testing import FakeWeChat

from .conftest import FAST, sent


async def test_ip_lists(fake: FakeWeChat, client: Client) -> None:
    assert await client.misc.callback_ip() == ["101.226.62.77", "101.226.62.78"]
    assert await client.misc.api_domain_ip() == ["101.89.47.18", "101.91.34.103"]
    assert fake.calls("/cgi-bin/get_api_domain_ip")[0].method == "GET"


async def test_callback_check(fake: FakeWeChat, client: Client) -> None:
    check = await client.misc.callback_check("dns", "UNICOM")
    assert sent(fake, "/cgi-bin/callback/check") == {"action": "dns", "check_operator": "UNICOM"}
    assert check.dns == [{"ip": "127.0.0.1", "real_operator": "UNICOM"}] and check.ping == []


async def test_quota_and_clear_quota(fake: FakeWeChat, client: Client) -> None:
    await client.message.send_text("o1", "a")
    await client.message.send_text("o1", "b")
    quota = await client.misc.quota_get("/cgi-bin/message/custom/send")
    assert sent(fake, "/cgi-bin/openapi/quota/get") == {"cgi_path": "/cgi-bin/message/custom/send"}
    assert (quota.used, quota.remain, quota.daily_limit) == (2, 99_998, 100_000)
    assert quota.rate_limit == {"call_count": 100, "refresh_second": 60}
    assert quota.component_rate_limit == {"call_count": 50, "refresh_second": 60}
    assert quota.raw["quota"]["used"] == 2
    await client.misc.clear_quota()
    assert sent(fake, "/cgi-bin/clear_quota") == {"appid": fake.appid}
    assert (await client.misc.quota_get("/cgi-bin/message/custom/send")).used == 0
    with pytest.raises(WeChatAPIError) as caught:
        await client.misc.quota_get("/sns/userinfo")
    assert caught.value.errcode == 76022


async def test_rid_lookup_of_a_failure(fake: FakeWeChat, client: Client) -> None:
    fake.fail("/cgi-bin/message/custom/send", errcode=45009)
    with pytest.raises(RateLimitError) as caught:
        await client.message.send_text("o1", "quota")
    assert caught.value.rid
    info = await client.misc.rid_get(caught.value.rid)
    assert sent(fake, "/cgi-bin/openapi/rid/get") == {"rid": caught.value.rid}
    assert info.request_url.startswith("/cgi-bin/message/custom/send?")
    assert '"quota"' in info.request_body and info.client_ip == "127.0.0.1"
    assert "45009" in info.response_body


async def test_long2short_before_retirement(fake: FakeWeChat, client: Client) -> None:
    fake.state.shorturl_retired = False
    short = await client.shorturl.long2short("https://example.com/a/very/long/url")
    assert short.startswith("https://w.url.cn/s/") and len(short) == len("https://w.url.cn/s/") + 7
    assert sent(fake, "/cgi-bin/shorturl") == {"action": "long2short", "long_url": "https://example.com/a/very/long/url"}


async def test_long2short_is_retired(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await client.shorturl.long2short("https://example.com/a/very/long/url")
    assert caught.value.errcode == 45103
    assert sent(fake, "/cgi-bin/shorturl") == {
        "action": "long2short",
        "long_url": "https://example.com/a/very/long/url",
    }


async def test_shorten_gen_and_fetch(fake: FakeWeChat, client: Client) -> None:
    key = await client.shorturl.gen('{"order": "订单-1"}', expire_seconds=3600)
    assert len(key) == 15 and key.isalnum()
    assert sent(fake, "/cgi-bin/shorten/gen") == {"long_data": '{"order": "订单-1"}', "expire_seconds": 3600}
    data = await client.shorturl.fetch(key)
    assert sent(fake, "/cgi-bin/shorten/fetch") == {"short_key": key}
    assert (data.long_data, data.expire_seconds, data.create_time > 0) == ('{"order": "订单-1"}', 3600, True)
    with pytest.raises(ValueError, match="4096"):
        await client.shorturl.gen("字" * 1400)


async def test_clear_quota_v2_needs_no_token(fake: FakeWeChat, client: Client) -> None:
    await client.message.send_text("o1", "a")
    await client.misc.clear_quota_v2()
    (call,) = fake.calls("/cgi-bin/clear_quota/v2")
    credentials = {"appid": fake.appid, "appsecret": fake.secret}
    assert call.method == "POST" and call.query == credentials and call.json == credentials
    assert (await client.misc.quota_get("/cgi-bin/message/custom/send")).used == 0
    assert fake.state.clear_quota_count == 1


async def test_clear_quota_v2_works_when_the_token_cannot_be_had(fake: FakeWeChat) -> None:
    async with fake.client(**FAST) as client:
        fake.fail("/cgi-bin/stable_token", errcode=45009, times=None)
        await client.misc.clear_quota_v2()
    assert fake.count("/cgi-bin/stable_token") == 0


async def test_clear_quota_v2_errors(fake: FakeWeChat) -> None:
    async with Client(fake.appid, "wrong", api_base=fake.url, **FAST) as client:
        with pytest.raises(WeChatAPIError) as caught:
            await client.misc.clear_quota_v2()
        assert caught.value.errcode == 40125
    fake.state.clear_quota_count = 10
    async with fake.client(**FAST) as client:
        fake.fail("/cgi-bin/clear_quota/v2", status=502)
        with pytest.raises(WeChatNetworkError):
            await client.misc.clear_quota_v2()  # not retried: a repeat would spend another of the 10
        assert fake.count("/cgi-bin/clear_quota/v2") == 2
        with pytest.raises(WeChatAPIError) as caught:
            await client.misc.clear_quota_v2()
        assert caught.value.errcode == 48006


@pytest.mark.parametrize(
    ("query", "code"),
    [({}, 41002), ({"appid": "wxf4ce0000000fa4e0"}, 41004), ({"appid": "wx0", "appsecret": "s"}, 40013)],
)
async def test_fake_clear_quota_v2_takes_query_or_body(fake: FakeWeChat, query: dict[str, str], code: int) -> None:
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{fake.url}/cgi-bin/clear_quota/v2", params=query)
        assert answer.json()["errcode"] == code
        body = {"appid": fake.appid, "appsecret": fake.secret}
        assert (await http.post(f"{fake.url}/cgi-bin/clear_quota/v2", json=body)).json()["errcode"] == 0


async def test_autoreply_info(fake: FakeWeChat, client: Client) -> None:
    info = await client.misc.autoreply_info()
    assert fake.calls("/cgi-bin/get_current_autoreply_info")[0].method == "GET"
    assert (info.is_add_friend_reply_open, info.is_autoreply_open) == (True, True)
    assert info.add_friend_autoreply_info == {"type": "text", "content": "感谢关注"}
    assert info.message_default_autoreply_info == {"type": "text", "content": "稍后回复您"}
    (rule,) = info.keyword_rules
    assert rule["rule_name"] == "help" and rule["keyword_list_info"][0]["content"] == "帮助"
    assert info.raw["keyword_autoreply_info"]["list"] == info.keyword_rules
    fake.state.autoreply = {"is_add_friend_reply_open": 1, "is_autoreply_open": 0}
    quiet = await client.misc.autoreply_info()
    assert (quiet.is_add_friend_reply_open, quiet.is_autoreply_open, quiet.keyword_rules) == (True, False, [])
    assert (quiet.add_friend_autoreply_info, quiet.message_default_autoreply_info) == ({}, {})


async def test_call_escape_hatch(fake: FakeWeChat, client: Client) -> None:
    assert await client.call("GET", "/cgi-bin/getcallbackip") == {"ip_list": ["101.226.62.77", "101.226.62.78"]}
    answer = await client.call("POST", "/cgi-bin/shorten/gen", body={"long_data": "x", "expire_seconds": 60})
    assert len(answer["short_key"]) == 15
    assert sent(fake, "/cgi-bin/shorten/gen") == {"long_data": "x", "expire_seconds": 60}
    fake.add_follower("o1")
    info = await client.call("GET", "/cgi-bin/user/info", params={"openid": "o1", "lang": "en"})
    assert info["openid"] == "o1" and fake.calls("/cgi-bin/user/info")[0].query["lang"] == "en"
    await client.menu.create([{"type": "click", "name": "m", "key": "k"}])
    matched = await client.call("POST", "/cgi-bin/menu/trymatch", {"debug": "1"}, {"user_id": "o1"})
    assert matched["button"][0]["key"] == "k"
    (call,) = fake.calls("/cgi-bin/menu/trymatch")
    assert call.query["debug"] == "1" and call.json == {"user_id": "o1"} and call.query["access_token"]
    with pytest.raises(WeChatAPIError) as caught:
        await client.call("POST", "/cgi-bin/tags/create", body={"tag": {"name": ""}})
    assert caught.value.errcode == 45158 and caught.value.path == "/cgi-bin/tags/create"


async def test_call_heals_the_token_and_retries_only_what_is_safe(fake: FakeWeChat, client: Client) -> None:
    await client.call("GET", "/cgi-bin/getcallbackip")
    fake.revoke_tokens()
    assert (await client.call("GET", "/cgi-bin/get_api_domain_ip"))["ip_list"]
    tokens = [c.query["access_token"] for c in fake.calls("/cgi-bin/get_api_domain_ip")]
    assert len(tokens) == 2 and tokens[0] != tokens[1]
    fake.fail("/cgi-bin/getcallbackip", status=503)
    await client.call("GET", "/cgi-bin/getcallbackip")
    fake.fail("/cgi-bin/shorten/gen", status=503)
    with pytest.raises(WeChatNetworkError):
        await client.call("POST", "/cgi-bin/shorten/gen", body={"long_data": "x"})
    assert fake.count("/cgi-bin/shorten/gen") == 1
    fake.fail("/cgi-bin/shorten/gen", status=503)
    assert (await client.call("POST", "/cgi-bin/shorten/gen", body={"long_data": "x"}, safe=True))["short_key"]
    assert fake.count("/cgi-bin/shorten/gen") == 3
    fake.fail("/cgi-bin/getcallbackip", status=503)
    with pytest.raises(WeChatNetworkError):
        await client.call("GET", "/cgi-bin/getcallbackip", safe=False)


@pytest.mark.parametrize(
    ("method", "path", "options", "message"),
    [
        ("PUT", "/cgi-bin/x", {}, "method must be 'GET' or 'POST'"),
        ("GET", "cgi-bin/x", {}, "must start with '/'"),
        ("GET", "/cgi-bin/x", {"body": {"a": 1}}, "pass the fields as params="),
    ],
)
async def test_call_checks_its_arguments(
    fake: FakeWeChat, client: Client, method: str, path: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.call(method, path, **options)  # type: ignore[arg-type]
    assert fake.calls() == []
