"""Resources that belong to the event loop that first used them (the bot's runtime, the HTTP pool, the token lock,
the Redis pool), and work done once for everyone waiting on it (``SingleFlight``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K")


class LoopBound(Generic[T]):
    """A resource that belongs to the event loop that first used it (a pool, a lock, a runtime).

    Objects like these are built at import time but live in a loop; a test suite or ``asyncio.run`` twice
    gives them a new loop, where the old resource is dead: ``get`` then builds a fresh one.
    """

    __slots__ = ("_factory", "_loop", "_value")

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self, loop: asyncio.AbstractEventLoop | None = None) -> T:
        """The resource of the running loop; ``loop`` is that loop when the caller has it at hand (looking it up
        is a system call on Python 3.11)."""
        if loop is None:
            loop = asyncio.get_running_loop()
        if self._value is None or self._loop is not loop:
            self._value, self._loop = self._factory(), loop
        return self._value

    def take(self) -> T | None:
        """Detach and return the resource if it belongs to the running loop (to close it); forget it anyway."""
        value, loop = self._value, self._loop
        self._value = self._loop = None
        return value if value is not None and loop is asyncio.get_running_loop() else None

    def peek(self) -> T | None:
        """The current resource, whichever loop it belongs to, without creating one."""
        return self._value


class SingleFlight(Generic[K, T]):
    """One call per key at a time in this process: a caller that finds one in flight gets its result (or its
    exception) instead of calling again. What an account lookup and an authorization-code exchange need."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: dict[K, asyncio.Future[T]] = {}

    async def run(self, key: K, work: Callable[[], Awaitable[T]]) -> T:
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            result = await work()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters see it, nobody else has to
            raise
        finally:
            del self._pending[key]
        future.set_result(result)
        return result
