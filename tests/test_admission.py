"""The admission gate's note of sync calls waiting for a thread (``Gate.in_thread``, ``Gate.thread_wait``), on the
test's own event loop and thread pool, without HTTP (tests/e2e/test_overload.py has it over a real uvicorn)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import anyio.to_thread

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
