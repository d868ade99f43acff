"""What ``BotClient(bot)`` does around a Bot it calls in-process, how it catches deferred replies, and how a test
starts on a bot with nothing of the test before."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..stores import MemoryStore
from ._replies import DeferredReply
from .fake_wechat import FakeWeChat

if TYPE_CHECKING:
    from ..api import Client
    from ..app import Bot
    from ._fake_state import RecordedCall

__all__ = ["start_afresh"]


class InProcess:
    """The bot's lifespan as a server would run it, with its API client pointed at a FakeWeChat meanwhile.

    The fake is ``fake`` when given (it must be running), else one started here. On stop the bot's shutdown
    runs first — it waits for deferred handlers, whose replies then reach the fake — and the bot gets its own
    API client back.
    """

    def __init__(self, bot: Bot, fake: FakeWeChat | None) -> None:
        self.bot = bot
        self._given = fake
        self._own: FakeWeChat | None = None
        self._previous: Client | None = None

    async def start(self) -> FakeWeChat:
        fake = self._given
        if fake is None:
            fake = self._own = await FakeWeChat().__aenter__()
        self._previous = self.bot.api
        self.bot.api = fake.client()
        try:
            await self.bot.startup()
        except BaseException:
            await self.stop()
            raise
        return fake

    async def stop(self) -> None:
        try:
            await self.bot.shutdown()
        finally:
            if self._previous is not None:
                self.bot.api, self._previous = self._previous, None
            if self._own is not None:
                own, self._own = self._own, None
                await own.__aexit__(None, None, None)


def start_afresh(bot: Bot) -> None:
    """Leave nothing of an earlier test in a bot that outlives it (a module's ``bot``): its memory store emptied
    (sessions, the outcomes kept for retries, replay records) and its counters (``bot.stats``, the message
    outcomes) reset. A store of SQLite or Redis is left alone, since others may share it: tests set
    ``WXHOOK_STORE=memory://``. The ``bot_client`` fixture calls it before each test; call it in async tests."""
    if isinstance(bot.store, MemoryStore):
        bot.store.clear()
    bot.observer.reset()


class DeferredInbox:
    """The customer-service messages a FakeWeChat accepts from now on, handed to the loop that reads them (the fake
    may serve from another thread). A send the fake refused (a scripted ``fake.fail``, 45015 past the 48-hour
    window) never reached the follower, and is not one of them: its retry is, once accepted."""

    def __init__(self, fake: FakeWeChat) -> None:
        self._loop = asyncio.get_running_loop()
        self._items: list[DeferredReply] = []
        self._taken = 0
        self._arrived = asyncio.Event()
        self._unsubscribe = fake.subscribe(self._on_call)

    def _on_call(self, call: RecordedCall) -> None:
        deferred = DeferredReply.from_call(call)
        if deferred is None or call.failure is not None:
            return
        try:
            here = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            here = False
        if here:
            self._add(deferred)
        else:
            self._loop.call_soon_threadsafe(self._add, deferred)

    def _add(self, deferred: DeferredReply) -> None:
        self._items.append(deferred)
        self._arrived.set()

    def received(self) -> list[DeferredReply]:
        return list(self._items)

    async def next(self, timeout: float) -> DeferredReply:
        deadline = self._loop.time() + timeout
        while self._taken == len(self._items):
            self._arrived.clear()
            remaining = deadline - self._loop.time()
            try:
                await asyncio.wait_for(self._arrived.wait(), max(remaining, 0))
            except asyncio.TimeoutError:
                raise AssertionError(
                    f"no deferred reply within {timeout} s: the handler may still be running (raise timeout=), "
                    "or it answered in time, or its delivery failed (see the wxhook log)"
                ) from None
        self._taken += 1
        return self._items[self._taken - 1]

    def close(self) -> None:
        self._unsubscribe()
