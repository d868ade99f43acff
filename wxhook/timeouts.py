"""Awaits bounded in time, at the least cost when they do not suspend: the body read (``await_by``) and the shared
stores' calls (``SharedTimeout``, one timer per event loop for calls that share one timeout)."""

from __future__ import annotations

import asyncio
import collections
import sys
import types
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any, TypeVar

from .loops import LoopBound

T = TypeVar("T")


async def await_by(work: Awaitable[T], deadline: float) -> T:
    """``await work``, or ``asyncio.TimeoutError`` at loop time ``deadline``.

    A coroutine is first stepped by hand, in this task: one that finishes without suspending (an ASGI
    ``receive`` whose body already arrived, a memory-store call: the common cases) costs no timer at all.
    """
    if not isinstance(work, types.CoroutineType):  # the concrete type: an ABC check costs more than the step
        return await _timeboxed(work, deadline)
    try:
        suspended_on = work.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    return await _timeboxed(resume(work, suspended_on), deadline)


@types.coroutine
def resume(work: Coroutine[Any, Any, T], suspended_on: Any) -> Generator[Any, Any, T]:
    """Drive the rest of a coroutine that was stepped by hand (``work.send(None)`` gave ``suspended_on``), in
    the same task, as ``await`` would."""
    while True:
        try:
            try:
                sent = yield suspended_on
            except BaseException as exc:  # a cancellation (the deadline) goes on into the coroutine
                suspended_on = work.throw(exc)
            else:
                suspended_on = work.send(sent)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


if sys.version_info >= (3, 11):

    async def _timeboxed(work: Awaitable[T], deadline: float) -> T:
        async with asyncio.timeout_at(deadline):
            return await work

else:  # pragma: no cover - Python 3.10

    async def _timeboxed(work: Awaitable[T], deadline: float) -> T:
        return await asyncio.wait_for(work, deadline - asyncio.get_running_loop().time())


class SharedTimeout:
    """Bounds awaits that all get the same ``seconds`` with one timer per event loop, not one each.

    Their deadlines come in the order they start, so the first one still running is always the next to
    expire: a queue and one timer, re-armed for its head, do what ``asyncio.timeout`` does per call with a
    timer (and, on Python 3.11, two system calls) of its own. For a store's calls, two per push.
    """

    __slots__ = ("_watches", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._watches: LoopBound[_Watches] = LoopBound(_Watches)

    async def run(self, work: Awaitable[T]) -> T:
        """``await work``, or ``TimeoutError`` once it has run ``seconds``; a coroutine that finishes without
        suspending costs no bookkeeping at all."""
        if not isinstance(work, types.CoroutineType):  # an awaitable of another kind: the general way
            return await _timeboxed(work, asyncio.get_running_loop().time() + self.seconds)
        try:
            suspended_on = work.send(None)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        task = asyncio.current_task()
        assert task is not None  # stepping a coroutine that suspends needs a task to resume it
        loop = task.get_loop()
        if sys.version_info < (3, 11):  # pragma: no cover - no Task.uncancel to tell our cancellation apart
            return await _timeboxed(resume(work, suspended_on), loop.time() + self.seconds)
        watch = _Watch(loop.time() + self.seconds, task)
        self._watches.get(loop).add(watch, loop)
        try:
            value = await resume(work, suspended_on)
        except asyncio.CancelledError:
            if watch.settle():
                raise TimeoutError(f"no answer within {self.seconds:g}s") from None
            raise
        except BaseException:
            watch.settle()
            raise
        watch.settle()
        return value


class _Watch:
    __slots__ = ("cancelling", "deadline", "expired", "task")

    def __init__(self, deadline: float, task: asyncio.Task[Any]) -> None:
        self.deadline = deadline
        self.task: asyncio.Task[Any] | None = task  # None once the call is over
        self.expired = False
        self.cancelling = 0
        if sys.version_info >= (3, 11):
            self.cancelling = task.cancelling()

    def settle(self) -> bool:
        """The call is over: take back the cancellation its deadline made, if it made one (whatever the call
        made of it); True when that was the task's only one, so the call timed out rather than was cancelled."""
        task, self.task = self.task, None
        if sys.version_info < (3, 11) or task is None or not self.expired:
            return False
        return task.uncancel() <= self.cancelling


class _Watches:
    """One event loop's calls under a ``SharedTimeout``, oldest first, and the timer for the oldest."""

    __slots__ = ("_queue", "_timer")

    def __init__(self) -> None:
        self._queue: collections.deque[_Watch] = collections.deque()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, watch: _Watch, loop: asyncio.AbstractEventLoop) -> None:
        queue = self._queue
        while queue and queue[0].task is None:  # finished: the timer need not wait for them
            queue.popleft()
        queue.append(watch)
        if self._timer is None:
            self._timer = loop.call_at(watch.deadline, self._expire, loop)

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        """Cancel the calls past their deadline, drop the finished ones ahead of the first still in time."""
        now = loop.time()
        queue = self._queue
        while queue and (queue[0].task is None or queue[0].deadline <= now):
            watch = queue.popleft()
            if watch.task is not None:
                watch.expired = True
                watch.task.cancel()
        self._timer = loop.call_at(queue[0].deadline, self._expire, loop) if queue else None
