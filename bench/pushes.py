"""Correctly signed WeChat pushes for the benchmarks, each one distinct, and an in-process ASGI driver for them.

Push ``n`` comes from follower ``o_bench_<n>`` with MsgId ``BASE_MSG_ID + n`` and content ``bench message <n>``,
under its own nonce: no two pushes share a dedupe key, so retry coalescing cannot answer one from another's
outcome, and an echo reply names the push it answers (its ToUserName and Content carry the same ``n``).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from wxhook.crypto import Envelope, decode_aes_key, sign

TOKEN = "wxhook-bench"
APPID = "wx2c2769f8efd9abc2"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
ACCOUNT = "gh_bench"
BASE_MSG_ID = 7_000_000_000_000_000_000
CREDENTIALS = {"WXHOOK_TOKEN": TOKEN, "WXHOOK_APPID": APPID}
"""The account every contender serves; safe-mode runs add ``WXHOOK_AES_KEY``."""

T = TypeVar("T")
Fields = Mapping[str, str | int]
ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Push:
    target: str
    """Path and signed query, as WeChat requests it."""
    body: bytes


def xml(fields: Fields) -> str:
    """A push body as WeChat writes it: strings in CDATA, numbers bare."""
    inner = "".join(
        f"<{tag}>{value}</{tag}>" if isinstance(value, int) else f"<{tag}><![CDATA[{escape(value)}]]></{tag}>"
        for tag, value in fields.items()
    )
    return f"<xml>{inner}</xml>"


def text_fields(n: int, content: str | None = None) -> dict[str, str | int]:
    return {"ToUserName": ACCOUNT, "FromUserName": f"o_bench_{n}", "CreateTime": int(time.time()),
            "MsgType": "text", "Content": f"bench message {n}" if content is None else content,
            "MsgId": BASE_MSG_ID + n}


def click_fields(n: int, key: str) -> dict[str, str | int]:
    return {"ToUserName": ACCOUNT, "FromUserName": f"o_bench_{n}", "CreateTime": int(time.time()),
            "MsgType": "event", "Event": "CLICK", "EventKey": key}


class Signer:
    """Signs pushes for the benchmark account; seals them too when built with ``sealed=True``. ``path`` is where
    they go (``/{appid}`` for a bot serving many accounts)."""

    def __init__(self, sealed: bool, path: str = "/") -> None:
        self._envelope = Envelope(decode_aes_key(AES_KEY), APPID) if sealed else None
        self._path = path

    def push(self, n: int, fields: Fields) -> Push:
        timestamp, nonce = str(fields["CreateTime"]), str(1_000_000_000 + n)
        query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": str(fields["FromUserName"])}
        body = xml(fields)
        if self._envelope is not None:
            encrypted = self._envelope.seal(body.encode())
            query.update(encrypt_type="aes", msg_signature=sign(TOKEN, timestamp, nonce, encrypted))
            body = xml({"ToUserName": ACCOUNT, "Encrypt": encrypted})
        return Push(f"{self._path}?{urlencode(query)}", body.encode())

    def texts(self, count: int, first: int = 0) -> Iterator[Push]:
        """``count`` distinct text pushes, numbered from ``first``."""
        return (self.push(n, text_fields(n)) for n in range(first, first + count))


async def call(app: ASGIApp, push: Push) -> tuple[int, bytes]:
    """One push through ``app`` in-process, as uvicorn would hand it over: (status, body)."""
    path, _, query = push.target.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": [(b"content-length", str(len(push.body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    request = {"type": "http.request", "body": push.body, "more_body": False}
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        return request

    async def send(event: MutableMapping[str, Any]) -> None:
        nonlocal status
        if event["type"] == "http.response.start":
            status = event["status"]
        elif event["type"] == "http.response.body":
            chunks.append(event.get("body", b""))

    # One turn of the event loop per push, as a server takes between requests: without it a batch of pushes runs
    # in one turn, which wxhook's load shedding reads as a loop stalled for that long (admission.py).
    await asyncio.sleep(0)
    await app(scope, receive, send)
    return status, b"".join(chunks)


class SimulatedTime:
    """A counted process's clocks, advanced by the work rather than by the wall (bench/instructions.py,
    bench/bytecodes.py, bench/stages.py --instructions): without it a count depended on the machine's load, or on
    the counting's own slowness.
    Under valgrind or a tracer a push takes milliseconds of wall time instead of tens of microseconds, so every
    timer (the admission gate's 20 ms lag probe, the memory store's 10 ms expiry slots, the reply window's alarm)
    fired once every few pushes instead of once every few hundred, more often still while neighbours slowed the
    run down (a figure moved by up to 2 % between runs of one commit), and the gate took the slowness for overload.

    Here ``time.monotonic`` and ``time.time`` advance by ``STEP`` seconds a reading (a push reads them about ten
    times: some tens of microseconds a push, as on a real server), each a C counter (``itertools.count``: no Python
    frame added to what is counted), and the event loop never sleeps: when it would wait for its next timer, the
    monotonic clock jumps to it. Every run of one commit then follows the same path."""

    STEP = 5e-6

    def __init__(self) -> None:
        self._epoch = time.time() - time.monotonic()
        self._start(time.monotonic())

    def _start(self, now: float) -> None:
        clock = itertools.count(now, self.STEP)
        time.monotonic = clock.__next__
        time.time = itertools.count(self._epoch + now, self.STEP).__next__

    def loop(self) -> asyncio.AbstractEventLoop:
        """An event loop whose waits for a timer take no time: the clocks jump to it instead."""
        loop = asyncio.new_event_loop()
        selector = loop._selector  # type: ignore[attr-defined]
        select = selector.select

        def without_waiting(timeout: float | None = None) -> Any:
            events = select(0)
            if not events and timeout:
                self._start(time.monotonic() + timeout)
            return events

        selector.select = without_waiting
        return loop

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """``work`` run to its end on such a loop, then the loop closed."""
        loop = self.loop()
        try:
            return loop.run_until_complete(work)
        finally:
            loop.close()
