"""WeChat's five-second window: answer in time, finish late work through the API, never run a message twice.

WeChat waits about five seconds for a reply, then drops the connection and sends the same message again
(three tries in all). For each message (keyed by MsgId, or sender + time + event for events):

- the first delivery claims the message in the store and starts the handler as a task of its own; the claim
  is a lease, renewed while the handler runs, so when a worker dies mid-handler its claim lapses within
  ``lease`` seconds and the next delivery (a waiting retry, or WeChat's next try) runs the message again:
  at-least-once across crashes, exactly once otherwise;
- every delivery, first or retry, waits for the handler's outcome until its own deadline;
- a delivery that sees the outcome in time answers it passively (and a retry after completion gets the
  same reply again: WeChat only shows the answer to the connection it still holds);
- a delivery whose deadline passes answers "success" (or ``timeout_reply``) and lets go;
- when the handler finishes and no delivery is left waiting, its reply goes out once through the
  customer-service API. ``delivered`` is claimed atomically, so a reply is never both sent through the API
  and answered passively.

The claim, the outcome and the waiters live in the bot's store, so this holds across the workers of one host
(SQLite) or many hosts (Redis) as well as within one process, where waiting is a local future instead of polling.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from .api import Client, InvalidCredentialError, SystemBusyError, WeChatError, WeChatNetworkError
from .background import Background
from .context import Context
from .messages import Message, dedupe_key
from .observe import COALESCED, DEFERRED
from .replies import Reply, Text
from .stores import Store
from .stores.keys import BotKeys, MessageKeys

Handle = Callable[[Context], Awaitable[Reply | None]]
Enqueue = Callable[[Message, str], Awaitable[bool]]
"""Puts a message on the job queue for the named handler; False when the queue cannot be reached."""

logger = logging.getLogger("wxhook")

_NO_REPLY = "-"
_REPLY = "+"
_RUNNING = "running:"
_DONE = "done"
_QUEUED = "queued"
_POLL_MIN, _POLL_MAX = 0.01, 0.1
_DELIVERY_ATTEMPTS = 3


class _Lease:
    """A message running in this process: its runner task, its claim, since when."""

    __slots__ = ("claim", "renewing", "started", "state", "task", "timed_out")

    def __init__(self, task: asyncio.Task[Any], state: str, claim: str, started: float) -> None:
        self.task = task
        self.state = state
        self.claim = claim
        self.started = started
        self.renewing = False
        self.timed_out = False


class _Orphaned:
    """What polling finds when the runner's lease lapsed and this delivery took the claim over."""

    __slots__ = ("claim",)

    def __init__(self, claim: str) -> None:
        self.claim = claim


class Window:
    """Deadline, deferral and retry coalescing for one bot.

    ``handle`` produces a message's reply (the dispatcher), ``api`` gives the client late replies go out
    through (called only when one does, so a bot without an AppSecret works until then). ``enqueue`` (a job
    queue) takes the messages of routes marked ``queue=True``.
    """

    def __init__(
        self,
        handle: Handle,
        api: Callable[[], Client],
        store: Store,
        background: Background,
        stats: Counter[str],
        *,
        keys: BotKeys,
        retention: float,
        timeout_reply: str | None,
        typing: bool,
        lease: float = 5.0,
        handler_timeout: float = 300.0,
        retry_delay: float = 1.0,
        enqueue: Enqueue | None = None,
    ) -> None:
        self._handle = handle
        self._api = api
        self._store = store
        self._background = background
        self._keys = keys
        self._retention = retention
        self._timeout_reply = timeout_reply
        self._typing = typing
        self._lease = lease
        self._handler_timeout = handler_timeout
        self._retry_delay = retry_delay
        self._enqueue = enqueue
        self._running: dict[str, asyncio.Future[str]] = {}
        self._leases: dict[str, _Lease] = {}
        self._ticking: asyncio.TimerHandle | None = None
        self._gave_up: set[str] = set()  # messages whose first delivery answered before their handler finished
        self.stats = stats

    async def answer(self, msg: Message, ctx: Context, deadline: float, handler: str) -> str | None:
        """The passive reply XML to send for this delivery (None: answer "success").

        ``deadline`` is the loop time by which this delivery must be answered; ``handler`` names the work in
        the shutdown log should it still be running then.
        """
        key = dedupe_key(msg)
        keys = self._keys.message(key)
        claim = await self._claim(keys)
        # A queued handler: the first delivery enqueues it and every delivery answers at once; if the queue
        # cannot be reached, the claimed delivery falls through and runs it here.
        enqueue = self._enqueue if ctx.route is not None and ctx.route.queue else None
        if enqueue is not None and (claim is None or await enqueue(msg, handler)):
            if claim is not None:
                self.stats["queued"] += 1
                await self._store.set(keys.state, _QUEUED, self._retention)  # the queue owns it now
            return None if self._timeout_reply is None else _render_text(msg, self._timeout_reply)
        if claim is not None:
            return await self._run_here(msg, ctx, key, claim, deadline, handler)
        self.stats["coalesced"] += 1
        ctx.outcome = COALESCED
        waiter = secrets.token_hex(8)
        await self._store.set(keys.waiter, waiter, max(deadline - asyncio.get_running_loop().time(), 0) + 1)
        try:
            value = await self._outcome(key, keys, deadline)
            if isinstance(value, _Orphaned):
                self.stats["taken_over"] += 1
                logger.warning("message %s: its handler's worker stopped renewing its claim (it died?); running it "
                               "again here", key)
                return await self._run_here(msg, ctx, key, value.claim, deadline, handler)
            if value is not None and value != _NO_REPLY:
                claimed = await self._store.set_if_absent(keys.delivered, "passive", self._retention)
                if not claimed and await self._store.get(keys.delivered) != "passive":
                    return None  # the reply already went out through the API
            return self._passive(msg, value)
        finally:
            await self._store.compare_and_delete(keys.waiter, waiter)

    async def _claim(self, keys: MessageKeys) -> str | None:
        """Take the message's lease; None when a live runner (or a finished one) holds it."""
        claim = _RUNNING + secrets.token_hex(6)
        return claim if await self._store.set_if_absent(keys.state, claim, self._lease) else None

    async def _run_here(
        self, msg: Message, ctx: Context, key: str, claim: str, deadline: float, handler: str
    ) -> str | None:
        outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._running[key] = outcome
        self._background.watch(self._run(msg, ctx, key, claim, outcome, deadline), f"{handler} ({key})")
        # The runner's own delivery needs no waiter entry or delivery claim: if the outcome comes in time, the
        # runner leaves the passive answer to it; if not, it is gone before the runner looks for waiters.
        value = await self._outcome(key, self._keys.message(key), deadline)
        assert not isinstance(value, _Orphaned)  # the outcome of a local runner is awaited, never polled
        if value is None:
            ctx.outcome = DEFERRED
            self._gave_up.add(key)  # in the same step as seeing no outcome: the runner then sends it itself
        return self._passive(msg, value)

    def _passive(self, msg: Message, value: str | None) -> str | None:
        """The answer for an outcome: its reply XML, nothing, or the interim text when none came in time."""
        if value is None:
            self.stats["deadline_passed"] += 1
            return None if self._timeout_reply is None else _render_text(msg, self._timeout_reply)
        return None if value == _NO_REPLY else value[1:]

    async def _outcome(self, key: str, keys: MessageKeys, deadline: float) -> str | _Orphaned | None:
        """Wait for the handler's outcome: a local future when it runs here, else by polling the store (and
        taking the claim over when its runner's lease lapses)."""
        loop = asyncio.get_running_loop()
        local = self._running.get(key)
        if local is not None:
            if local.done():
                return local.result()
            # A waiter of our own, woken by the outcome or the deadline, whichever comes first: cheaper than
            # wait_for(shield(...)), and the runner's future is never cancelled by a delivery giving up.
            waiter: asyncio.Future[str | None] = loop.create_future()
            wake = functools.partial(_wake, waiter)
            local.add_done_callback(wake)
            timer = loop.call_at(deadline, _wake, waiter, None)
            try:
                value = await waiter
            finally:
                timer.cancel()
                local.remove_done_callback(wake)
            # Finished in the turn the deadline fired: the runner counts on this delivery to answer it.
            return local.result() if value is None and local.done() else value
        delay = _POLL_MIN
        while True:
            state = await self._store.get(keys.state)
            if state is not None and state.startswith(_DONE):
                return state[len(_DONE):]
            if state is None and (claim := await self._claim(keys)) is not None:
                return _Orphaned(claim)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, _POLL_MAX)

    async def _run(
        self, msg: Message, ctx: Context, key: str, claim: str, outcome: asyncio.Future[str], deadline: float
    ) -> None:
        keys = self._keys.message(key)
        loop = asyncio.get_running_loop()
        runner = asyncio.current_task()
        assert runner is not None  # _run always runs as a task of its own
        self._leases[key] = _Lease(runner, keys.state, claim, loop.time())
        if self._ticking is None:
            self._ticking = loop.call_later(self._lease / 3, self._tick)
        typing = None
        if self._typing:
            typing = loop.call_at(deadline, lambda: self._background.watch(
                self._keep_typing(msg.from_user_name, outcome), f"typing for {key}"))
        value = _NO_REPLY
        reply = None
        try:
            try:
                reply = await self._handle(ctx)
            except asyncio.CancelledError:
                lease = self._leases.get(key)
                if lease is None or not lease.timed_out:
                    raise
                self.stats["handler_timeout"] += 1
                logger.error("the handler for %s ran past handler_timeout (%gs) and was cancelled; the follower gets "
                             "no reply", key, self._handler_timeout)
            self._leases.pop(key, None)  # its claim is settled by the writes below, and no timeout may hit them
            if reply is not None:
                value = _REPLY + reply.render(msg.from_user_name, msg.to_user_name, int(time.time()))
            # The outcome replaces the claim in one write: a retry that reads it needs no second key.
            await self._store.set(keys.state, _DONE + value, self._retention)
        finally:
            self._leases.pop(key, None)
            self._running.pop(key, None)
            if typing is not None:
                typing.cancel()
            if not outcome.done():
                outcome.set_result(value)
        # Whether the first delivery gave up is decided with the outcome in hand, not by the clock: under load
        # the deadline's timer and the handler's end come due in one loop turn, and that delivery still answers.
        in_time = key not in self._gave_up
        self._gave_up.discard(key)
        ctx.release()  # jobs start as tasks of their own, after every delivery already woken
        if reply is None or in_time:
            return  # the first delivery, waiting in this process, answers it passively
        delay = _POLL_MIN
        while await self._store.get(keys.delivered) is None:
            if await self._store.get(keys.waiter) is None:
                if await self._store.set_if_absent(keys.delivered, "api", self._retention):
                    await self._deliver(msg, reply)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)

    def _tick(self) -> None:
        """Every third of the lease while handlers run: renew the claims of those running longer, and cancel
        those past ``handler_timeout``. One timer for all of them, none per message."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        for key, lease in list(self._leases.items()):
            age = now - lease.started
            if age >= self._handler_timeout and not lease.timed_out:
                lease.timed_out = True
                lease.task.cancel()
            elif age >= self._lease / 3 and not lease.renewing:
                lease.renewing = True
                self._background.watch(self._renew(key, lease), f"lease of {key}")
        self._ticking = loop.call_later(self._lease / 3, self._tick) if self._leases else None

    async def _renew(self, key: str, lease: _Lease) -> None:
        try:
            if not await self._store.renew(lease.state, lease.claim, self._lease) and key in self._leases:
                logger.warning("lost the claim on %s while its handler ran (the store was unreachable for longer "
                               "than the %gs lease?); a retry may run it again", lease.state, self._lease)
        finally:
            lease.renewing = False

    async def _deliver(self, msg: Message, reply: Reply) -> None:
        """Send a late reply through the customer-service API; retried only when the failure proves WeChat did
        not get it (a connection never made, no access token to be had, errcode -1, a token still refused after
        the client's own refetch), since a repeat would reach the follower twice."""
        openid = msg.from_user_name
        try:
            msgtype, payload = reply.custom_message()
        except TypeError as exc:
            self.stats["delivery_failed"] += 1
            logger.error("late reply to %s dropped: %s", openid, exc)
            return
        for attempt in range(1, _DELIVERY_ATTEMPTS + 1):
            try:
                await self._api().message.send(openid, msgtype, payload)
            except WeChatError as exc:
                unsent = isinstance(exc, (SystemBusyError, InvalidCredentialError)) or (
                    isinstance(exc, WeChatNetworkError) and not exc.maybe_delivered)
                if unsent and attempt < _DELIVERY_ATTEMPTS:
                    await asyncio.sleep(self._retry_delay * attempt)
                    continue
                self.stats["delivery_failed"] += 1
                if isinstance(exc, WeChatNetworkError) and exc.maybe_delivered:
                    logger.error("late %s reply to %s may have been delivered, not sent again (a repeat would show "
                                 "twice): %s", msgtype, openid, exc)
                    return
                logger.error(
                    "late %s reply to %s not delivered after %d attempt(s): errcode %s, rid %s: %s",
                    msgtype, openid, attempt, getattr(exc, "errcode", None), getattr(exc, "rid", None), exc,
                )
                return
            self.stats["delivered"] += 1
            return

    async def _keep_typing(self, openid: str, outcome: asyncio.Future[str]) -> None:
        """Show "typing…" while a deferred handler works; WeChat drops the indicator after 15 s."""
        while not outcome.done():
            try:
                await self._api().message.typing(openid, True)
            except Exception as exc:
                logger.debug("typing indicator for %s failed: %s", openid, exc)
                return
            await asyncio.wait([outcome], timeout=12)


def _wake(waiter: asyncio.Future[str | None], outcome: asyncio.Future[str] | None) -> None:
    if not waiter.done():
        waiter.set_result(None if outcome is None else outcome.result())


def _render_text(msg: Message, text: str) -> str:
    return Text(text).render(msg.from_user_name, msg.to_user_name, int(time.time()))
