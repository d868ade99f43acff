from __future__ import annotations

import json
import socket

import httpx
import pytest

from wxhook.api import (
    Client,
    InvalidCredentialError,
    IPNotWhitelistedError,
    RateLimitError,
    ReplyWindowError,
    SystemBusyError,
    UnauthorizedAPIError,
    UserRefusedError,
    WeChatAPIError,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from .conftest import FAST

IPS = "/cgi-bin/getcallbackip"
SEND = "/cgi-bin/message/custom/send"
TEMPLATE_SEND = "/cgi-bin/message/template/send"


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connecting is refused, so the request provably never arrived."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_json_body_is_utf8_without_escapes(fake: FakeWeChat, client: Client) -> None:
    await client.message.send_text("o1", "你好，世界")
    (call,) = fake.calls(SEND)
    assert "你好，世界".encode() in call.body
    assert b"\\u" not in call.body
    assert call.headers["content-type"] == "application/json; charset=utf-8"


async def test_escaped_json_is_refused_like_wechat(fake: FakeWeChat) -> None:
    async with fake.client() as client:
        token = await client.access_token()
    body = json.dumps({"touser": "o1", "msgtype": "text", "text": {"content": "你好"}}).encode()
    async with httpx.AsyncClient() as http:
        answer = await http.post(f"{fake.url}{SEND}", params={"access_token": token}, content=body)
    assert answer.json()["errcode"] == 40033


async def test_system_busy_is_retried(fake: FakeWeChat, client: Client) -> None:
    fake.fail(IPS, errcode=-1, times=2)
    assert await client.misc.callback_ip()
    assert fake.count(IPS) == 3


async def test_system_busy_retries_are_bounded(fake: FakeWeChat, client: Client) -> None:
    fake.fail(IPS, errcode=-1, times=None)
    with pytest.raises(SystemBusyError) as caught:
        await client.misc.callback_ip()
    assert caught.value.transient
    assert fake.count(IPS) == 4  # the first attempt and max_retries=3


async def test_server_errors_are_retried_then_raised(fake: FakeWeChat) -> None:
    fake.fail(IPS, status=502, times=None)
    async with fake.client(**{**FAST, "max_retries": 2}) as client:
        with pytest.raises(WeChatNetworkError) as caught:
            await client.misc.callback_ip()
    assert (caught.value.status, caught.value.transient) == (502, True)
    assert "502" in str(caught.value) and "WXHOOK_API_BASE" in str(caught.value)
    assert fake.count(IPS) == 3


async def test_retries_stop_at_the_deadline(fake: FakeWeChat) -> None:
    fake.fail(IPS, status=500, times=None)
    options = {"backoff": 0.05, "backoff_max": 0.05, "retry_deadline": 0.08, "max_retries": 50}
    async with fake.client(**options) as client:
        with pytest.raises(WeChatNetworkError):
            await client.misc.callback_ip()
    assert 2 <= fake.count(IPS) <= 4


async def test_client_errors_are_not_retried(fake: FakeWeChat, client: Client) -> None:
    fake.fail(IPS, status=404)
    with pytest.raises(WeChatNetworkError) as caught:
        await client.misc.callback_ip()
    assert (caught.value.status, caught.value.transient) == (404, False)
    assert fake.count(IPS) == 1


async def test_failover_to_the_next_domain() -> None:
    async with FakeWeChat() as broken, FakeWeChat() as healthy:
        broken.fail("/cgi-bin/stable_token", status=503, times=None)
        broken.fail(IPS, status=503, times=None)
        async with Client(broken.appid, broken.secret, domains=[broken.url, healthy.url], **FAST) as client:
            assert await client.misc.callback_ip()
            assert await client.misc.callback_ip()
        assert broken.count(IPS) == 2 and healthy.count(IPS) == 2
        assert healthy.count("/cgi-bin/stable_token") == 1


async def test_send_is_not_repeated_after_it_may_have_arrived(fake: FakeWeChat, client: Client) -> None:
    fake.fail(SEND, status=500)
    with pytest.raises(WeChatNetworkError):
        await client.message.send_text("o1", "once")
    assert fake.count(SEND) == 1


async def test_slow_send_times_out_without_a_repeat(fake: FakeWeChat) -> None:
    fake.fail(SEND, delay=0.3)
    async with fake.client(**{**FAST, "timeout": 0.1}) as client:
        await client.access_token()
        with pytest.raises(WeChatNetworkError) as caught:
            await client.message.send_text("o1", "once")
        assert caught.value.transient
        assert fake.count(SEND) == 1
        fake.fail(IPS, delay=0.3)
        assert await client.misc.callback_ip()
        assert fake.count(IPS) == 2


async def test_send_is_repeated_when_the_connection_was_refused(fake: FakeWeChat) -> None:
    async with Client(fake.appid, fake.secret, domains=[closed_port_url(), fake.url], **FAST) as client:
        await client.message.send_text("o1", "arrives once")
    assert fake.count(SEND) == 1


async def test_template_send_retried_only_with_client_msg_id(fake: FakeWeChat, client: Client) -> None:
    template_id = fake.add_template()
    fake.fail(TEMPLATE_SEND, status=500)
    with pytest.raises(WeChatNetworkError):
        await client.template.send("o1", template_id, {"first": "hi"})
    assert fake.count(TEMPLATE_SEND) == 1
    fake.fail(TEMPLATE_SEND, status=500)
    msgid = await client.template.send("o1", template_id, {"first": "hi"}, client_msg_id="order-7")
    assert fake.count(TEMPLATE_SEND) == 3
    assert [c.json["client_msg_id"] for c in fake.calls(TEMPLATE_SEND)[1:]] == ["order-7", "order-7"]
    assert await client.template.send("o1", template_id, {"first": "hi"}, client_msg_id="order-7") == msgid


async def test_ip_not_whitelisted_names_the_ip(fake: FakeWeChat, client: Client) -> None:
    fake.fail("/cgi-bin/stable_token", errcode=40164)
    with pytest.raises(IPNotWhitelistedError) as caught:
        await client.misc.callback_ip()
    assert caught.value.ip == "127.0.0.1"
    assert "Add 127.0.0.1 to the IP whitelist" in str(caught.value)
    assert caught.value.path == "/cgi-bin/stable_token"
    assert fake.count("/cgi-bin/stable_token") == 1


@pytest.mark.parametrize(
    ("errcode", "family", "transient"),
    [
        (40014, InvalidCredentialError, False),
        (45009, RateLimitError, False),
        (45011, RateLimitError, True),
        (45047, RateLimitError, False),
        (48001, UnauthorizedAPIError, False),
        (45015, ReplyWindowError, False),
        (43004, UserRefusedError, False),
        (48002, UserRefusedError, False),
        (40013, WeChatAPIError, False),
    ],
)
async def test_errcode_families(
    fake: FakeWeChat, client: Client, errcode: int, family: type[WeChatAPIError], transient: bool
) -> None:
    fake.fail(SEND, errcode=errcode, times=None)
    with pytest.raises(WeChatAPIError) as caught:
        await client.message.send_text("o1", "hi")
    error = caught.value
    assert type(error) is family
    assert (error.errcode, error.path, error.transient) == (errcode, SEND, transient)
    assert error.rid and f"rid {error.rid}" in str(error)


async def test_failure_scripted_for_one_openid(fake: FakeWeChat, client: Client) -> None:
    fake.fail(SEND, errcode=45015, times=None, openid="o-gone")
    with pytest.raises(ReplyWindowError):
        await client.message.send_text("o-gone", "late")
    await client.message.send_text("o-here", "in time")
    assert [c.json["touser"] for c in fake.calls(SEND)] == ["o-gone", "o-here"]
