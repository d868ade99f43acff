"""What a sender reads of a message's ``delivered`` before sending its reply (``LateReplies.answered``): another
sender's mark is waited out, until it turns final or lapses, and never forever."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from wxhook import late
from wxhook.late import LateReplies
from wxhook.stores import MemoryStore

KEY = "wxhook:wx0:msg:1:delivered"


async def test_nothing_there_is_not_answered_and_a_final_value_is() -> None:
    store = MemoryStore()
    replies = LateReplies(store, Counter())
    assert await replies.answered(KEY) is False
    await store.set(KEY, "api", 60)
    assert await replies.answered(KEY) is True


async def test_a_mark_that_turns_final_is_answered() -> None:
    store = MemoryStore()
    replies = LateReplies(store, Counter())
    await store.set(KEY, "sending:abc", 60)

    async def finish() -> None:
        await asyncio.sleep(0.2)
        await store.set(KEY, "api", 60)

    finishing = asyncio.ensure_future(finish())
    assert await replies.answered(KEY) is True
    await finishing


async def test_a_dead_senders_mark_lapses_and_the_reply_is_not_out() -> None:
    store = MemoryStore()
    replies = LateReplies(store, Counter())
    await store.set(KEY, "sending:abc", 0.2)
    assert await replies.answered(KEY) is False


async def test_a_mark_that_never_lapses_is_given_up_on_with_an_error(monkeypatch: pytest.MonkeyPatch,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A mark written without a TTL (by anyone who can write to the store) would hold a queue job forever."""
    monkeypatch.setattr(late, "_MARK_WAIT", 0.3)
    store = MemoryStore()
    replies = LateReplies(store, Counter())
    await store.set(KEY, "sending:planted")
    assert await asyncio.wait_for(replies.answered(KEY), 5) is True
    assert f"another sender's mark on {KEY} stood for 0.3s without lapsing" in caplog.text
