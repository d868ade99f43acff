"""httpx's way into an ASGI app in-process that answers when the app's response is complete, as a server does.

A bot answers a handler that missed its deadline at the deadline and keeps running that handler in the same
ASGI call; httpx's own ``ASGITransport`` would hand back the response only when the call returns, so a test
would wait for the whole handler. Calls still running are finished (or cut off) by ``drain``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping
from typing import Any

import httpx

from ..protocol import Scope

logger = logging.getLogger("wxhook")
ASGIApp = Any


class ResponseFirstTransport(httpx.AsyncBaseTransport):
    """Each request is one ASGI call in a task of its own; the response comes back as soon as it is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._calls: set[asyncio.Task[None]] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scope: Scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
            "headers": [(name.lower(), value) for name, value in request.headers.raw], "scheme": request.url.scheme,
            "path": request.url.path, "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query, "server": (request.url.host, request.url.port),
            "client": ("127.0.0.1", 123), "root_path": "",
        }
        answered: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] = (
            asyncio.get_running_loop().create_future())
        call = asyncio.create_task(self._call(scope, _Exchange(body, answered)))
        self._calls.add(call)
        call.add_done_callback(self._calls.discard)
        await asyncio.wait((answered, call), return_when=asyncio.FIRST_COMPLETED)
        if not answered.done():
            call.result()  # the app raised before answering: the test sees its exception
            raise RuntimeError("the ASGI app returned without sending a complete response")
        status, headers, content = answered.result()
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _call(self, scope: Scope, exchange: _Exchange) -> None:
        try:
            await self._app(scope, exchange.receive, exchange.send)
        except Exception:
            if not exchange.answered.done():
                raise
            logger.exception("the app failed after answering %s %s", scope["method"], scope["path"])

    async def wait(self, timeout: float) -> int:
        """Wait up to ``timeout`` seconds for calls still running (deferred handlers); how many still run."""
        if self._calls:
            await asyncio.wait(set(self._calls), timeout=timeout)
        return sum(not call.done() for call in self._calls)

    async def drain(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for calls still running (deferred handlers), then cancel the rest, as a
        server's graceful shutdown does."""
        pending = set(self._calls)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=grace)
        for call in pending:
            call.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1)


class _Exchange:
    """One call's receive and send: the request body once, then (after the response) a disconnect."""

    __slots__ = ("_body", "_headers", "_parts", "_sent", "_status", "answered")

    def __init__(self, body: bytes, answered: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]]) -> None:
        self._body = body
        self._sent = False
        self._status = 500
        self._headers: list[tuple[bytes, bytes]] = []
        self._parts: list[bytes] = []
        self.answered = answered

    async def receive(self) -> MutableMapping[str, Any]:
        if not self._sent:
            self._sent = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        await asyncio.shield(self.answered)
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self._status = message["status"]
            self._headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self._parts.append(message.get("body", b""))
            if not message.get("more_body", False) and not self.answered.done():
                self.answered.set_result((self._status, self._headers, b"".join(self._parts)))
