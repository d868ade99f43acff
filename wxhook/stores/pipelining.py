"""Redis commands of one event-loop turn sent together: one pipeline, one connection, one write.

Under load a webhook process issues dozens of small commands at once (a claim per arriving message, an outcome
per answered one), and redis-py spends more CPU per command on the connection pool, the socket write and
the timeout than Redis spends running it. ``Pipeliner`` queues the commands issued while the loop is busy and
sends them as one non-transactional pipeline from a task of its own, so a burst costs one round trip; each
caller still gets its own reply or error (a NOSCRIPT error included: ``RedisStore`` sends that script's source
next, as it does off a pipeline). Commands stay independent: no caller relies on another's order,
and a batch is not atomic (Lua scripts give the atomicity a command needs).
"""

from __future__ import annotations

import asyncio
from typing import Any


class _Batch:
    __slots__ = ("commands", "futures", "task")

    def __init__(self) -> None:
        self.commands: list[tuple[Any, ...]] = []
        self.futures: list[asyncio.Future[Any]] = []
        self.task: asyncio.Task[None] | None = None


class Pipeliner:
    """Batches commands for one redis-py client (a single server or a Sentinel master, not a Cluster) in one
    event loop. ``gate`` bounds the batches in flight, and so the connections in use.
    """

    __slots__ = ("_gate", "_open", "_redis")

    def __init__(self, redis: Any, gate: asyncio.Semaphore) -> None:
        self._redis = redis
        self._gate = gate
        self._open: _Batch | None = None

    async def execute(self, loop: asyncio.AbstractEventLoop, *args: Any) -> Any:
        """The reply to one command, parsed as ``redis.execute_command(*args)`` would return it; ``loop`` is
        the running one (the caller has it at hand: looking it up is a system call on Python 3.11)."""
        batch = self._open
        if batch is None:
            batch = self._open = _Batch()
            batch.task = loop.create_task(self._send(batch))
        future: asyncio.Future[Any] = loop.create_future()
        batch.commands.append(args)
        batch.futures.append(future)
        try:
            return await future
        except asyncio.CancelledError:
            # the caller gave up (its timeout): once every caller of the batch has, nobody waits for Redis. A
            # batch whose task never ran is closed too, or later commands would join it and wait in vain.
            if batch.task is not None and all(f.done() for f in batch.futures):
                self._close(batch)
                batch.task.cancel()
            raise

    async def _send(self, batch: _Batch) -> None:
        """Runs a turn after the batch opened: the commands issued meanwhile have joined it."""
        try:
            async with self._gate:
                self._close(batch)
                replies = await self._pipeline(batch.commands)
        except BaseException as exc:
            self._close(batch)
            for future in batch.futures:
                if not future.done():
                    if isinstance(exc, asyncio.CancelledError):
                        future.cancel()
                    else:
                        future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for future, reply in zip(batch.futures, replies, strict=True):
            if not future.done():
                if isinstance(reply, BaseException):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)

    def _close(self, batch: _Batch) -> None:
        """No command joins ``batch`` from now on."""
        if self._open is batch:
            self._open = None

    async def _pipeline(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for args in commands:
                pipe.execute_command(*args)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
            return replies
