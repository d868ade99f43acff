"""The admission gate's note of sync calls waiting for a thread (``Gate.in_thread``, ``Gate.thread_wait``), on the
test's own event loop and thread pool, and its reading of an attempt's age, on a clock the test sets; without HTTP
(tests/e2e/test_overload.py has both over a real uvicorn)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import anyio.to_thread

from wxhook import admission
from wxhook.admission import Gate, overload_settings


async def test_a_call_waiting_for_a_thread_counts_until_it_starts_or_is_cancelled() -> None:
    anyio.to_thread.current_default_thread_limiter().total_tokens = 1  # this test loop's pool: one thread
    gate = Gate(Counter(), overload_settings(1.0, None, None))
    loop = asyncio.get_running_loop()
    release = threading.Event()
    holding = asyncio.ensure_future(gate.in_thread(release.wait, 5.0))
    await asyncio.sleep(0.05)
    assert gate.thread_wait(loop.time()) == 0.0  # the one call has its thread: nothing waits
    waiting = asyncio.ensure_future(gate.in_thread(lambda: "ran"))
    await asyncio.sleep(0.2)
    assert 0.15 < gate.thread_wait(loop.time()) < 1.0  # the second waits behind the first
    waiting.cancel()  # a handler's timeout, say: it never gets its thread
    await asyncio.gather(waiting, return_exceptions=True)
    assert gate.thread_wait(loop.time()) == 0.0
    queued = asyncio.ensure_future(gate.in_thread(lambda: "ran"))
    await asyncio.sleep(0.1)
    assert gate.thread_wait(loop.time()) > 0.05
    release.set()
    assert await holding is True
    assert await queued == "ran"
    assert not gate._waiting  # each call's note is gone once it has run: nothing piles up without pushes to admit


def test_an_attempts_age_is_read_against_the_freshest_push_of_the_last_30_to_60_seconds() -> None:
    now = [1_800_000_000.0]
    gate = Gate(Counter(), overload_settings(1.0, None, None))

    def age(behind: int) -> float:
        """The age read of an attempt stamped ``behind`` s before WeChat's now (its clock 100 s behind ours)."""
        return gate._age(int(now[0]) - 100 - behind, now[0])

    assert age(0) == 0.0  # the first reading is the freshest yet
    assert age(8) == 8.0
    now[0] += 1
    assert (age(0), age(1)) == (0.0, 1.0)
    assert age(-3) == 0.0  # fresher: the pushes before had waited 3 s on their way, later ages count from it
    assert age(0) == 3.0
    now[0] += 40  # a new span: the one before still counts
    assert age(0) == 3.0
    now[0] += 35  # another: the least of the first has gone
    assert age(0) == 0.0
    now[0] += 100  # a minute and more without a reading (the bot shed nothing): nothing is left of the old offset
    assert age(50) == 0.0
    assert age(58) == 8.0
    assert admission._timestamp({"query_string": b"nonce=1&timestamp=" + b"9" * 400}) is None  # signed, window off
    assert admission._timestamp({"query_string": b"timestamp=x1"}) is None
