from __future__ import annotations

import pytest

from wxhook.api import Client, RateLimitError, WeChatAPIError
from wxhook.testing import FakeWeChat

from .conftest import sent


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
