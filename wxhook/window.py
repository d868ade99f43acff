"""WeChat's five-second window: answer in time, finish late work through the API, never run a message twice.

WeChat waits about five seconds for a reply, then drops the connection and sends the same message again
(three tries in all). For each message (keyed by MsgId, or sender + time + event for events):

- the first delivery claims the message in the store and runs the handler in its own request's task (no task,
  future or timer per message: one alarm serves every deadline); the claim is a lease, renewed while the
  handler runs, so when a worker dies mid-handler its claim lapses within ``lease`` seconds and the next
  delivery (a waiting retry, or WeChat's next try) runs the message again: at-least-once across crashes,
  exactly once otherwise;
- a retry waits for the handler's outcome until its own deadline;
- a delivery that sees the outcome in time answers it passively (and a retry after completion gets the
  same reply again: WeChat only shows the answer to the connection it still holds);
- a delivery whose deadline passes answers "success" (or ``timeout_reply``) and lets go; for the first
  delivery that answer goes out from a small task of its own while the handler carries on in the request's
  task, so the ASGI call returns only when the handler is done (a server waits for it on shutdown);
- when the handler finishes and no delivery is left waiting, its reply goes out once through the
  customer-service API (``late.py``). ``delivered`` is claimed atomically, so a reply is never both sent
  through the API and answered passively.

The claim, the outcome and the waiters live in the bot's store, so this holds across the workers of one host
(SQLite) or many hosts (Redis) as well as within one process, where waiting is a local future instead of polling.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import heapq
import itertools
import logging
import secrets
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from .background import Background
from .context import Context
from .delivery import Delivery
from .handover import Entry, Handover
from .late import LateReplies
from .messages import Message, dedupe_key, parse_message
from .observe import (
    COALESCED,
    DEADLINE_PASSED,
    HANDLER_TIMEOUT,
    PASSIVE,
    QUEUED,
    TAKEN_OVER,
    loggable_key,
)
from .replay import REUSED, Nonce, Stale
from .replies import Reply, Text
from .routing import Found
from .stores import Admission, MemoryStore, Store
from .stores.keys import MessageKeys
from .timeouts import resume

Handle = Callable[[Context, Found], Coroutine[Any, Any, tuple[Reply | None, str]]]
"""Runs a message's middleware and its routed handler: the reply, and the outcome (``passive`` or ``error``)."""
Enqueue = Callable[[Message, Context, str], Awaitable[bool]]
"""Puts a message on the job queue for the named handler; False when the queue cannot be reached."""
Resume = Callable[[Entry, Message], Awaitable["tuple[Context, Found] | None"]]
"""The context and route of a handed-over message, for its account (None: the account is no longer served)."""
Answer = tuple[str | None, str]
"""What a delivery answers (its passive reply XML, or None: "success") and the outcome for its line."""

logger = logging.getLogger("wxhook")

_NO_REPLY = "-"
_REPLY = "+"
_RUNNING = "running:"
_DONE = "done"
_QUEUED = "queued"
_POLL_MIN, _POLL_MAX = 0.01, 0.1
_HANDOVER_WAIT = 0.3
"""Seconds an answer waits for its handover to be written: the default deadline (4.5 s) leaves WeChat's 5 s room."""


class _Run:
    """A message whose handler runs in this process, in the task of its first delivery's request.

    Running the handler in the request's own task costs no task, future or timer of its own; when it outlives
    the deadline, its delivery's ``late`` answers the request from a task of its own while the handler carries on.
    """

    __slots__ = ("answered", "claim", "ctx", "deadline", "delivery", "fallback", "finished", "handler", "keys",
                 "msg", "renewing", "result", "settling", "started", "state", "task", "timed_out")

    def __init__(self, task: asyncio.Task[Any], keys: MessageKeys, claim: str, started: float, msg: Message,
                 ctx: Context, delivery: Delivery | None, handler: str) -> None:
        self.task = task
        self.keys = keys
        self.state = keys.state
        self.handler = handler
        self.claim = claim
        self.started = started
        self.deadline = delivery.deadline if delivery is not None else started
        self.msg = msg
        self.ctx = ctx
        self.delivery = delivery
        self.renewing = False
        self.timed_out = False
        self.settling = False  # its outcome is being written: no renewal or timeout may hit it now
        self.finished = False
        self.answered = delivery is None  # the deadline passed first: its delivery was answered without the outcome
        self.fallback: asyncio.Task[None] | None = None
        self.result: asyncio.Future[str] | None = None  # the kept outcome, made only when a retry or typing waits

    def __lt__(self, other: _Run) -> bool:  # the deadline heap's order
        return self.deadline < other.deadline

    def waiter(self) -> asyncio.Future[str]:
        if self.result is None:
            self.result = asyncio.get_running_loop().create_future()
        return self.result


class _Orphaned:
    """What polling finds when the runner's lease lapsed and this delivery took the claim over."""

    __slots__ = ("claim",)

    def __init__(self, claim: str) -> None:
        self.claim = claim


class Answered(enum.Enum):
    """What ``Window.answer`` returns when the deadline passed and the delivery's ``late`` answered the request."""

    ANSWERED = "answered"


ANSWERED = Answered.ANSWERED


class Window:
    """Deadline, deferral and retry coalescing for one bot and all the accounts it serves.

    ``handle`` produces a message's reply (the dispatcher); late replies go out through the API client of the
    message's account (``ctx.api``, made only when one does, so a bot without an AppSecret works until then).
    ``enqueue`` (a job queue) takes the messages of routes marked ``queue=True``. ``handover`` is the ledger of
    messages answered before their handler finished. ``counts`` is the bot's one counter (``Observer.counts``),
    where the window's events go.
    """

    def __init__(
        self,
        handle: Handle,
        store: Store,
        background: Background,
        counts: Counter[str],
        *,
        handover: Handover,
        retention: float,
        timeout_reply: str | None,
        typing: bool,
        lease: float = 2.0,
        handler_timeout: float = 300.0,
        enqueue: Enqueue | None = None,
    ) -> None:
        self._handle = handle
        self._store = store
        self._local = store if type(store) is MemoryStore else None
        """The process-local store, called without awaits on the two writes every message makes."""
        self._background = background
        self._handover = handover
        self._retention = retention
        self._timeout_reply = timeout_reply
        self._typing = typing
        self._lease = lease
        self._handler_timeout = handler_timeout
        self._late_replies = LateReplies(store, counts, lease=lease)
        self._enqueue = enqueue
        self._runs: dict[str, _Run] = {}
        self._due: list[_Run] = []  # a heap by deadline, read by one alarm instead of a timer per message
        self._alarm: asyncio.TimerHandle | None = None
        self._alarm_at = 0.0
        self._ticking: asyncio.TimerHandle | None = None
        self._claims = itertools.count()
        self._claim_prefix = _RUNNING + secrets.token_hex(4) + ":"
        self._counts = counts

    async def answer(self, msg: Message, ctx: Context, delivery: Delivery, nonce: Nonce | None) -> Answer | Answered:
        """What to answer this delivery of ``msg``, with the outcome for its line; or ``ANSWERED`` when its deadline
        (``delivery.deadline``) passed while its handler ran here and ``delivery.late`` answered meanwhile.

        ``nonce``, the push's replay record, is kept in the same store call that claims the message; ``Stale`` when
        it came before with another body. The message's outcome is kept until the push's timestamp leaves the replay
        window too (``nonce.ttl``), so a replay finds it and runs nothing.
        """
        key = dedupe_key(msg)
        keys = ctx.served.keys.message(key)
        keep = self._retention if nonce is None else max(self._retention, nonce.ttl)
        fresh = self._new_claim()
        if nonce is None:
            nonce_key, digest, nonce_ttl = None, "", 1.0
        else:
            nonce_key, digest, nonce_ttl = nonce.key, nonce.digest, nonce.ttl
        # A queued handler: the first delivery enqueues it and every delivery answers at once; if the queue
        # cannot be reached, the claimed delivery falls through and runs it here.
        enqueue = self._enqueue if delivery.queued else None
        local = self._local
        # In this process's own store, the claim of a message run here is written only if its handler waits
        # (``_run_here``): until then nothing else runs that could read it, and most handlers never wait.
        deferred = local is not None and enqueue is None
        admission = (local.admit_now(nonce_key, digest, nonce_ttl, keys.state, None if deferred else fresh,
                                     self._lease) if local is not None
                     else await self._store.admit(nonce_key, digest, nonce_ttl, keys.state, fresh, self._lease))
        if admission is Admission.REPLAYED:
            raise Stale(REUSED)
        claim = fresh if admission is Admission.CLAIMED else None
        if claim is not None and self._runs and (running := self._runs.get(key)) is not None:
            # Running here still, its claim lapsed while the loop was held (a handler blocking it): this delivery
            # waits for the run like any retry, and the claim is the run's again (unless its outcome is on its way).
            if not running.settling:
                await self._store.set(keys.state, running.claim, self._lease)
            claim = None
        if enqueue is not None and (claim is None or await enqueue(msg, ctx, delivery.handler)):
            if claim is None:  # a retry of a message enqueued already (or running here)
                return self._interim(msg), COALESCED
            self._counts[QUEUED] += 1
            await self._store.set(keys.state, _QUEUED, keep)  # the queue owns it now
            return self._interim(msg), PASSIVE
        if claim is not None:
            return await self._run_here(msg, ctx, delivery.found, key, keys, claim, delivery, keep,
                                        claim_written=not deferred)
        deadline = delivery.deadline
        waiter = secrets.token_hex(8)
        await self._store.set(keys.waiter, waiter, max(deadline - asyncio.get_running_loop().time(), 0) + 1)
        try:
            value = await self._outcome(key, keys, deadline)
            if isinstance(value, _Orphaned):
                self._counts[TAKEN_OVER] += 1
                logger.warning("message %s: its handler's worker stopped renewing its claim (it died?); running it "
                               "again here", loggable_key(key))
                return await self._run_here(msg, ctx, delivery.found, key, keys, value.claim, delivery, keep)
            if value is None:  # answered without the outcome: should its runner die, another worker finishes it
                await self._hand_over_record(keys, msg, ctx.account.appid, delivery.handler)
            elif value != _NO_REPLY:
                claimed = await self._store.set_if_absent(keys.delivered, "passive", keep)
                if not claimed and await self._store.get(keys.delivered) != "passive":
                    return None, COALESCED  # the reply already went out through the API
            return self._passive(msg, value), COALESCED
        finally:
            await self._store.compare_and_delete(keys.waiter, waiter)

    def _new_claim(self) -> str:
        """A claim value no other runner of any process holds: this process's random prefix and a counter."""
        return self._claim_prefix + str(next(self._claims))

    async def _claim(self, keys: MessageKeys) -> str | None:
        """Take the lease of a message whose runner's lapsed; None when a live runner (or a finished one) holds it."""
        claim = self._new_claim()
        return claim if await self._store.set_if_absent(keys.state, claim, self._lease) else None

    async def _run_here(self, msg: Message, ctx: Context, found: Found, key: str, keys: MessageKeys, claim: str,
                        delivery: Delivery | None, keep: float, handler: str = "",
                        claim_written: bool = True) -> Answer | Answered:
        """Run the handler in this request's task; answer passively if it returns in time, else through the
        delivery's ``late`` at the deadline and then, when it returns, through the API (unless a retry answered it
        meanwhile). Without a delivery the message was answered already (a handed-over message run again, by the
        ``handler`` its ledger entry names): its reply goes out through the API.

        The handler is first stepped by hand: one that returns without waiting (an echo, a lookup in memory: most)
        ran while nothing else could, so no retry, deadline or lease can have met it, and it needs no run record,
        no place on the deadline heap and no lease tick. Only one that suspends is watched, from its first wait;
        a claim not written yet (``claim_written``: the process-local store's deferred claim) is written then."""
        loop = delivery.loop if delivery is not None else asyncio.get_running_loop()  # a system call on 3.11
        started = loop.time()
        reply: Reply | None
        work = self._handle(ctx, found)
        if delivery is not None:
            handler = delivery.handler
            try:
                suspended_on = work.send(None)
            except StopIteration as done:
                reply, outcome = done.value
                xml = _render(msg, reply)
                writing = self._keep_outcome(keys, _kept(xml), keep)
                if writing is not None:
                    await writing
                ctx.release()
                return xml, outcome
            if not claim_written:
                assert self._local is not None
                self._local.set_now(keys.state, claim, self._lease)
            work = resume(work, suspended_on)
        task = asyncio.current_task()
        assert task is not None  # an ASGI request always runs in a task
        run = _Run(task, keys, claim, started, msg, ctx, delivery, handler)
        self._runs[key] = run
        self._watch(run, loop)
        value = _NO_REPLY
        xml = None
        reply = None
        outcome = PASSIVE
        try:
            try:
                reply, outcome = await work
            except asyncio.CancelledError:
                if not run.timed_out:
                    logger.error("abandoned the handler %s for %s: cancelled before it finished (the server's "
                                 "graceful shutdown timed out?); the follower gets no reply", handler,
                                 loggable_key(key))
                    raise
                if sys.version_info >= (3, 11):  # the cancellation was ours, and is spent: structured code may rely
                    task.uncancel()               # on the count (asyncio.timeout in the code that follows)
                self._counts[HANDLER_TIMEOUT] += 1
                logger.error("the handler for %s ran past handler_timeout (%gs) and was cancelled; the follower gets "
                             "no reply", loggable_key(key), self._handler_timeout)
            run.settling = True
            xml = _render(msg, reply)
            value = _kept(xml)
            # A handed-over message's outcome outlives its ledger entry, so a sweep never takes it for a dead worker's.
            writing = self._keep_outcome(keys, value, max(keep, self._handover.horizon) if run.answered else keep)
            if writing is not None:
                await writing
        finally:
            run.finished = True
            del self._runs[key]
            if run.result is not None and not run.result.done():
                run.result.set_result(value)
            due = self._due
            while due and due[0].finished:  # usually this run: the heap stays as small as the runs in flight
                heapq.heappop(due)
        # Whether the deadline passed is decided with the outcome in hand: a handler that returns in the turn
        # the alarm rings has still missed it, and the request was answered by ``late``.
        ctx.release()  # jobs start as tasks of their own, after every delivery already woken
        if not run.answered:
            return xml, outcome
        if reply is None or await self._late_replies.send_unless_answered(ctx.api, msg, keys, reply, keep):
            await self._handover.settle(keys)
        if run.fallback is not None:
            await run.fallback  # the ASGI call ends only after its response went out
        return ANSWERED

    def _keep_outcome(self, keys: MessageKeys, value: str, ttl: float) -> Awaitable[None] | None:
        """The outcome in place of the claim, in one write: a retry that reads it needs no second key. None when it
        is written already (the process-local store, called without an await), else the write to await."""
        if self._local is not None:
            self._local.set_now(keys.state, _DONE + value, ttl)
            return None
        return self._store.set(keys.state, _DONE + value, ttl)

    def _watch(self, run: _Run, loop: asyncio.AbstractEventLoop) -> None:
        """Put the run on the deadline heap (arming the alarm when it is due first) and the lease tick."""
        if not run.answered:
            heapq.heappush(self._due, run)
            if self._alarm is None or run.deadline < self._alarm_at:
                if self._alarm is not None:
                    self._alarm.cancel()
                self._alarm = loop.call_at(run.deadline, self._ring)
                self._alarm_at = run.deadline
        if self._ticking is None:
            self._ticking = loop.call_later(self._lease / 3, self._tick)

    def _ring(self) -> None:
        """The earliest deadline came: answer every run now due through its ``late``, re-arm for the next."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        due = self._due
        while due and (due[0].finished or due[0].deadline <= now):
            run = heapq.heappop(due)
            if not run.finished:
                self._deadline_passed(run, loop)
        if due:
            self._alarm = loop.call_at(due[0].deadline, self._ring)
            self._alarm_at = due[0].deadline
        else:
            self._alarm = None

    def _deadline_passed(self, run: _Run, loop: asyncio.AbstractEventLoop) -> None:
        run.answered = True
        self._counts[DEADLINE_PASSED] += 1
        run.fallback = loop.create_task(self._hand_over(run, self._interim(run.msg)))
        if self._typing:
            self._background.watch(self._late_replies.keep_typing(run.ctx.api, run.msg.from_user_name, run.waiter()),
                                   f"typing for {run.state}")

    async def _hand_over(self, run: _Run, interim: str | None) -> None:
        """Record the message in the handover ledger, then answer its delivery without the outcome."""
        await self._hand_over_record(run.keys, run.msg, run.ctx.account.appid, run.handler)
        if run.delivery is not None:
            await run.delivery.late(interim)

    async def _hand_over_record(self, keys: MessageKeys, msg: Message, appid: str, handler: str) -> None:
        """The handover's write, waited for at most ``_HANDOVER_WAIT`` seconds: a slow store must not push the answer
        past WeChat's five seconds (the write goes on meanwhile, and is almost always done long before it matters)."""
        writing = asyncio.ensure_future(self._handover.record(keys, msg, appid, handler))
        self._background.watch(writing, f"handover of {keys.state}")
        try:
            await asyncio.wait_for(asyncio.shield(writing), _HANDOVER_WAIT)
        except asyncio.TimeoutError:
            logger.warning("handing %s over took longer than %gs; answered meanwhile", loggable_key(keys.state),
                           _HANDOVER_WAIT)

    def _interim(self, msg: Message) -> str | None:
        """What a delivery answers in place of a reply not yet there: ``timeout_reply``, or None ("success")."""
        return None if self._timeout_reply is None else _render(msg, Text(self._timeout_reply))

    def _passive(self, msg: Message, value: str | None) -> str | None:
        """The answer for an outcome: its reply XML, nothing, or the interim text when none came in time."""
        if value is None:
            self._counts[DEADLINE_PASSED] += 1
            return self._interim(msg)
        return None if value == _NO_REPLY else value[1:]

    async def _outcome(self, key: str, keys: MessageKeys, deadline: float) -> str | _Orphaned | None:
        """Wait for the handler's outcome: a local future when it runs here, else by polling the store (and
        taking the claim over when its runner's lease lapses)."""
        loop = asyncio.get_running_loop()
        run = self._runs.get(key)
        if run is not None:
            local = run.waiter()
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
            # Finished in the turn the deadline fired: the outcome is in hand, so answer it.
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

    # handed-over messages -----------------------------------------------------------------------------------

    async def sweep(self, resume: Resume) -> None:
        """Finish what dead workers left in the handover ledger: run again a message whose claim lapsed without an
        outcome, send a ready reply that never went out, drop what is settled or too old to finish."""
        now = time.time()
        running = {run.state for run in self._runs.values()}  # alive here: nothing to finish
        for entry in await self._handover.entries():
            if entry.state in running:
                continue
            if now >= entry.until:
                logger.error("message %s (handler %s) was handed over %.0fs ago and nobody finished it; dropped",
                             loggable_key(entry.state), entry.handler, now - entry.since)
                await self._handover.drop(entry.state)
                continue
            try:
                msg = parse_message(entry.fields)
                resumed = await resume(entry, msg)
            except Exception as exc:
                logger.error("could not resume the handed-over message %s: %s", loggable_key(entry.state), exc)
                await self._handover.drop(entry.state)
                continue
            key = dedupe_key(msg)
            if resumed is not None and (keys := resumed[0].served.keys.message(key)).state == entry.state:
                self._background.watch(self._finish(entry, msg, key, keys, *resumed, now),
                                       f"handed-over {entry.state}")
                continue
            logger.warning("dropped the handed-over message %s: its account %s is not served here, or the entry does "
                           "not match its message", loggable_key(entry.state), entry.appid)
            await self._handover.drop(entry.state)

    async def _finish(self, entry: Entry, msg: Message, key: str, keys: MessageKeys, ctx: Context, found: Found,
                      now: float) -> None:
        state = await self._store.get(keys.state)
        if state is None:  # its claim lapsed without an outcome: its worker died
            claim = await self._claim(keys)
            if claim is None:
                return  # another process took it over meanwhile
            self._counts[TAKEN_OVER] += 1
            logger.warning("message %s: its worker died after answering it; running the handler %s again here",
                           loggable_key(entry.state), entry.handler)
            await self._run_here(msg, ctx, found, key, keys, claim, None, self._retention, entry.handler)
            return
        if state == _QUEUED or state.startswith(_DONE + _NO_REPLY):
            await self._handover.settle(keys)
        elif state.startswith(_DONE) and now - entry.since > self._lease * 3 and await self._late_replies.send_kept(
                ctx.api, msg, keys, state[len(_DONE) + len(_REPLY):], self._retention):
            # ready, but maybe never sent: its runner died between the outcome and the send (or during it, before
            # its request went out: its mark on ``delivered`` lapses, and a later sweep sends it); settled once out
            await self._handover.settle(keys)

    # leases -------------------------------------------------------------------------------------------------

    def _tick(self) -> None:
        """Every third of the lease while handlers run: renew the claims of those running longer, and cancel
        those past ``handler_timeout``. One timer for all of them, none per message."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        for key, run in list(self._runs.items()):
            if run.settling:
                continue
            age = now - run.started
            if age >= self._handler_timeout and not run.timed_out:
                run.timed_out = True
                run.task.cancel()
            elif age >= self._lease / 3 and not run.renewing:
                run.renewing = True
                self._background.watch(self._renew(key, run), f"lease of {key}")
        self._ticking = loop.call_later(self._lease / 3, self._tick) if self._runs else None

    async def _renew(self, key: str, run: _Run) -> None:
        try:
            store = self._store
            if await store.renew(run.state, run.claim, self._lease) or run.settling or key not in self._runs:
                return
            if await store.set_if_absent(run.state, run.claim, self._lease):
                return  # it lapsed, but nobody took it: the run's again
            logger.warning("lost the claim on %s while its handler ran: it lapsed, and another worker took it (was "
                           "the event loop held longer than the %gs claim_lease, by a handler making a blocking call, "
                           "or the store unreachable that long?); that worker may run it again",
                           loggable_key(run.state), self._lease)
        finally:
            run.renewing = False

def _wake(waiter: asyncio.Future[str | None], outcome: asyncio.Future[str] | None) -> None:
    if not waiter.done():
        waiter.set_result(None if outcome is None else outcome.result())


def _render(msg: Message, reply: Reply | None) -> str | None:
    return None if reply is None else reply.render(msg.from_user_name, msg.to_user_name, int(time.time()))


def _kept(xml: str | None) -> str:
    """What the store keeps for a retry: the rendered reply, or the mark for none."""
    return _NO_REPLY if xml is None else _REPLY + xml

