"""A broken or hostile API is contained: bounded memory, bounded time, and a WeChatError for every bad answer."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from wxhook.api import (
    Client,
    MissingFieldError,
    ResponseTooLargeError,
    UnexpectedAnswerError,
    WeChatAPIError,
    WeChatNetworkError,
)
from wxhook.api._client import DEFAULT_MAX_RESPONSE_SIZE
from wxhook.testing import FakeWeChat, serve

from .conftest import FAST
from .test_resilience import IPS, SEND, closed_port_url

TOKEN = "/cgi-bin/stable_token"
CHUNK = 64 * 1024
HUGE = 100 * 1024 * 1024

Script = dict[str, Callable[[], Response]]


def scripted_wechat(script: Script) -> Starlette:
    """An API server that answers each path as scripted and hands out a valid token otherwise."""

    async def answer(request: Request) -> Response:
        make = script.get(request.url.path)
        if make is not None:
            return make()
        if request.url.path == TOKEN:
            return JSONResponse({"access_token": "scripted-token", "expires_in": 7200})
        return JSONResponse({"errcode": 40013, "errmsg": "not scripted"})

    return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])


@pytest.fixture
def script() -> Script:
    return {}


@pytest.fixture
def scripted_url(script: Script) -> Iterator[str]:
    with serve(scripted_wechat(script)) as url:
        yield url.rstrip("/")


@pytest.fixture
async def scripted(scripted_url: str) -> AsyncIterator[Client]:
    async with Client("wx-scripted", "scripted-secret", api_base=scripted_url, **FAST) as client:
        yield client


def huge_body() -> Response:
    """100 MB of JSON-looking bytes, generated chunk by chunk so the server never holds it either."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"ip_list": ["'
        for _ in range(HUGE // CHUNK):
            yield b"1" * CHUNK
        yield b'"]}'

    return StreamingResponse(chunks(), media_type="application/json")


async def test_a_huge_answer_stops_at_the_cap_with_bounded_memory(script: Script, scripted: Client) -> None:
    script[IPS] = huge_body
    await scripted.access_token()
    tracemalloc.start()
    try:
        with pytest.raises(ResponseTooLargeError) as caught:
            await scripted.misc.callback_ip()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * DEFAULT_MAX_RESPONSE_SIZE
    error = caught.value
    assert (error.limit, error.path, error.transient, error.maybe_delivered) == (
        DEFAULT_MAX_RESPONSE_SIZE,
        IPS,
        False,
        True,
    )
    assert f"more than {DEFAULT_MAX_RESPONSE_SIZE} bytes" in str(error) and "max_response_size=" in str(error)


async def test_an_answer_over_a_small_cap_is_refused_once(fake: FakeWeChat) -> None:
    async with fake.client(**FAST, max_response_size=20) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.access_token()
    assert caught.value.limit == 20 and caught.value.status == 200
    assert fake.count(TOKEN) == 1  # the same answer would come back: not retried


def test_max_response_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_response_size"):
        Client("wx1", "s", max_response_size=0)


async def test_a_hanging_api_times_out_within_the_budget(fake: FakeWeChat) -> None:
    fake.fail(IPS, delay=3.0)
    budget = 1.5
    async with fake.client(retry_deadline=budget, backoff=0.001, backoff_max=0.004) as client:
        await client.access_token()
        started = time.monotonic()
        with pytest.raises(WeChatNetworkError) as caught:
            await client.misc.callback_ip()
        elapsed = time.monotonic() - started
    assert elapsed < budget + 1.0  # a correctness bound: the default 10 s timeout alone would overrun it
    error = caught.value
    assert "timed out after 1.5 s" in str(error) and IPS in str(error) and "retry_deadline=" in str(error)
    assert "unreachable" not in str(error) and "ReadTimeout" not in str(error)
    assert (error.maybe_delivered, error.transient) == (True, True)


async def test_a_send_that_timed_out_may_have_been_delivered(fake: FakeWeChat) -> None:
    fake.fail(SEND, delay=0.5)
    async with fake.client(**{**FAST, "timeout": 0.1}) as client:
        with pytest.raises(WeChatNetworkError) as caught:
            await client.message.send_text("o1", "once")
    assert caught.value.maybe_delivered and "timed out after" in str(caught.value)
    assert fake.count(SEND) == 1


async def test_a_refused_connection_was_not_delivered() -> None:
    async with Client("wx1", "s", api_base=closed_port_url(), **FAST) as client:
        with pytest.raises(WeChatNetworkError) as caught:
            await client.message.send_text("o1", "never sent")
    error = caught.value
    assert (error.maybe_delivered, error.transient, error.path) == (False, True, TOKEN)
    assert "could not reach" in str(error) and "ConnectError" in str(error)


async def test_a_failure_after_one_that_may_have_arrived_may_have_arrived(fake: FakeWeChat) -> None:
    fake.fail(IPS, status=502, times=None)
    domains = [fake.url, closed_port_url()]
    async with Client(fake.appid, fake.secret, domains=domains, **{**FAST, "max_retries": 1}) as client:
        with pytest.raises(WeChatNetworkError) as caught:
            await client.misc.callback_ip()
    assert "could not reach" in str(caught.value)  # the last attempt was refused ...
    assert caught.value.maybe_delivered  # ... but the first one reached the server
    assert fake.count(IPS) == 1


async def test_a_5xx_may_have_been_delivered_a_4xx_not(fake: FakeWeChat, client: Client) -> None:
    fake.fail(SEND, status=500)
    with pytest.raises(WeChatNetworkError) as server_error:
        await client.message.send_text("o1", "hi")
    fake.fail(SEND, status=404)
    with pytest.raises(WeChatNetworkError) as not_found:
        await client.message.send_text("o1", "hi")
    assert (server_error.value.maybe_delivered, not_found.value.maybe_delivered) == (True, False)


def _json(body: Any) -> Callable[[], Response]:
    return lambda: JSONResponse(body)


async def _token(client: Client) -> object:
    return await client.access_token()


async def _callback_ip(client: Client) -> object:
    return await client.misc.callback_ip()


async def _ticket(client: Client) -> object:
    return await client.ticket.get()


async def _short_key(client: Client) -> object:
    return await client.shorturl.gen("data")


async def _qrcode(client: Client) -> object:
    return await client.qrcode.create(7)


async def _tags(client: Client) -> object:
    return await client.tags.list()


@pytest.mark.parametrize(
    ("path", "answer", "call", "problem"),
    [
        (TOKEN, _json({"expires_in": 7200}), _token, "without the `access_token` field"),
        (TOKEN, _json({"access_token": "", "expires_in": 7200}), _token, "`access_token` that is not a non-empty"),
        (TOKEN, _json({"access_token": "t", "expires_in": "soon"}), _token, "`expires_in` that is not a positive"),
        (TOKEN, _json({"access_token": "t", "expires_in": -5}), _token, "`expires_in` that is not a positive"),
        (IPS, _json({"errcode": "abc", "errmsg": "?"}), _callback_ip, "errcode that is not an integer ('abc')"),
        (IPS, _json({"errcode": 1.5}), _callback_ip, "errcode that is not an integer"),
        (IPS, _json([1, 2]), _callback_ip, "a JSON list where a JSON object was expected"),
        (IPS, lambda: Response("<html>proxy</html>"), _callback_ip, "where JSON was expected"),
        ("/cgi-bin/ticket/getticket", _json({"errcode": 0}), _ticket, "without the `ticket` field"),
        ("/cgi-bin/shorten/gen", _json({"errcode": 0}), _short_key, "without the `short_key` field"),
        ("/cgi-bin/qrcode/create", _json({"url": "u"}), _qrcode, "a QRCode without the `ticket` field"),
        ("/cgi-bin/tags/get", _json({"tags": [{"name": "x"}]}), _tags, "a Tag without the `id` field"),
    ],
)
async def test_malformed_answers_raise_unexpected_answer(
    script: Script,
    scripted: Client,
    path: str,
    answer: Callable[[], Response],
    call: Callable[[Client], Any],
    problem: str,
) -> None:
    script[path] = answer
    with pytest.raises(UnexpectedAnswerError) as caught:
        await call(scripted)
    error = caught.value
    assert problem in str(error) and f"WeChat API {path} answered" in str(error)
    assert (error.path, error.transient, error.maybe_delivered) == (path, False, True)


async def test_a_missing_field_is_also_a_key_error(script: Script, scripted: Client) -> None:
    """Code written against ``.raw`` with ``except KeyError`` keeps working; the message is not quoted."""
    script["/cgi-bin/shorten/gen"] = _json({"errcode": 0})
    with pytest.raises(KeyError) as caught:
        await scripted.shorturl.gen("data")
    assert isinstance(caught.value, MissingFieldError)
    assert str(caught.value).startswith("WeChat API /cgi-bin/shorten/gen answered without the `short_key` field")


async def test_numeric_string_errcodes_still_count(script: Script, scripted: Client) -> None:
    script[IPS] = _json({"errcode": "40013", "errmsg": "invalid appid"})
    with pytest.raises(WeChatAPIError) as caught:
        await scripted.misc.callback_ip()
    assert caught.value.errcode == 40013


async def test_a_non_json_answer_is_quoted_without_credentials(script: Script, scripted: Client) -> None:
    script[IPS] = lambda: Response("bad gateway for /x?access_token=LEAKED-TOKEN&secret=LEAKED", status_code=200)
    with pytest.raises(UnexpectedAnswerError) as caught:
        await scripted.misc.callback_ip()
    assert "access_token=***" in str(caught.value) and "LEAKED" not in str(caught.value)
