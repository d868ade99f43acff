"""Faults in the reply window (issue D3, D4, 23): a worker killed mid-handler, a late reply whose send timed out.

What is promised: a message whose worker died is run again by a later delivery once its claim's lease lapses
(at-least-once across crashes), with the default settings, within the retry's own deadline; a message already
answered when its worker died is run again by another worker from the handover ledger, its reply sent through
the API; and a late reply that may have reached WeChat is never sent a second time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from wxhook import Bot, MemoryStore, Message
from wxhook.api import Client
from wxhook.testing import BotClient, FakeWeChat, serve

from ..conftest import until
from .test_workers import TOKEN, hosts, worker_env

SEND = "/cgi-bin/message/custom/send"


def store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_retry_runs_the_message_again_after_its_worker_was_killed(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """With the default claim lease: the retry that comes at once after the cut takes the dead worker's claim over
    when it lapses, and answers with the reply inside its own deadline (not "success" for a message never run)."""
    runs = tmp_path / "runs.txt"
    runs.touch()
    base = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")},
        "WXHOOK_TOKEN": TOKEN, "WXHOOK_STORE": store_url(kind, tmp_path, request), "RUNS_FILE": str(runs),
    }
    async with hosts({**base, "HANDLER_SECONDS": "60"}, {**base, "HANDLER_SECONDS": "0.1"}) as (urls, (doomed, _)):
        async with BotClient(urls[0], token=TOKEN, timeout=30) as first, BotClient(urls[1], token=TOKEN) as retry:
            fields = first.message("text", "o_crash", Content="in flight")
            delivery = asyncio.create_task(first.post(fields))
            while not runs.read_text():  # the doomed worker has started the handler
                await asyncio.sleep(0.05)
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
            with pytest.raises(Exception):  # noqa: B017 - the connection dies with the worker
                await delivery
            answer = await retry.post(fields)  # WeChat's retry, to the other server
        assert answer.content == "echo: in flight"
        ran = Counter(line.split()[1] for line in runs.read_text().splitlines())
        assert len(ran) == 2 and set(ran.values()) == {1}, "run once by each worker: at-least-once, not lost"


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_message_answered_before_its_worker_died_is_finished_by_another(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The handler outlives the deadline, the push is answered "success" (WeChat will not send it again), then its
    worker is killed: another worker finds it in the handover ledger, runs it and sends the reply through the API."""
    runs = tmp_path / "runs.txt"
    runs.touch()
    with FakeWeChat() as fake:
        base = worker_env(fake, store_url(kind, tmp_path, request), runs, DEADLINE="0.5")
        async with (hosts({**base, "HANDLER_SECONDS": "60"}, {**base, "HANDLER_SECONDS": "0.1"}) as (urls, (doomed, _)),
                    BotClient(urls[0], token=TOKEN, fake=fake) as wechat):
            answer = await wechat.send_text("answered, then orphaned", "o_orphan")
            assert answer.body == b"success", "answered at the deadline while the handler still runs"
            doomed.send_signal(signal.SIGKILL)
            doomed.wait(10)
            late = await wechat.next_deferred(timeout=20)
    assert (late.openid, late.content) == ("o_orphan", "echo: answered, then orphaned")
    ran = Counter(line.split()[1] for line in runs.read_text().splitlines())
    assert len(ran) == 2 and set(ran.values()) == {1}, "run once by each worker: at-least-once, not lost"
    assert len(fake.calls(SEND)) == 1


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_late_reply_whose_worker_died_before_sending_it_is_sent_by_another(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The handler finishes after the deadline and its worker claims the late send, but WeChat refuses the first
    attempt (-1: not delivered) and the worker is killed while it waits to try again: its claim on the send lapses,
    and another worker sends the kept reply from the handover ledger, once, without running the handler again."""
    runs = tmp_path / "runs.txt"
    runs.touch()
    with FakeWeChat() as fake:
        env = worker_env(fake, store_url(kind, tmp_path, request), runs, DEADLINE="0.5", HANDLER_SECONDS="1")
        async with hosts(env, env) as (urls, (doomed, _)):
            fake.fail(SEND, -1, times=None)  # system busy: refused before acting, so the sender tries again
            async with BotClient(urls[0], token=TOKEN, fake=fake) as wechat:
                answer = await wechat.send_text("sent by the survivor", "o_orphan")
                assert answer.body == b"success", "answered at the deadline while the handler still runs"
                await until(lambda: fake.calls(SEND))  # its first attempt, refused: it tries again a second later
                await asyncio.sleep(0.5)  # it has read the refusal by now (until then its request is on its way)
                doomed.send_signal(signal.SIGKILL)
                doomed.wait(10)
                fake.clear_failures()
                late = await wechat.next_deferred(timeout=30)
    assert (late.openid, late.content) == ("o_orphan", "echo: sent by the survivor")
    sends = fake.calls(SEND)  # (the token another test left in the shared Redis is refused, then refetched)
    assert sends[0].failure is not None and sends[0].failure.startswith("-1 ")
    assert [call.failure for call in sends].count(None) == 1
    assert len(runs.read_text().splitlines()) == 1, "the reply was ready: not run again"


async def test_a_late_reply_whose_send_timed_out_is_not_sent_again(caplog: pytest.LogCaptureFixture) -> None:
    with FakeWeChat() as fake:  # in a thread: serve()'s exit blocks this loop while the bot drains
        api = Client(fake.appid, fake.secret, api_base=fake.url, timeout=0.3, retry_deadline=2)
        bot = Bot(token=TOKEN, appid=fake.appid, deadline=0.2, api=api)

        @bot.on_text
        async def slow(msg: Message) -> str:
            await asyncio.sleep(0.4)
            return "late"

        fake.fail(SEND, delay=1.0)  # answered after the client gave up
        with caplog.at_level(logging.ERROR, logger="wxhook"):
            with serve(bot) as url:
                async with BotClient(url, token=TOKEN) as wechat:
                    assert (await wechat.send_text("go")).body == b"success"
            await api.aclose()
        assert len(fake.calls(SEND)) == 1
        assert "may have been delivered" in caplog.text
        assert bot.stats["delivery_failed"] == 1


async def test_a_late_reply_is_retried_when_wechat_never_got_it() -> None:
    with FakeWeChat() as fake:  # in a thread: serve()'s exit blocks this loop while the bot drains
        api = Client(fake.appid, fake.secret, api_base=fake.url)
        bot = Bot(token=TOKEN, appid=fake.appid, deadline=0.2, api=api)

        @bot.on_text
        async def slow(msg: Message) -> str:
            await asyncio.sleep(0.4)
            return "late but sure"

        fake.fail(SEND, -1)  # system busy: refused before acting
        with serve(bot) as url:
            async with BotClient(url, token=TOKEN) as wechat:
                assert (await wechat.send_text("go")).body == b"success"
        await api.aclose()
        sends = fake.calls(SEND)
        assert len(sends) >= 2 and sends[-1].json["text"]["content"] == "late but sure"
        assert bot.stats["delivered"] == 1


async def test_a_handler_that_never_returns_is_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    bot = Bot(token=TOKEN, deadline=0.2, handler_timeout=0.5)
    cancelled = asyncio.Event()

    @bot.on_text
    async def forever(msg: Message) -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    async with BotClient(bot) as wechat:
        assert (await wechat.send_text("hang")).body == b"success"
        await asyncio.wait_for(cancelled.wait(), 5)
    assert bot.stats["handler_timeout"] == 1 and "handler_timeout (0.5s)" in caplog.text


class HangingLedger(MemoryStore):
    """A store whose handover ledger hangs (a Redis that stopped answering, on that one command)."""

    async def hset(self, key: str, field: str, value: str) -> None:
        await asyncio.sleep(30)


async def test_a_hanging_handover_write_does_not_hold_the_answer_past_wechats_wait() -> None:
    bot = Bot(token=TOKEN, deadline=0.2, store=HangingLedger(), shutdown_grace=0.5)

    @bot.on_text
    async def slow(msg: Message) -> str:
        await asyncio.sleep(0.5)
        return "late"

    async with BotClient(bot) as wechat:
        started = time.monotonic()
        assert (await wechat.send_text("go")).body == b"success"
        assert time.monotonic() - started < 4, "answered well inside WeChat's 5 s, the ledger write still pending"
