"""What an operator sees: one log line per message, counters and a latency histogram, and the health answer.

The line is ``key=value`` pairs on the ``wxhook.messages`` logger at INFO, e.g.
``message type=text event=- user=4be1c0d2a1f3 handler=echo outcome=passive ms=3.1`` (a bot serving many accounts
starts it ``message account=wx… …``). The follower's openid
is hashed (a log is not the place for a personal identifier), and is stable, so one follower's messages
can still be followed through the log. Where the only handler that would see the line is wxhook's own
(``show_info_logs`` below, ``wxhook run``), the line goes to it without a ``LogRecord``; anything else configured
on the way (a handler, a filter) gets real records, as before.

Outcomes: ``passive`` (answered in time, with a reply or "success"), ``deferred`` (the deadline passed; a late
reply goes out through the API), ``coalesced`` (a retry of a message already claimed), ``error`` (the handler
raised), ``rejected`` (refused before dispatch: signature, timestamp, body).

One counter holds them all (``Observer.counts``, which is ``bot.stats``): the outcomes, counted as each line is
written, and the events of the reply window, named here and counted where they happen (``EVENTS``).
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
import sys
from collections import Counter
from typing import Any

from .logs import MESSAGES, BufferedStreamHandler, WriteHeldFirst, sole_buffered_handler

message_log = logging.getLogger(MESSAGES)
_LINE = "message type=%s event=%s user=%s handler=%s outcome=%s ms=%.1f"
_ACCOUNT_LINE = "message account=%s type=%s event=%s user=%s handler=%s outcome=%s ms=%.1f"
MAX_ACCOUNT_LABELS = 100
"""Accounts counted by name in the metrics; the outcomes of any further ones are counted under ``other``."""
OTHER_ACCOUNTS = "other"

PASSIVE, DEFERRED, COALESCED, ERROR, REJECTED = "passive", "deferred", "coalesced", "error", "rejected"
OUTCOMES = (PASSIVE, DEFERRED, COALESCED, ERROR, REJECTED)
DEADLINE_PASSED = "deadline_passed"
"""A delivery answered without its handler's reply (a first delivery, then ``deferred``, or a retry that waited)."""
QUEUED = "queued"
"""A message put on the job queue for its ``queue=True`` handler."""
DELIVERED, DELIVERY_FAILED = "delivered", "delivery_failed"
"""Late replies sent through the customer-service API, and those that could not be."""
TAKEN_OVER = "taken_over"
"""A message run again here after its worker's claim lapsed (the worker died)."""
HANDLER_TIMEOUT = "handler_timeout"
"""A handler cancelled after ``handler_timeout``."""
STORE_ERRORS = "store_errors"
"""A push answered "success" because the store (or wxhook) failed."""
SHED = "shed"
"""A push refused with 503 because the bot could not answer it in time (``admission.py``); WeChat retries it."""
EVENTS = (DEADLINE_PASSED, QUEUED, DELIVERED, DELIVERY_FAILED, TAKEN_OVER, HANDLER_TIMEOUT, STORE_ERRORS, SHED)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 4.5, 10.0)
"""Latency histogram bounds in seconds; 4.5 is the default deadline."""


_tags: dict[str, str] = {}
_MAX_TAGS = 2048


def follower_tag(openid: str) -> str:
    """The follower's hash, remembered for the followers seen lately: a lookup is a tenth of the hash's cost."""
    tag = _tags.get(openid)
    if tag is None:
        if len(_tags) >= _MAX_TAGS:
            _tags.clear()
        tag = _tags[openid] = hashlib.blake2b(openid.encode(), digest_size=6).hexdigest()
    return tag


_FOLLOWER_IN_KEY = re.compile(r"((?:^|[{:])(?:event|msg):)(?!\d+:)([^:{}]+)")


def loggable_key(key: str) -> str:
    """A message's key (or its store key) fit for a log line: the follower's openid, which an event's key and a
    message's key without MsgId carry, replaced by its tag (``follower_tag``)."""
    return _FOLLOWER_IN_KEY.sub(lambda found: found[1] + follower_tag(found[2]), key)


def _line_args(msg_type: str, event: str, openid: str, handler: str, outcome: str,
               seconds: float) -> tuple[str, str, str, str, str, float]:
    return msg_type, event or "-", follower_tag(openid), handler.replace(" ", "_"), outcome, seconds * 1000


def _message_line(*args: Any) -> str:
    """The line for ``Observer.message``'s arguments, rendered when it is written."""
    *fields, account = args
    return _ACCOUNT_LINE % (account, *_line_args(*fields)) if account else _LINE % _line_args(*fields)


class Observer:
    """Counts outcomes and the window's events, keeps the latency histogram, and writes the line, for one bot."""

    __slots__ = ("account_outcomes", "bucket_counts", "counts", "latency_count", "latency_sum")

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        """The bot's one counter (``bot.stats``): by outcome (``OUTCOMES``) and by event (``EVENTS``)."""
        self.account_outcomes: dict[str, Counter[str]] = {}
        """Outcomes per account of a bot serving many (the first ``MAX_ACCOUNT_LABELS``, the rest as ``other``)."""
        self.bucket_counts = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0

    def reset(self) -> None:
        """Forget everything counted so far (a test starting afresh); whoever holds ``counts`` keeps counting."""
        self.counts.clear()
        self.account_outcomes.clear()
        self.bucket_counts = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0

    def message(self, msg_type: str, event: str, openid: str, handler: str, outcome: str, seconds: float,
                account: str = "") -> None:
        """Count one message (``account``: its appid, when the bot serves many) and write its line."""
        self.counts[outcome] += 1
        if account:
            self._count_account(account, outcome)
        self.bucket_counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum += seconds
        self.latency_count += 1
        if message_log.isEnabledFor(logging.INFO):
            args = (msg_type, event, openid, handler, outcome, seconds, account)
            ours = sole_buffered_handler(message_log, logging.INFO)
            if ours is None or not ours.add(_message_line, args):
                message_log.info("%s", _message_line(*args))

    def _count_account(self, account: str, outcome: str) -> None:
        counts = self.account_outcomes.get(account)
        if counts is None:
            label = account if len(self.account_outcomes) < MAX_ACCOUNT_LABELS else OTHER_ACCOUNTS
            counts = self.account_outcomes.setdefault(label, Counter())
        counts[outcome] += 1

    def rejected(self) -> None:
        self.counts[REJECTED] += 1


def show_info_logs() -> None:
    """Under plain ``uvicorn`` nothing configures wxhook's loggers, and Python's last-resort handler prints only
    warnings: give wxhook a handler when nobody configured logging, so its lines show, at uvicorn's level
    (``--log-level``, INFO unless set) as ``wxhook run --log-level`` does, or at INFO outside uvicorn. An app that
    configures logging itself (``logging.basicConfig``, dictConfig, ``wxhook run``) is left alone. The handler
    holds the message lines back for a moment (see ``BufferedStreamHandler``); uvicorn's own lines on the same
    stream write them first (``WriteHeldFirst``)."""
    wxhook_log = logging.getLogger("wxhook")
    if wxhook_log.handlers or logging.getLogger().handlers:
        return
    handler = BufferedStreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
    wxhook_log.addHandler(handler)
    server_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, WriteHeldFirst) for f in server_log.filters):
        server_log.addFilter(WriteHeldFirst())
    if wxhook_log.level == logging.NOTSET:
        # uvicorn's own loggers have handlers once it configured logging, and "uvicorn.error" its --log-level.
        served = logging.getLogger("uvicorn").handlers
        wxhook_log.setLevel(server_log.getEffectiveLevel() if served else logging.INFO)
