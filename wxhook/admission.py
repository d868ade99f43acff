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
- **a retry is refused first**: while the loop is behind by more than a quarter of ``shed_after`` (or half of
  ``max_in_flight`` are in), a push whose first attempt is three seconds old or more (the query's ``timestamp``,
  fresh on every attempt, minus the message's ``CreateTime``: both WeChat's clock) is refused too: its reply
  can no longer reach the follower in time, and running it would take the place of a fresh push that can;
- the **deadline counts from the estimated arrival**, not from when the bot saw the push.

The normal path costs one clock read, a comparison, and a counter up and down.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
from collections import Counter
from typing import TYPE_CHECKING

from .config import ConfigError
from .observe import SHED
from .protocol import Scope, Send, respond

if TYPE_CHECKING:
    from .delivery import Delivery
    from .messages import Message

logger = logging.getLogger("wxhook")

_INTERVAL = 0.02
"""Seconds between two readings of the loop's lag, while pushes come in."""
_RETRY_PRESSURE = 0.25
"""The share of ``shed_after`` (and of ``max_in_flight``) past which retries are refused."""
RETRY_AGE = 3
"""Seconds between a push's first attempt and this one past which it is a retry (WeChat retries after 5 s)."""
_LOG_EVERY = 10.0
"""Seconds between two log lines about shed pushes."""
REFUSAL = b"overloaded: WeChat retries this push\n"


class Gate:
    """Admission for one event loop: ``admit`` before a push is read, ``stale_retry`` once it is parsed.

    ``shed_after`` (seconds, None: never) and ``max_in_flight`` (None: no limit) as ``Bot`` takes them; ``counts``
    is the bot's counter, where ``shed`` pushes are counted."""

    __slots__ = (
        "_counts",
        "_due",
        "_fired",
        "_lag",
        "_limit",
        "_log_at",
        "_loop",
        "_retry_limit",
        "_retry_wait",
        "_seen",
        "_shed_after",
        "_timer",
        "_unlogged",
        "in_flight",
    )

    def __init__(self, counts: Counter[str], shed_after: float | None, max_in_flight: int | None) -> None:
        self._loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]  # the first push's
        self._counts = counts
        self._shed_after = shed_after if shed_after is not None else float("inf")
        self._limit = max_in_flight if max_in_flight is not None else 1 << 62
        self._retry_wait = self._shed_after * _RETRY_PRESSURE
        self._retry_limit = self._limit // 2
        self.in_flight = 0
        """Pushes admitted and not answered yet (their ASGI calls not returned)."""
        self._timer: asyncio.TimerHandle | None = None
        self._fired = 0.0
        self._due = 0.0
        self._lag = 0.0
        self._seen = False
        self._unlogged = 0
        self._log_at = 0.0

    # the lag timer ---------------------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self._loop.time()
        self._lag = lag = max(0.0, now - self._due)
        self._fired = now
        if self.in_flight or self._seen or lag > _INTERVAL:
            self._seen = False
            self._due = now + _INTERVAL
            self._timer = self._loop.call_at(self._due, self._tick)
        else:
            self._timer = None
            self._lag = 0.0
        if self._unlogged and now >= self._log_at:
            self._log(now)

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
            if waited > self._shed_after:
                return False
        if self.in_flight >= self._limit:
            return False
        if waited > 2 * _INTERVAL:
            delivery.arrived -= waited
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1

    def stale_retry(self, scope: Scope, msg: Message) -> bool:
        """Whether to refuse this parsed push as a retry that cannot be answered in time while the bot is behind."""
        if self.in_flight < self._retry_limit and self.wait(self._loop.time()) <= self._retry_wait:
            return False
        created = msg.create_time
        if created is None:
            return False
        for part in scope["query_string"].split(b"&"):
            if part.startswith(b"timestamp="):
                try:
                    return int(part[10:]) - created >= RETRY_AGE
                except ValueError:
                    return False
        return False

    async def refuse(self, send: Send) -> None:
        """Answer 503 (WeChat sends the push again), count it, and log a line at most every ``_LOG_EVERY`` s."""
        self._counts[SHED] += 1
        self._unlogged += 1
        now = self._loop.time()
        if now >= self._log_at:
            self._log(now)
        await respond(send, 503, REFUSAL)

    def _log(self, now: float) -> None:
        logger.warning("overloaded: refused %d push(es) with 503 since the last line (the event loop is %.2fs behind, "
                       "%d in flight; shed_after=%gs, max_in_flight=%s): WeChat sends them again",
                       self._unlogged, self.wait(now), self.in_flight, self._shed_after,
                       self._limit if self._limit < 1 << 62 else "none")
        self._unlogged = 0
        self._log_at = now + _LOG_EVERY


class Default(enum.Enum):
    """An argument not given: its ``WXHOOK_*`` variable, else the default, decides."""

    DEFAULT = "default"


DEFAULT = Default.DEFAULT
SHED_AFTER = 1.0
"""The default ``shed_after``, seconds."""
MAX_IN_FLIGHT = 1000
"""The default ``max_in_flight``."""
_OFF = ("", "off", "none", "0")


def overload_settings(shed_after: float | Default | None,
                      max_in_flight: int | Default | None) -> tuple[float | None, int | None]:
    """``Bot(shed_after=..., max_in_flight=...)``, each from its variable when not given (``WXHOOK_SHED_AFTER``,
    ``WXHOOK_MAX_IN_FLIGHT``; ``off`` or 0 turns it off), checked."""
    if shed_after is DEFAULT:
        text = os.environ.get("WXHOOK_SHED_AFTER")
        if text is None:
            shed_after = SHED_AFTER
        elif text.strip().lower() in _OFF:
            shed_after = None
        else:
            try:
                shed_after = float(text)
            except ValueError:
                raise ConfigError(f"WXHOOK_SHED_AFTER must be seconds or 'off', got {text!r}") from None
    if max_in_flight is DEFAULT:
        text = os.environ.get("WXHOOK_MAX_IN_FLIGHT")
        if text is None:
            max_in_flight = MAX_IN_FLIGHT
        elif text.strip().lower() in _OFF:
            max_in_flight = None
        else:
            try:
                max_in_flight = int(text)
            except ValueError:
                raise ConfigError(f"WXHOOK_MAX_IN_FLIGHT must be a whole number or 'off', got {text!r}") from None
    if shed_after is not None and not shed_after > 0:
        raise ConfigError(f"shed_after must be a positive number of seconds (or None: never shed), got {shed_after}")
    if max_in_flight is not None and max_in_flight < 1:
        raise ConfigError(f"max_in_flight must be at least 1 (or None: no limit), got {max_in_flight}")
    return shed_after, max_in_flight
