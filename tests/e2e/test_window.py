"""WeChat's five-second window over real HTTP: a real uvicorn, FakeWeChat as the API, retries as WeChat sends them."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import serve
from wxhook import Article, Bot, Context, Message, News
from wxhook.observe import follower_tag
from wxhook.testing import BotClient, FakeWeChat

CUSTOM_SEND = "/cgi-bin/message/custom/send"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat() as server:
        yield server


def make_bot(fake: FakeWeChat, **options: Any) -> Bot:
    return Bot(token="t", appid=fake.appid, secret=fake.secret, api_base=fake.url, **options)


async def wait_for_calls(fake: FakeWeChat, path: str, count: int, timeout: float = 10) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(fake.calls(path)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return fake.calls(path)


async def test_slow_handler_is_answered_in_time_and_its_reply_arrives_through_the_api(fake: FakeWeChat) -> None:
    bot = make_bot(fake)
    bot.on_text(lambda m: time.sleep(7) or f"done: {m.content}")
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            started = time.monotonic()
            reply = await wechat.send_text("report please", openid="o_slow")
            elapsed = time.monotonic() - started
            assert reply.body == b"success"
            assert 4.0 < elapsed < 5.0
            assert fake.calls(CUSTOM_SEND) == []
            (call,) = await wait_for_calls(fake, CUSTOM_SEND, 1)
    assert call.json == {"touser": "o_slow", "msgtype": "text", "text": {"content": "done: report please"}}
    assert bot.stats["delivered"] == 1


async def test_retry_while_running_shares_the_outcome_and_later_retries_get_the_same_reply(fake: FakeWeChat) -> None:
    runs: list[str] = []

    async def slow(msg: Message) -> str:
        runs.append(msg.content)  # type: ignore[attr-defined]
        await asyncio.sleep(1.5)
        return f"answer to {msg.content}"  # type: ignore[attr-defined]

    bot = make_bot(fake)
    bot.on_text(slow)
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            message = wechat.message("text", "o_retry", Content="q1")

            async def retry_later() -> Any:
                await asyncio.sleep(0.5)
                return await wechat.post(message)

            first, retry = await asyncio.gather(wechat.post(message), retry_later())
            later = [await wechat.post(message) for _ in range(3)]
    assert runs == ["q1"]
    assert first.content == retry.content == "answer to q1"
    assert [r.content for r in later] == ["answer to q1"] * 3
    assert fake.calls(CUSTOM_SEND) == []
    assert bot.stats["coalesced"] == 4


async def test_a_retry_read_after_the_handler_held_the_loop_past_its_lease_does_not_run_it_again(
        fake: FakeWeChat) -> None:
    """A handler that blocks the event loop (a sync call in an async handler) longer than ``claim_lease`` lets its
    claim lapse, since nothing can renew it meanwhile; a retry read once the loop is free finds the run still going
    here, and waits for its outcome instead of running the message a second time."""
    runs: list[str] = []

    async def blocking(msg: Message) -> str:
        runs.append(msg.content)  # type: ignore[attr-defined]
        await asyncio.sleep(0)
        time.sleep(1.0)  # holds the loop: the 0.3 s claim lapses, the retry waits unread in its socket
        await asyncio.sleep(0.3)
        return f"answer to {msg.content}"  # type: ignore[attr-defined]

    bot = make_bot(fake, claim_lease=0.3, shed_after=None)
    bot.on_text(blocking)
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat, BotClient(url, token="t") as again:
            # The retry goes out on a connection already open and idle: read in the loop's first turn after the
            # block, before the lease tick that turn also runs can take the claim back.
            await again.send_text("warm-up", openid="o_other")
            message = wechat.message("text", "o_blocking", Content="q")

            async def retry_later() -> Any:
                await asyncio.sleep(0.4)
                return await again.post(message)

            first, retry = await asyncio.gather(wechat.post(message), retry_later())
    assert runs == ["warm-up", "q"]
    assert first.content == retry.content == "answer to q"


async def test_different_messages_sharing_a_msg_id_are_both_handled(fake: FakeWeChat) -> None:
    bot = make_bot(fake)
    bot.on_text(lambda m: f"echo {m.content}")
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            first = await wechat.post(wechat.message("text", Content="one", MsgId=1234567890123456))
            second = await wechat.post(wechat.message("text", Content="two", MsgId=1234567890123456))
    assert (first.content, second.content) == ("echo one", "echo two")


async def test_a_handler_that_never_waits_runs_once_and_its_retries_and_a_failure_are_answered(
        fake: FakeWeChat) -> None:
    # Async handlers that return without suspending take the window's path without a run record: the outcome they
    # leave is what a retry gets, a failure is "success" and the error outcome, and a blocking one that overruns
    # its deadline still answers its own request (nothing else could run meanwhile).
    runs: list[str] = []
    bot = make_bot(fake, deadline=0.2)

    @bot.on_text("boom")
    async def boom(msg: Message) -> str:
        runs.append("boom")
        raise RuntimeError("handler failed before any await")

    @bot.on_text("block")
    async def block(msg: Message) -> str:
        runs.append("block")
        time.sleep(0.4)  # holds the loop past the deadline without ever suspending
        return "blocked, then answered"

    @bot.on_text
    async def echo(msg: Message) -> str:
        runs.append(msg.content)
        return f"echo {msg.content}"

    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            hello = wechat.message("text", Content="hello", MsgId=1234567890123457)
            replies = [await wechat.post(hello), await wechat.post(hello)]
            failed = await wechat.post(wechat.message("text", Content="boom"))
            blocked = await wechat.post(wechat.message("text", Content="block"))
    assert runs == ["hello", "boom", "block"], "a retry ran the handler again"
    assert [r.content for r in replies] == ["echo hello", "echo hello"]
    assert (failed.status, failed.is_empty) == (200, True)
    assert blocked.content == "blocked, then answered"
    assert bot.stats["coalesced"] == 1 and bot.stats["error"] == 1 and bot.stats["deadline_passed"] == 0


async def test_event_retries_are_coalesced_by_sender_time_and_event(fake: FakeWeChat) -> None:
    runs: list[str] = []
    bot = make_bot(fake)
    bot.on_event("CLICK")(lambda e: runs.append(e.event_key) or f"clicked {e.event_key}")
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            click = wechat.message("event", "o_click", Event="CLICK", EventKey="K1", CreateTime=1700000000)
            other_key = {**click, "EventKey": "K2"}
            replies = [await wechat.post(click), await wechat.post(click), await wechat.post(other_key)]
    assert runs == ["K1", "K2"]
    assert [r.content for r in replies] == ["clicked K1", "clicked K1", "clicked K2"]


async def test_retry_after_deadline_takes_the_reply_passively_instead_of_the_api(fake: FakeWeChat) -> None:
    bot = make_bot(fake, deadline=0.5)

    @bot.on_text
    async def slow(msg: Message) -> str:
        await asyncio.sleep(0.7)  # past the first delivery's deadline, well inside the retry's
        return "late but passive"

    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            message = wechat.message("text", "o_r", Content="x")
            first = await wechat.post(message)  # answered "success" at 0.5 s
            retry = await wechat.post(message)  # arrives while the handler runs, waits 0.5 s more
            await asyncio.sleep(0.5)
    assert first.body == b"success"
    assert retry.content == "late but passive"
    assert fake.calls(CUSTOM_SEND) == []


async def test_timeout_reply_per_handler_deadline_and_news_delivery(fake: FakeWeChat) -> None:
    bot = make_bot(fake, timeout_reply="Working on it…")

    @bot.on_text(deadline=0.3)
    async def news(msg: Message) -> News:
        await asyncio.sleep(0.6)
        return News([Article("Your report", "ready", "https://example.com/r", "https://example.com/r.png")])

    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            started = time.monotonic()
            reply = await wechat.send_text("report", openid="o_news")
            assert time.monotonic() - started < 1.0
            assert reply.content == "Working on it…"
            (call,) = await wait_for_calls(fake, CUSTOM_SEND, 1)
    assert call.json["msgtype"] == "news"
    assert call.json["news"]["articles"] == [
        {"title": "Your report", "description": "ready", "url": "https://example.com/r",
         "picurl": "https://example.com/r.png"}
    ]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the timeout scope it spans the deadline with is 3.11+")
async def test_a_deferred_handler_keeps_its_task_and_the_interim_reply_is_sealed(fake: FakeWeChat) -> None:
    """The handler runs in its request's task, answered at the deadline from another: structured code that spans
    the deadline (a timeout scope, an API call) works, and the interim reply is sealed like any other."""
    aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    bot = make_bot(fake, aes_key=aes_key, deadline=0.2, timeout_reply="稍等…")
    tasks: list[asyncio.Task[Any] | None] = []

    @bot.on_text
    async def spans_the_deadline(msg: Message) -> str:
        tasks.append(asyncio.current_task())
        async with asyncio.timeout(5):
            await asyncio.sleep(0.5)
            page = await bot.api.user.list()  # httpx and its connection pool, across the deadline
        tasks.append(asyncio.current_task())
        return f"done, {page.total} followers"

    with serve(bot) as url:
        async with BotClient(url, token="t", appid=fake.appid, aes_key=aes_key) as wechat:
            reply = await wechat.send_text("slow", openid="o_sealed")
            assert reply.content == "稍等…"  # opened and its MsgSignature checked by BotClient
            (call,) = await wait_for_calls(fake, CUSTOM_SEND, 1)
    assert call.json["text"]["content"].startswith("done, ")
    assert len(tasks) == 2 and tasks[0] is tasks[1] is not None


async def test_typing_indicator_while_deferred(fake: FakeWeChat) -> None:
    bot = make_bot(fake, deadline=0.2, typing=True)
    bot.on_text(lambda m: time.sleep(0.8) or "typed")
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            await wechat.send_text("x", openid="o_typing")
            await wait_for_calls(fake, CUSTOM_SEND, 1)
    typing = fake.calls("/cgi-bin/message/custom/typing")
    assert typing and typing[0].json == {"touser": "o_typing", "command": "Typing"}


async def test_transient_delivery_failure_is_retried(fake: FakeWeChat) -> None:
    fake.fail(CUSTOM_SEND, errcode=-1, times=1)
    bot = make_bot(fake, deadline=0.2)
    bot.on_text(lambda m: time.sleep(0.4) or "eventually")
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            await wechat.send_text("x")
            calls = await wait_for_calls(fake, CUSTOM_SEND, 2)
    assert len(calls) == 2
    assert bot.stats["delivered"] == 1


async def test_permanent_delivery_failure_is_logged_and_counted_not_retried(
    fake: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail(CUSTOM_SEND, errcode=45015, times=None)
    bot = make_bot(fake, deadline=0.2)
    bot.on_text(lambda m: time.sleep(0.4) or "too late")
    with caplog.at_level(logging.ERROR, logger="wxhook"), serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            await wechat.send_text("x", openid="o_gone")
            await wait_for_calls(fake, CUSTOM_SEND, 1)
            await asyncio.sleep(0.3)
    assert len(fake.calls(CUSTOM_SEND)) == 1
    assert bot.stats["delivery_failed"] == 1
    assert "45015" in caplog.text and "rid" in caplog.text and f"user={follower_tag('o_gone')}" in caplog.text


async def test_sessions_persist_per_follower(fake: FakeWeChat) -> None:
    bot = make_bot(fake)

    @bot.on_text
    def survey(msg: Message, ctx: Context) -> str:
        answers = ctx.session.setdefault("answers", [])
        answers.append(msg.content)  # type: ignore[attr-defined]
        return ",".join(answers)

    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            alice = [(await wechat.send_text(t, openid="o_alice")).content for t in ("1", "2", "3")]
            bob = (await wechat.send_text("b", openid="o_bob")).content
    assert alice == ["1", "1,2", "1,2,3"]
    assert bob == "b"


async def test_background_work_runs_after_the_reply(fake: FakeWeChat) -> None:
    bot = make_bot(fake)
    done: list[str] = []

    async def slow_job(openid: str) -> None:
        await asyncio.sleep(1.0)
        done.append(openid)

    @bot.on_text
    def handler(msg: Message, ctx: Context) -> str:
        ctx.background(slow_job, ctx.openid)
        ctx.background(lambda: done.append("plain"))
        return "queued"

    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            started = time.monotonic()
            reply = await wechat.send_text("go", openid="o_bg")
            assert reply.content == "queued" and time.monotonic() - started < 0.9
            await asyncio.sleep(1.3)
    assert sorted(done) == ["o_bg", "plain"]


async def test_shutdown_waits_for_background_work_within_the_grace_period(
    fake: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(fake, shutdown_grace=1.5)
    finished: list[str] = []

    async def quick_enough() -> None:
        await asyncio.sleep(0.7)
        finished.append("quick")

    async def far_too_slow() -> None:
        await asyncio.sleep(30)
        finished.append("slow")

    @bot.on_text
    def handler(msg: Message, ctx: Context) -> None:
        ctx.background(quick_enough)
        ctx.background(far_too_slow)

    with caplog.at_level(logging.INFO, logger="wxhook"):
        with serve(bot) as url:
            async with BotClient(url, token="t") as wechat:
                await wechat.send_text("x")
            stopping = time.monotonic()
        shutdown_took = time.monotonic() - stopping
    assert finished == ["quick"]
    assert 1.4 < shutdown_took < 5
    assert "far_too_slow" in caplog.text and "abandoned" in caplog.text


async def test_a_deferred_handler_cut_off_by_shutdown_is_logged_by_name(
    fake: FakeWeChat, caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(fake, deadline=0.2, shutdown_grace=0.3)

    @bot.on_text
    async def endless_report(msg: Message) -> str:
        await asyncio.sleep(30)
        return "never"

    # The handler runs in its request, which uvicorn cancels once its graceful shutdown times out (wxhook run
    # sets that to the bot's shutdown_grace).
    with caplog.at_level(logging.ERROR, logger="wxhook"), serve(bot, timeout_graceful_shutdown=0.3) as url:
        async with BotClient(url, token="t") as wechat:
            assert (await wechat.send_text("x")).body == b"success"
    assert "abandoned the handler" in caplog.text and "endless_report for msg:" in caplog.text
    assert fake.calls(CUSTOM_SEND) == []
