from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from wxhook.api import Client
from wxhook.testing import FakeWeChat

from .conftest import FAST, raw_call

STABLE = "/cgi-bin/stable_token"


async def stable(http: httpx.AsyncClient, fake: FakeWeChat, force: bool = False) -> dict[str, Any]:
    body = {
        "grant_type": "client_credential",
        "appid": fake.appid,
        "secret": fake.secret,
        "force_refresh": force,
    }
    return (await http.post(f"{fake.url}{STABLE}", json=body)).json()  # type: ignore[no-any-return]


async def ips(http: httpx.AsyncClient, fake: FakeWeChat, token: str | None) -> int:
    params = {"access_token": token} if token is not None else {}
    answer = (await http.get(f"{fake.url}/cgi-bin/getcallbackip", params=params)).json()
    return int(answer.get("errcode", 0))


def test_threaded_mode_serves_synchronous_code() -> None:
    with FakeWeChat(appid="wxthreaded", secret="s3cret") as fake:
        assert fake.url.startswith("http://127.0.0.1:")
        seen: list[list[str]] = []

        def other_thread() -> None:
            async def run() -> None:
                async with Client("wxthreaded", "s3cret", api_base=fake.url, **FAST) as client:
                    seen.append(await client.misc.callback_ip())

            asyncio.run(run())

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join(10)
        assert seen and fake.count(STABLE) == 1
        assert fake.calls(STABLE)[0].json["appid"] == "wxthreaded"
        response = httpx.get(f"{fake.url}/cgi-bin/getcallbackip")
        assert response.json()["errcode"] == 41001
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.url


async def test_stable_token_semantics(fake: FakeWeChat) -> None:
    async with httpx.AsyncClient() as http:
        first = await stable(http, fake)
        again = await stable(http, fake)
        assert first["access_token"] == again["access_token"] and 7190 <= again["expires_in"] <= 7200
        assert len(first["access_token"]) >= 100
        forced = await stable(http, fake, force=True)
        assert forced["access_token"] != first["access_token"]
        assert await ips(http, fake, first["access_token"]) == 40001
        assert await ips(http, fake, forced["access_token"]) == 0
        assert await ips(http, fake, None) == 41001
        assert await ips(http, fake, "made-up") == 40014
        fake.advance(7201)
        assert await ips(http, fake, forced["access_token"]) == 42001
        bad = {"grant_type": "client_credential", "appid": fake.appid, "secret": "wrong"}
        assert (await http.post(f"{fake.url}{STABLE}", json=bad)).json()["errcode"] == 40125
        assert (await http.get(f"{fake.url}{STABLE}")).json()["errcode"] == 43002


async def test_basic_token_overlap(fake: FakeWeChat) -> None:
    params = {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret}
    async with httpx.AsyncClient() as http:
        old = (await http.get(f"{fake.url}/cgi-bin/token", params=params)).json()["access_token"]
        new = (await http.get(f"{fake.url}/cgi-bin/token", params=params)).json()["access_token"]
        assert old != new
        assert await ips(http, fake, old) == 0
        fake.advance(301)
        assert await ips(http, fake, old) == 42001
        assert await ips(http, fake, new) == 0


async def test_documented_limits(fake: FakeWeChat, client: Client) -> None:
    too_many_users = {"user_list": [{"openid": f"o{i}"} for i in range(101)]}
    assert (await raw_call(fake, client, "POST", "/cgi-bin/user/info/batchget", too_many_users))[
        "errcode"
    ] == 40032
    block = {"openid_list": [f"o{i}" for i in range(21)]}
    assert (await raw_call(fake, client, "POST", "/cgi-bin/tags/members/batchblacklist", block))[
        "errcode"
    ] == 40032
    template_id = fake.add_template()
    no_data = {"touser": "o1", "template_id": template_id}
    assert (await raw_call(fake, client, "POST", "/cgi-bin/message/template/send", no_data))[
        "errcode"
    ] == 47003
    scene = {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100_001}}}
    assert (await raw_call(fake, client, "POST", "/cgi-bin/qrcode/create", scene))["errcode"] == 40053
    assert (await raw_call(fake, client, "POST", "/cgi-bin/menu/create", "not json"))["errcode"] == 47001


async def test_fail_rules(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(ValueError, match="errcode="):
        fake.fail("/cgi-bin/getcallbackip")
    fake.fail("/cgi-bin/getcallbackip", delay=0.05, times=None)
    assert await client.misc.callback_ip()
    fake.clear_failures()
    fake.reset_calls()
    await client.misc.callback_ip()
    assert fake.counts == {"/cgi-bin/getcallbackip": 1}


async def test_two_fakes_are_independent() -> None:
    async with FakeWeChat() as one, FakeWeChat(appid="wxtwo") as two:
        assert one.url != two.url
        async with one.client(**FAST) as a, two.client(**FAST) as b:
            await a.misc.callback_ip()
            await b.misc.callback_ip()
        assert one.calls(STABLE)[0].json["appid"] == one.appid
        assert two.calls(STABLE)[0].json["appid"] == "wxtwo"
        assert one.count("/cgi-bin/getcallbackip") == two.count("/cgi-bin/getcallbackip") == 1


def test_client_built_without_an_event_loop() -> None:
    """A Client made at import time (no loop yet) connects lazily inside the loop that first uses it."""
    with FakeWeChat() as fake:
        client = fake.client(**FAST)

        async def job() -> list[str]:
            async with client:
                return await client.misc.callback_ip()

        assert asyncio.run(job())
    assert fake.count(STABLE) == 1
