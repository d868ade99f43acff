"""Load shedding: refuse quickly, with a 503, the pushes that cannot be answered within WeChat's five seconds.

Under an open-loop overload (WeChat sends at its rate, whatever the bot's), the queue does not form where the
bot can see it: it forms in the kernel's socket buffers and the event loop's ready queue while the loop runs
handlers, and in the thread pool's wait for a sync handler. A bot that takes every push in order answers all of
them late, WeChat drops each connection at 5 s and sends the message again, twice: overload becomes a storm of
retries, and nothing is answered in time. So, per event loop (``Gate``):

- **the loop's lag** is measured by one timer, every ``_INTERVAL`` seconds while pushes come in (never armed
  while the bot is idle): how late it fires is how long the loop was busy elsewhere. A push seen now waited
  about that long before the bot saw it (the last lag, and the time since the timer last ran);
- **a push whose estimated wait passed ``shed_after`` seconds is refused at once** with 503 ``overloaded``,
  before its body is read or its signature checked, so refusing costs a small part of running a handler; so is
  one that comes while ``max_in_flight`` pushes are in this process already (a sync handler's wait for a
  thread, a handler awaiting a slow service). WeChat shows the follower nothing for a non-200 answer: it sends
  the message again, and the retry runs it once the bot has room. The push was never claimed, so nothing is
  answered 200 without its handler running;
- **sustained overload tightens it**: once every lag reading for ``OVERLOADED_AFTER`` seconds in a row, two at
  least, was over ``BUSY_LAG`` (the loop never caught up: more comes in than it can run; one long handler makes a
  single late reading, however long it held the loop), the wait past which a push is refused drops to
  ``shed_after_overloaded`` (``OVERLOADED_SHED_AFTER``; or ``shed_after``, if shorter) until the readings
  have stayed under ``BUSY_LAG`` for ``OVERLOADED_AFTER`` seconds (or the bot is idle). Each turn of the loop then
  runs that much of handlers at most, refuses the rest and goes back to accepting connections: with a second of
  handlers per turn the listen backlog overflows, new connections wait in SYN retransmissions (1 s, 3 s …) and
  reach the bot too late to be answered;
- **a retry yields to fresh pushes while the bot sheds them**: while a fresh push was refused in the last
  ``RETRY_HOLD`` seconds (or the loop is overloaded, or half of ``max_in_flight`` are in), a push whose first
  attempt is three seconds old or more (the query's ``timestamp``, fresh on every attempt, minus the message's
  ``CreateTime``: both WeChat's clock) is refused too: its reply can no longer reach the follower in time, and
  running it would take the place of a fresh push that can. Not by the loop's lag: a loop that sheds keeps its
  waits short, so any bound on the wait lets retries through between refusals, and a bot that refuses nothing has
  room for its retries, however busy it is;
- **so does an attempt that waited in the kernel until WeChat dropped it**: a full listen queue and SYN
  retransmissions hold a push for seconds where the loop's lag can't see it. While the bot sheds, a push whose
  ``timestamp`` is more than ``GONE_AFTER`` seconds older than the freshest push's of the last 30 to 60 s is refused
  too (``Gate._age``): read against WeChat's own timestamps, the age leaves the clocks' offset out, and reads at most
  a second over the wait (the timestamp's resolution);
- **a sync handler's wait for a thread counts as a wait too**: a ``def`` handler queues for one of the thread
  pool's threads, where the loop's lag does not show it (the loop is idle while the pool is full). Each such call
  is noted when it starts waiting (``in_thread``), and a push is refused while the call at the head of that queue
  has waited past the same limit;
- the **deadline counts from the estimated arrival**, not from when the bot saw the push.

The normal path costs one clock read, a comparison, and a counter up and down.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool

from .config import ConfigError
from .observe import SHED
from .protocol import Scope, Send, respond

if TYPE_CHECKING:
    from .delivery import Delivery
    from .messages import Message

logger = logging.getLogger("wxhook")
T = TypeVar("T")

_INTERVAL = 0.02
"""Seconds between two readings of the loop's lag, while pushes come in."""
RETRY_AGE = 3
"""Seconds between a push's first attempt and this one past which it is a retry (WeChat retries after 5 s)."""
BUSY_LAG = 0.05
"""Seconds late past which a lag reading says the loop was busy the whole time."""
OVERLOADED_AFTER = 0.5
"""Seconds of busy readings in a row after which the loop is overloaded (and ``OVERLOADED_SHED_AFTER`` applies)."""
RETRY_HOLD = 1.0
"""Seconds after the last refused fresh push during which a retry past its time is refused too (unless idle)."""
GONE_AFTER = 6.0
"""Seconds of an attempt's age (``Gate._age``) past which WeChat has surely dropped it: its 5 s, and one more for
the timestamp's whole seconds."""
_FAR = 1 << 53
"""Past this, a timestamp is no time at all (and would overflow a float)."""
_SPAN = 30.0
"""Seconds each of the two halves of the clock-offset reading covers (``Gate._age``)."""
OVERLOADED_SHED_AFTER = 0.1
"""The default ``shed_after_overloaded``: the wait past which a push is refused while the loop is overloaded,
seconds."""
_NEVER = float("inf")
_LOG_EVERY = 10.0
"""Seconds between two log lines about shed pushes."""
REFUSAL = b"overloaded: WeChat retries this push\n"


class Gate:
    """Admission for one event loop: ``admit`` before a push is read, ``too_late`` once it is parsed.

    ``shed_after`` (seconds, None: never) and ``max_in_flight`` (None: no limit) as ``Bot`` takes them; ``counts``
    is the bot's counter, where ``shed`` pushes are counted."""

    __slots__ = (
        "_busy_readings",
        "_busy_since",
        "_calm_since",
        "_counts",
        "_due",
        "_fired",
        "_lag",
        "_least",
        "_least_before",
        "_limit",
        "_log_at",
        "_loop",
        "_overloaded_wait",
        "_retry_limit",
        "_seen",
        "_shed_after",
        "_shed_at",
        "_span_ends",
        "_threshold",
        "_timer",
        "_unlogged",
        "_waiting",
        "in_flight",
        "overloaded",
    )

    def __init__(self, counts: Counter[str], settings: Shedding) -> None:
        shed_after, max_in_flight = settings.shed_after, settings.max_in_flight
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]  # the first push's
        self._counts = counts
        self._shed_after = shed_after if shed_after is not None else float("inf")
        self._limit = max_in_flight if max_in_flight is not None else 1 << 62
        tighter = settings.shed_after_overloaded if shed_after is not None else None  # None: never shed at all
        self._overloaded_wait = min(self._shed_after, tighter) if tighter is not None else self._shed_after
        self._threshold = self._shed_after
        """The wait past which a push is refused now: ``shed_after``, or less while the loop is overloaded."""
        self.overloaded = False
        """Whether the loop has been behind for ``OVERLOADED_AFTER`` seconds in a row (the tighter limit applies)."""
        self._busy_readings = 0
        """Lag readings over ``BUSY_LAG`` in a row."""
        self._busy_since = _NEVER
        """When the current run of busy lag readings began (``_NEVER``: the last reading was not busy)."""
        self._calm_since = _NEVER
        """When the current run of calm readings began, while overloaded."""
        self._retry_limit = self._limit // 2
        self._shed_at = -_NEVER
        """When a fresh push was last refused (its loop time)."""
        self.in_flight = 0
        """Pushes admitted and not answered yet (their ASGI calls not returned)."""
        self._timer: asyncio.TimerHandle | None = None
        self._fired = 0.0
        self._due = 0.0
        self._lag = 0.0
        self._seen = False
        self._unlogged = 0
        self._log_at = 0.0
        self._least = self._least_before = _NEVER
        self._span_ends = -_NEVER
        """The least (server's time − ``timestamp``) of the pushes seen while shedding in this span and the one
        before, and when this span ends (``_age``)."""
        self._waiting: deque[list[Any]] = deque()
        """Calls that went to the thread pool, oldest first, each ``[loop time it was sent, whether it started]``
        (the started ones are dropped from the head)."""

    # the lag timer ---------------------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self._loop.time()
        self._lag = lag = max(0.0, now - self._due)
        self._fired = now
        if lag > BUSY_LAG:
            self._calm_since = _NEVER
            self._busy_readings += 1
            if self._busy_since > self._due:
                self._busy_since = self._due
            if not self.overloaded and self._busy_readings >= 2 and now - self._busy_since >= OVERLOADED_AFTER:
                self.overloaded = True
                self._threshold = self._overloaded_wait
        else:
            self._busy_readings = 0
            self._busy_since = _NEVER
            if self.overloaded:  # caught up: back to shed_after once it has stayed so as long
                if self._calm_since > self._due:
                    self._calm_since = self._due
                if now - self._calm_since >= OVERLOADED_AFTER:
                    self._calm()
        if self.in_flight or self._seen or lag > _INTERVAL:
            self._seen = False
            self._due = now + _INTERVAL
            self._timer = self._loop.call_at(self._due, self._tick)
        else:  # idle
            self._timer = None
            self._shed_at = -_NEVER
            self._lag = 0.0
            self._calm()
        if self._unlogged and now >= self._log_at:
            self._log(now)

    def _calm(self) -> None:
        self.overloaded = False
        self._threshold = self._shed_after
        self._calm_since = _NEVER

    def wait(self, now: float) -> float:
        """Seconds a request seen at loop time ``now`` is estimated to have waited before the bot saw it: the loop's
        last lag and the time since its timer last ran (0 while the timer is off: the bot was idle)."""
        if self._timer is None:
            return 0.0
        return self._lag + (now - self._fired)

    # admission -------------------------------------------------------------------------------------------

    def admit(self, delivery: Delivery) -> bool:
        """Whether to take this push in (then ``leave`` when its call ends); else refuse it with ``refuse``. An
        admitted push's deadline counts from its estimated arrival."""
        self._seen = True
        if self._timer is None:
            self._loop = delivery.loop
            self._lag = 0.0
            self._fired = delivery.arrived
            self._due = delivery.arrived + _INTERVAL
            self._timer = delivery.loop.call_at(self._due, self._tick)
            waited = 0.0
        else:
            waited = self._lag + (delivery.arrived - self._fired)
            if waited > self._threshold or (self._waiting and self.thread_wait(delivery.arrived) > self._threshold):
                self._shed_at = delivery.arrived
                return False
        if self.in_flight >= self._limit:
            self._shed_at = delivery.arrived
            return False
        if waited > 2 * _INTERVAL:
            delivery.arrived -= waited
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1

    def too_late(self, scope: Scope, msg: Message) -> bool:
        """While the bot sheds, whether this parsed push (its signature checked) can no longer be answered in time,
        and is refused: a retry, or an attempt that waited in the kernel until WeChat dropped it."""
        if (self.in_flight < self._retry_limit and not self.overloaded
                and self._loop.time() - self._shed_at >= RETRY_HOLD):
            return False
        timestamp = _timestamp(scope)
        if timestamp is None:
            return False
        created = msg.create_time
        age = self._age(timestamp, time.time())  # read for every such push, retries too: each one feeds the reading
        return (created is not None and timestamp - created >= RETRY_AGE) or age > GONE_AFTER

    def _age(self, timestamp: int, now: float) -> float:
        """How long this attempt has been on its way, by this server's clock: its ``timestamp`` (WeChat's clock, whole
        seconds) against the least any push showed in the last 30 to 60 s of shedding, which is the clocks' offset
        plus that push's wait. So the age is never more than the wait plus a second, and the clocks may differ by
        minutes. Fed only by pushes whose signature was checked: a forged timestamp can't make genuine pushes old.
        ``now`` is this server's wall clock (``time.time``), the clock WeChat's timestamps are compared with."""
        held = now - timestamp
        if now >= self._span_ends:
            self._least_before = self._least if now < self._span_ends + _SPAN else _NEVER
            self._least = _NEVER
            self._span_ends = now + _SPAN
        if held < self._least:
            self._least = held
        return held - min(self._least, self._least_before)

    # the thread pool ---------------------------------------------------------------------------------------

    async def in_thread(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in the thread pool (a sync handler), its wait for a thread noted for ``thread_wait``."""
        loop = self._loop if self._loop is not None else asyncio.get_running_loop()
        entry = [loop.time(), False]
        self._waiting.append(entry)
        try:
            return await run_in_threadpool(_started, entry, func, *args)
        finally:
            entry[1] = True  # also when cancelled while still waiting
            self._drop_started()

    def thread_wait(self, now: float) -> float:
        """Seconds the oldest call still waiting for a thread has waited (0 when none waits)."""
        self._drop_started()
        return now - self._waiting[0][0] if self._waiting else 0.0

    def _drop_started(self) -> None:
        waiting = self._waiting
        while waiting and waiting[0][1]:
            waiting.popleft()

    async def refuse(self, send: Send) -> None:
        """Answer 503 (WeChat sends the push again), count it, and log a line at most every ``_LOG_EVERY`` s."""
        self._counts[SHED] += 1
        self._unlogged += 1
        now = self._loop.time()
        if now >= self._log_at:
            self._log(now)
        await respond(send, 503, REFUSAL)

    def _log(self, now: float) -> None:
        pool = self.thread_wait(now)
        logger.warning("overloaded: refused %d push(es) with 503 since the last line (the event loop is %.2fs "
                       "behind%s%s, %d in flight; shed_after=%gs, max_in_flight=%s): WeChat sends them again",
                       self._unlogged, self.wait(now),
                       " and overloaded" if self.overloaded else "",
                       f", a sync handler has waited {pool:.2f}s for a thread" if pool else "",
                       self.in_flight, self._shed_after,
                       self._limit if self._limit < 1 << 62 else "none")
        self._unlogged = 0
        self._log_at = now + _LOG_EVERY


def _timestamp(scope: Scope) -> int | None:
    """The query's ``timestamp`` (None: none, not a number, or past a float's range, which a signed push can carry
    when ``timestamp_window`` is off)."""
    for part in scope["query_string"].split(b"&"):
        if part.startswith(b"timestamp="):
            try:
                value = int(part[10:])
            except ValueError:
                return None
            return value if -_FAR < value < _FAR else None
    return None


def _started(entry: list[Any], func: Callable[..., T], *args: Any) -> T:
    """In the pool's thread: the call has its thread (it no longer counts in ``Gate.thread_wait``)."""
    entry[1] = True
    return func(*args)


class Default(enum.Enum):
    """An argument not given: its ``WXHOOK_*`` variable, else the default, decides."""

    DEFAULT = "default"


DEFAULT = Default.DEFAULT
SHED_AFTER = 1.0
"""The default ``shed_after``, seconds."""
MAX_IN_FLIGHT = 1000
"""The default ``max_in_flight``."""
_OFF = ("", "off", "none", "0")


@dataclass(frozen=True, slots=True)
class Shedding:
    """The load-shedding settings, as ``Bot`` takes them (None turns each off; ``overload_settings`` gives the
    defaults)."""

    shed_after: float | None
    max_in_flight: int | None
    shed_after_overloaded: float | None


def _from_variable(name: str, kind: type[float] | type[int], default: float | None) -> float | None:
    """A setting's ``WXHOOK_*`` variable: ``default`` when unset, None for ``off`` (or 0, or empty)."""
    text = os.environ.get(name)
    if text is None:
        return default
    if text.strip().lower() in _OFF:
        return None
    try:
        return kind(text)
    except ValueError:
        what = "seconds" if kind is float else "a whole number"
        raise ConfigError(f"{name} must be {what} or 'off', got {text!r}") from None


def overload_settings(shed_after: float | Default | None, max_in_flight: int | Default | None,
                      shed_after_overloaded: float | Default | None) -> Shedding:
    """``Bot(shed_after=..., max_in_flight=..., shed_after_overloaded=...)``, each from its variable when not given
    (``WXHOOK_SHED_AFTER``, ``WXHOOK_MAX_IN_FLIGHT``, ``WXHOOK_SHED_AFTER_OVERLOADED``; ``off`` or 0 turns it off),
    checked."""
    if shed_after is DEFAULT:
        shed_after = _from_variable("WXHOOK_SHED_AFTER", float, SHED_AFTER)
    if max_in_flight is DEFAULT:
        limit = _from_variable("WXHOOK_MAX_IN_FLIGHT", int, MAX_IN_FLIGHT)
        max_in_flight = int(limit) if limit is not None else None
    if shed_after_overloaded is DEFAULT:
        shed_after_overloaded = _from_variable("WXHOOK_SHED_AFTER_OVERLOADED", float, OVERLOADED_SHED_AFTER)
    if shed_after is not None and not shed_after > 0:
        raise ConfigError(f"shed_after must be a positive number of seconds (or None: never shed), got {shed_after}")
    if max_in_flight is not None and max_in_flight < 1:
        raise ConfigError(f"max_in_flight must be at least 1 (or None: no limit), got {max_in_flight}")
    if shed_after_overloaded is not None and not shed_after_overloaded > 0:
        raise ConfigError("shed_after_overloaded must be a positive number of seconds (or None: shed_after "
                          f"throughout), got {shed_after_overloaded}")
    return Shedding(shed_after, max_in_flight, shed_after_overloaded)
