"""Work that runs after the response is sent: bounded, logged, and drained on shutdown.

Nothing handed to ``ctx.background`` is dropped silently: it runs, or it fails with a logged traceback, or
shutdown's grace period ends first and the job is logged by name as abandoned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from .callables import is_async, job_name

logger = logging.getLogger("wxhook")


class Background:
    """Runs jobs as tasks, at most ``limit`` at once; the rest wait their turn in order."""

    def __init__(self, limit: int = 100) -> None:
        if limit < 1:
            raise ValueError(f"background_limit must be at least 1, got {limit}")
        self._slots = asyncio.Semaphore(limit)
        self._tasks: dict[asyncio.Task[None], str] = {}

    def __len__(self) -> int:
        return len(self._tasks)

    def submit(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Start ``func(*args, **kwargs)``: awaited when async, in the thread pool when plain."""
        self.watch(self._run(func, args, kwargs), job_name(func))

    def watch(self, work: Awaitable[None], name: str) -> None:
        """Track any coroutine so shutdown waits for it (deferred handlers use this too)."""
        task = asyncio.ensure_future(work)
        self._tasks[task] = name
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        name = self._tasks.pop(task, "?")
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("background job %s failed", name, exc_info=exc)

    async def _run(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        async with self._slots:
            if is_async(func):
                await func(*args, **kwargs)
            else:
                await run_in_threadpool(func, *args, **kwargs)

    async def wait(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` seconds for every job, those its jobs start included, cancelling none; the names
        of those still running."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks and loop.time() < deadline:
            await asyncio.wait(set(self._tasks), timeout=deadline - loop.time())
        return sorted(self._tasks.values())

    async def drain(self, grace: float) -> list[str]:
        """Wait up to ``grace`` seconds for every job; cancel and return the names of those still running."""
        pending = set(self._tasks)
        if pending:
            logger.info("waiting up to %gs for %d background job(s)", grace, len(pending))
            _, pending = await asyncio.wait(pending, timeout=grace)
        abandoned = sorted(self._tasks[task] for task in pending if task in self._tasks)
        for task in pending:
            task.cancel()
        if abandoned:
            logger.error("shutdown grace period (%gs) ended; abandoned background job(s): %s",
                         grace, ", ".join(abandoned))
            await asyncio.wait(pending, timeout=1)
        return abandoned
