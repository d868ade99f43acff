"""The taskiq side of the job queue (imported only when a queue is configured: taskiq is optional).

Kept apart from ``queue.py`` because taskiq resolves a task's dependencies from its type hints, so the names in
them (``Context``) must be importable from the module the task functions live in.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from taskiq import (
    AckableMessage,
    AsyncBroker,
    AsyncTaskiqDecoratedTask,
    Context,
    SimpleRetryMiddleware,
    TaskiqDepends,
    TaskiqMessage,
    TaskiqMiddleware,
)
from taskiq.api import run_receiver_task
from taskiq.kicker import AsyncKicker
from taskiq_redis import RedisStreamBroker

from .queue import SIGNATURE

_STREAM_MAXLEN = 100_000
_RENEW_FOR = 3600.0

logger = logging.getLogger("wxhook")
_POLL_MS = 1000

RunJob = Callable[[str, tuple[Any, ...], dict[str, Any], Mapping[str, Any] | None], Awaitable[None]]
"""Checks and runs one job: its task name, then its arguments, keywords and labels as they came from Redis (the
labels None when a keyword of the job took the place of taskiq's context)."""


class _StreamBroker(RedisStreamBroker):
    """taskiq-redis' stream broker, reclaiming a dead worker's jobs on every poll, and keeping a running job
    claimed while its worker lives.

    Upstream (taskiq-redis 1.2) looks for jobs idle past ``idle_timeout`` only after a poll brought new jobs,
    so on a quiet queue a job whose worker died would wait for the next message; here each poll does both.
    And a job that simply runs longer than ``idle_timeout`` would be claimed by a second worker while the
    first is still at it; here its worker renews the claim (XCLAIM resets the idle time) until it acks.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._renewing: set[asyncio.Task[None]] = set()

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        async with Redis(connection_pool=self.connection_pool) as conn:
            while True:
                fresh: Any = await conn.xreadgroup(
                    self.consumer_group_name, self.consumer_name, {self.queue_name: ">"},
                    block=self.block, noack=False, count=self.count,
                )
                entries = [entry for _, stream_entries in fresh or () for entry in stream_entries]
                _, claimed, *_ = await conn.xautoclaim(
                    self.queue_name, self.consumer_group_name, self.consumer_name,
                    min_idle_time=self.idle_timeout, count=self.unacknowledged_batch_size,
                )
                _stop_if_cancelled()
                for entry_id, fields in [*entries, *claimed]:
                    if fields:  # an entry trimmed from the stream while pending has no fields left
                        yield self._claimed(entry_id, fields[b"data"])

    def find_task(self, task_name: str) -> AsyncTaskiqDecoratedTask[Any, Any] | None:
        """Only the tasks registered on this broker: upstream also runs any task of taskiq's process-wide
        registry (``async_shared_broker``), which a job from Redis could name."""
        task = super().find_task(task_name)
        return task if task is not None and task.broker is self else None

    def _claimed(self, entry_id: Any, data: bytes) -> AckableMessage:
        """The job, with its claim renewed until it is acknowledged (or for an hour at most)."""
        renewing = asyncio.ensure_future(self._renew(entry_id))
        self._renewing.add(renewing)
        renewing.add_done_callback(self._renewing.discard)
        ack = self._ack_generator(entry_id, self.queue_name)

        async def ack_and_release() -> None:
            renewing.cancel()
            await ack()

        return AckableMessage(data=data, ack=ack_and_release)

    async def _renew(self, entry_id: Any) -> None:
        interval = self.idle_timeout / 3000
        for _ in range(int(_RENEW_FOR / interval) + 1):
            await asyncio.sleep(interval)
            try:
                async with Redis(connection_pool=self.connection_pool) as conn:
                    await conn.xclaim(self.queue_name, self.consumer_group_name, self.consumer_name,
                                      min_idle_time=0, message_ids=[entry_id], justid=True)
            except RedisError as exc:  # Redis away for a moment: the next renewal may pass
                logger.debug("could not renew the claim on job %s: %s", entry_id, exc)


def _stop_if_cancelled() -> None:
    """Raise the CancelledError a call swallowed: redis-py's blocking XREADGROUP, cancelled as a worker stops, can
    return its empty answer instead, and the poll would go on forever (a worker stopped right after it started
    hung, SIGTERM or not). Python 3.10 cannot tell (no ``Task.cancelling``)."""
    task = asyncio.current_task()
    if sys.version_info >= (3, 11) and task is not None and task.cancelling():
        raise asyncio.CancelledError


class _OwnLabels(TaskiqMiddleware):
    """Drops the labels wxhook never sets before taskiq reads a job's: one from Redis could carry an ``ack_type``
    taskiq raises on before any task runs (the job then stays pending, redelivered forever) or a ``timeout``."""

    _KEPT = frozenset({"retry_on_error", "max_retries", "_retries", SIGNATURE})

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        message.labels = {name: value for name, value in message.labels.items() if name in self._KEPT}
        return message


def new_broker(url: str, stream: str, *, redeliver_after: float, max_attempts: int) -> AsyncBroker:
    """A Redis stream broker: jobs stay pending until acknowledged after they ran, and a job left
    unacknowledged for ``redeliver_after`` seconds (its worker died) is claimed by another worker."""
    broker = _StreamBroker(
        url, queue_name=stream, consumer_group_name="wxhook", consumer_id="0",
        idle_timeout=int(redeliver_after * 1000), xread_block=_POLL_MS, maxlen=_STREAM_MAXLEN,
        socket_connect_timeout=1.0, socket_timeout=_POLL_MS / 1000 + 4,  # a hung Redis fails, never blocks
    )
    return broker.with_middlewares(SimpleRetryMiddleware(default_retry_count=max_attempts), _OwnLabels())


async def kick(broker: AsyncBroker, task: str, max_attempts: int, payload: dict[str, Any],
               labels: dict[str, str]) -> None:
    """Enqueue one job: its payload as the one argument, ``labels`` (a signature) beside taskiq's own."""
    kicker: AsyncKicker[Any, Any] = AsyncKicker(task, broker, {**labels, "retry_on_error": True,
                                                               "max_retries": max_attempts})
    await kicker.kiq(payload)


def register(broker: AsyncBroker, names: Iterable[str], run_job: RunJob) -> None:
    """Register wxhook's tasks: each hands its job, whatever it holds, to ``run_job``."""
    for name in names:
        broker.register_task(_task(name, run_job), task_name=name)


def _task(name: str, run_job: RunJob) -> Callable[..., Awaitable[None]]:
    async def task(*args: Any, context: Context = TaskiqDepends(), **kwargs: Any) -> None:  # noqa: B008
        labels = context.message.labels if isinstance(context, Context) else None  # taskiq lets a keyword replace it
        await run_job(name, args, kwargs, labels)

    return task


class _Stopping(logging.Filter):
    """Drops taskiq's warning that its listening task was cancelled: that is how a worker stops (SIGTERM)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "task was cancelled" not in record.getMessage()


async def receive(broker: AsyncBroker, concurrency: int) -> None:
    """Run jobs from ``broker``, ``concurrency`` at once, until cancelled. taskiq's coercion of arguments to
    the tasks' type hints is off: a job's payload reaches wxhook as it was in Redis, to be checked there."""
    broker.is_worker_process = True
    receiver_log, stopping = logging.getLogger("taskiq.receiver"), _Stopping()
    receiver_log.addFilter(stopping)
    try:
        await run_receiver_task(broker, max_async_tasks=concurrency, validate_params=False)
    finally:
        receiver_log.removeFilter(stopping)
