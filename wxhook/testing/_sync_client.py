"""``BotClient`` for synchronous code (plain pytest tests, scripts): the same calls, without ``await``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

if TYPE_CHECKING:
    from ._bot_client import BotClient, BotReply
    from ._replies import DeferredReply
    from .fake_wechat import FakeWeChat

T = TypeVar("T")


class SyncBotClient:
    """What ``with BotClient(...) as wechat:`` gives: each call runs on the client's own event loop, on a
    background thread, so the bot's deferred handlers keep working between calls as they would in a server.
    Returned by the ``bot_client`` pytest fixture too."""

    def __init__(self, client: BotClient) -> None:
        self.client = client
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wxhook-BotClient", daemon=True)
        self._thread.start()
        try:
            self._run(client.__aenter__())
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def close(self) -> None:
        """Run the bot's shutdown (in-process), close the connection and end the loop's thread."""
        if self._loop.is_closed():
            return
        try:
            self._run(self.client.aclose())
        finally:
            self._stop_loop()

    @property
    def fake(self) -> FakeWeChat | None:
        """The FakeWeChat the bot's API client calls (in-process, or as given with ``fake=``)."""
        return self.client.fake

    def message(self, msg_type: str, openid: str = "o_follower", **fields: Any) -> dict[str, Any]:
        return self.client.message(msg_type, openid, **fields)

    def post(self, fields: Mapping[str, Any], *, query: Mapping[str, str] | None = None) -> BotReply:
        return self._run(self.client.post(fields, query=query))

    def send_text(self, content: str, openid: str = "o_follower", **fields: Any) -> BotReply:
        return self._run(self.client.send_text(content, openid, **fields))

    def send_event(self, event: str, openid: str = "o_follower", **fields: Any) -> BotReply:
        return self._run(self.client.send_event(event, openid, **fields))

    def handshake(self, echostr: str = "wxhook-echo") -> httpx.Response:
        return self._run(self.client.handshake(echostr))

    @property
    def deferred(self) -> list[DeferredReply]:
        return self.client.deferred

    def next_deferred(self, timeout: float = 5.0) -> DeferredReply:
        return self._run(self.client.next_deferred(timeout))
