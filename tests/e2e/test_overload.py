"""Load shedding (admission.py) over real HTTP: a real uvicorn, pushes as WeChat sends them.

No assertion on speed: the bot is made to fall behind on purpose (a handler that blocks the event loop, or
``max_in_flight=1``), and what is checked is what each push was answered and how often its handler ran."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import pytest

from tests.conftest import serve, until
from wxhook import Bot, ConfigError, Message
from wxhook.admission import REFUSAL, RETRY_HOLD
from wxhook.protocol import sign_query
from wxhook.testing import BotClient


def _bot(**options: object) -> tuple[Bot, Counter[str]]:
    bot = Bot(token="t", appid="wx0123456789abcdef", **options)  # type: ignore[arg-type]
    runs: Counter[str] = Counter()

    @bot.on_text
    async def handle(msg: Message) -> str:
        content = msg.content  # type: ignore[attr-defined]
        runs[content] += 1
        if content == "block":
            time.sleep(1.0)  # CPU work on the loop: every push behind it waits, unseen by the bot
        elif content.startswith("hold "):  # "hold <seconds> <n>": the loop held that long
            time.sleep(float(content.split()[1]))
        elif content == "slow":
            await asyncio.sleep(1.0)
        return f"echo {content}"

    return bot, runs


async def _retry_until_answered(wechat: BotClient, refused: list[dict[str, object]]) -> tuple[list[str | None], int]:
    """WeChat's retries of the refused pushes (the same message, a fresh timestamp and nonce), sent again while the
    bot still refuses them (on a loaded machine any hiccup of the loop past shed_after is a refusal, rightly): each
    push's final reply, and how many attempts were refused on the way."""
    replies: dict[int, str | None] = {}
    shed = 0
    for _ in range(20):
        await asyncio.sleep(0.2)
        waiting = [n for n in range(len(refused)) if n not in replies]
        if not waiting:
            break
        for n, answer in zip(waiting, await asyncio.gather(*(wechat.post(refused[n]) for n in waiting)), strict=True):
            if answer.status == 503:
                shed += 1
            else:
                replies[n] = answer.content
    return [replies.get(n) for n in range(len(refused))], shed


async def test_a_push_that_waited_past_shed_after_is_refused_and_its_retry_runs_once() -> None:
    bot, runs = _bot(shed_after=0.1)
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            # five connections open and idle, so that the pushes below are read in the first turn after the block
            await asyncio.gather(*(wechat.send_text(f"warm {n}", f"o_{n}") for n in range(5)))
            blocking = asyncio.ensure_future(wechat.send_text("block"))
            await until(lambda: runs["block"] == 1, timeout=5)  # the loop is blocked now, for a second
            pushes = [wechat.message("text", f"o_{n}", Content=f"push {n}") for n in range(5)]
            answers = await asyncio.gather(*(wechat.post(fields) for fields in pushes))
            assert (await blocking).content == "echo block"
            refused = [fields for fields, answer in zip(pushes, answers, strict=True) if answer.status == 503]
            assert refused, [answer.status for answer in answers]
            for fields, answer in zip(pushes, answers, strict=True):
                if answer.status == 503:
                    assert answer.body == REFUSAL
                    assert runs[fields["Content"]] == 0  # refused: never claimed, never run
                else:  # answered 200: its handler ran, once
                    assert (answer.status, answer.content) == (200, f"echo {fields['Content']}")
                    assert runs[fields["Content"]] == 1
            retried, shed_again = await _retry_until_answered(wechat, refused)
    assert retried == [f"echo {fields['Content']}" for fields in refused]
    assert all(runs[fields["Content"]] == 1 for fields in pushes)
    assert bot.stats["shed"] == len(refused) + shed_again


async def test_a_retry_past_its_time_runs_while_the_bot_refuses_nothing() -> None:
    """A push whose first attempt is 3 s old or more (its timestamp minus its CreateTime), arriving while the loop is
    held 0.3 s: the bot refuses no fresh push, so it has room for the retry, and runs it."""
    bot, runs = _bot()
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            holding = asyncio.ensure_future(wechat.send_text("hold 0.3 0", "o_hold"))
            await asyncio.sleep(0.1)
            retry = wechat.message("text", "o_retry", Content="retry", CreateTime=int(time.time()) - 4)
            assert (await wechat.post(retry)).content == "echo retry"
            await holding
    assert runs == Counter({"hold 0.3 0": 1, "retry": 1})
    assert bot.stats["shed"] == 0


async def _shedding(wechat: BotClient, runs: Counter[str]) -> asyncio.Future[object]:
    """Make a ``shed_after=0.1`` bot shed: one push in flight for a second (the bot is not idle; returned), the loop
    held 0.3 s, a fresh push refused meanwhile. Back caught up, within RETRY_HOLD of the refusal."""
    slow: asyncio.Future[object] = asyncio.ensure_future(wechat.send_text("slow", "o_slow"))
    await until(lambda: runs["slow"] == 1, timeout=5)
    holding = asyncio.ensure_future(wechat.send_text("hold 0.3 0", "o_hold"))
    await until(lambda: runs["hold 0.3 0"] == 1, timeout=5)  # the loop is held now
    shed = await wechat.post(wechat.message("text", "o_shed", Content="shed"))  # waits out the hold: refused
    assert (shed.status, runs["shed"]) == (503, 0)
    await holding
    await asyncio.sleep(0.1)
    return slow


async def test_a_retry_past_its_time_yields_to_fresh_pushes_while_the_bot_sheds() -> None:
    """Within RETRY_HOLD of a fresh push being refused, a retry past its time is refused too (its reply can no
    longer reach the follower in time) while a fresh push runs; once the bot has refused nothing for that long,
    the retry runs, once."""
    bot, runs = _bot(shed_after=0.1)
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            slow = await _shedding(wechat, runs)
            retry = wechat.message("text", "o_retry", Content="retry", CreateTime=int(time.time()) - 4)
            refused, fresh = await asyncio.gather(wechat.post(retry), wechat.send_text("fresh", "o_fresh"))
            assert (refused.status, refused.body, runs["retry"]) == (503, REFUSAL, 0)
            assert fresh.content == "echo fresh"
            await slow
            await asyncio.sleep(RETRY_HOLD)
            assert (await wechat.post(retry)).content == "echo retry"
    assert runs == Counter({"slow": 1, "hold 0.3 0": 1, "fresh": 1, "retry": 1})
    assert bot.stats["shed"] == 2


async def test_an_attempt_that_waited_past_wechats_five_seconds_yields_while_the_bot_sheds() -> None:
    """WeChat's clock here runs 100 s behind the server's (inside the timestamp window). While the bot sheds, a first
    attempt whose timestamp is 8 s older than the freshest push's (it waited in the kernel: WeChat has dropped it)
    is refused and never run, while one from WeChat's now runs; once the bot has refused nothing for RETRY_HOLD,
    the late attempt runs, once. Its age is read against the pushes' own timestamps, not the server's clock: a
    check of the timestamp alone would refuse every push of this skewed clock."""
    bot, runs = _bot(shed_after=0.1)

    def attempt(content: str, age: int) -> tuple[dict[str, object], dict[str, str]]:
        sent = int(time.time()) - 100 - age
        return (wechat.message("text", f"o_{content}", Content=content, CreateTime=sent),
                sign_query("t", timestamp=str(sent)))

    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            slow = await _shedding(wechat, runs)
            fields, query = attempt("fresh", 0)
            assert (await wechat.post(fields, query=query)).content == "echo fresh"
            late, late_query = attempt("late", 8)
            refused = await wechat.post(late, query=late_query)
            assert (refused.status, refused.body, runs["late"]) == (503, REFUSAL, 0)
            await slow
            await asyncio.sleep(RETRY_HOLD)
            assert (await wechat.post(late, query=late_query)).content == "echo late"
    assert runs == Counter({"slow": 1, "hold 0.3 0": 1, "fresh": 1, "late": 1})
    assert bot.stats["shed"] == 2


async def test_past_max_in_flight_a_push_is_refused_until_one_finishes() -> None:
    bot, runs = _bot(max_in_flight=1)
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            slow = asyncio.ensure_future(wechat.send_text("slow"))
            await until(lambda: runs["slow"] == 1, timeout=5)  # in flight
            fields = wechat.message("text", "o_next", Content="next")
            refused = await wechat.post(fields)
            assert refused.status == 503
            assert runs["next"] == 0
            assert (await slow).content == "echo slow"
            retried = await wechat.post(fields)
    assert retried.content == "echo next"
    assert runs == Counter({"slow": 1, "next": 1})
    assert bot.stats["shed"] == 1


async def test_a_sync_handlers_wait_for_a_thread_is_shed_like_the_loops_lag() -> None:
    """``def`` handlers wait for one of the thread pool's 40 threads, where the loop (idle meanwhile) shows no lag:
    once the call at the head of that queue has waited past shed_after, a new push is refused and never run; its
    retry runs once the pool has caught up."""
    bot = Bot(token="t", appid="wx0123456789abcdef", shed_after=0.2, max_in_flight=None)
    runs: Counter[str] = Counter()
    release = threading.Event()

    @bot.on_text
    def handle(msg: Message) -> str:
        content = msg.content  # type: ignore[attr-defined]
        runs[content] += 1
        if content.startswith("hold"):
            release.wait(30)  # a blocking call: the thread is held, the loop is not
        return f"echo {content}"

    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            holding = [asyncio.ensure_future(wechat.send_text(f"hold {n}", f"o_{n}")) for n in range(41)]
            try:
                await until(lambda: runs.total() == 40)  # every thread held, the 41st call waiting for one
                await asyncio.sleep(0.4)  # past shed_after
                late = wechat.message("text", "o_late", Content="late")
                refused = await wechat.post(late)
                assert (refused.status, refused.body, runs["late"]) == (503, REFUSAL, 0)
            finally:
                release.set()
            assert [answer.content for answer in await asyncio.gather(*holding)] == [
                f"echo hold {n}" for n in range(41)]
            assert (await wechat.post(late)).content == "echo late"
    assert runs == Counter({"late": 1, **{f"hold {n}": 1 for n in range(41)}})
    assert bot.stats["shed"] == 1


async def test_an_idle_bot_answers_passively_and_its_lag_timer_stops() -> None:
    bot, runs = _bot()
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            reply = await wechat.send_text("hello")
            assert reply.content == "echo hello"
            await asyncio.sleep(0.2)
            health = await wechat.send_text("again")
    assert health.content == "echo again"
    assert bot.stats["shed"] == 0
    assert runs == Counter({"hello": 1, "again": 1})


async def test_shedding_off_never_refuses() -> None:
    bot, _runs = _bot(shed_after=None, max_in_flight=None)
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            blocking = asyncio.ensure_future(wechat.send_text("block"))
            await asyncio.sleep(0.3)
            answers = await asyncio.gather(*(wechat.send_text(f"push {n}", f"o_{n}") for n in range(3)))
            await blocking
    assert [answer.content for answer in answers] == ["echo push 0", "echo push 1", "echo push 2"]
    assert bot.stats["shed"] == 0


async def _steady_flood(wechat: BotClient, count: int, every: float, hold: float) -> list[tuple[str, int]]:
    """``count`` pushes, one every ``every`` s, each holding the loop ``hold`` s (longer: it never catches up);
    each push's text and the status it was answered."""
    pushes, tasks = [], []
    for n in range(count):
        fields = wechat.message("text", f"o_{n}", Content=f"hold {hold} {n}")
        pushes.append(fields)
        tasks.append(asyncio.ensure_future(wechat.post(fields)))
        await asyncio.sleep(every)
    answers = await asyncio.gather(*tasks)
    return [(fields["Content"], answer.status) for fields, answer in zip(pushes, answers, strict=True)]


async def test_a_loop_that_stays_behind_sheds_past_the_overloaded_wait() -> None:
    """Pushes every 0.1 s, each holding the loop 0.15 s: the waits grow by 0.05 s a push and never reach
    shed_after (1 s), but the loop has been behind for half a second: pushes that waited past 0.1 s are refused,
    never run, and their retries run once."""
    bot, runs = _bot()
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            answered = await _steady_flood(wechat, 16, 0.1, 0.15)
            refused = [content for content, status in answered if status == 503]
            assert refused, answered
            assert all(runs[content] == 0 for content in refused)
            assert all(runs[content] == 1 for content, status in answered if status == 200)
            assert {status for _content, status in answered} == {200, 503}
            retries = []
            for content in refused:  # WeChat's retries, to a bot caught up (each holds the loop 0.15 s: a pause)
                await asyncio.sleep(0.25)
                retries.append(await wechat.send_text(content, f"o_{content.split()[-1]}"))
    assert [reply.content for reply in retries] == [f"echo {content}" for content in refused]
    assert all(count == 1 for count in runs.values())
    assert bot.stats["shed"] == len(refused)


async def test_the_overloaded_wait_turned_off_sheds_only_past_shed_after() -> None:
    """The loop is overloaded from about the sixth push on; the last of 12 waits some 0.55 s, well under shed_after
    (1 s) even on a slow machine, and far over the overloaded wait it would have had."""
    bot, runs = _bot(shed_after_overloaded=None)
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            answered = await _steady_flood(wechat, 12, 0.1, 0.15)
    assert [status for _content, status in answered] == [200] * 12
    assert all(count == 1 for count in runs.values())
    assert bot.stats["shed"] == 0


async def test_one_long_handler_is_not_overload() -> None:
    """One handler holding the loop 0.7 s (longer than the overloaded wait's half second of lag): the pushes that
    waited behind it are under shed_after, and answered."""
    bot, runs = _bot()
    with serve(bot) as url:
        async with BotClient(url, token="t") as wechat:
            holding = asyncio.ensure_future(wechat.send_text("hold 0.7 0"))
            await asyncio.sleep(0.2)
            answers = await asyncio.gather(*(wechat.send_text(f"push {n}", f"o_{n}") for n in range(5)))
            assert (await holding).content == "echo hold 0.7 0"
    assert [answer.content for answer in answers] == [f"echo push {n}" for n in range(5)]
    assert bot.stats["shed"] == 0
    assert all(count == 1 for count in runs.values())


def test_settings_come_from_arguments_then_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    bot = Bot(token="t")
    assert (bot.shed_after, bot.max_in_flight) == (1.0, 1000)
    monkeypatch.setenv("WXHOOK_SHED_AFTER", "0.5")
    monkeypatch.setenv("WXHOOK_MAX_IN_FLIGHT", "off")
    bot = Bot(token="t")
    assert (bot.shed_after, bot.max_in_flight) == (0.5, None)
    bot = Bot(token="t", shed_after=2.0, max_in_flight=10)
    assert (bot.shed_after, bot.max_in_flight) == (2.0, 10)
    monkeypatch.setenv("WXHOOK_SHED_AFTER", "soon")
    with pytest.raises(ConfigError, match="WXHOOK_SHED_AFTER"):
        Bot(token="t")
    with pytest.raises(ConfigError, match="max_in_flight"):
        Bot(token="t", shed_after=1.0, max_in_flight=0)
    monkeypatch.delenv("WXHOOK_SHED_AFTER")
    assert Bot(token="t").shed_after_overloaded == 0.1
    monkeypatch.setenv("WXHOOK_SHED_AFTER_OVERLOADED", "off")
    assert Bot(token="t").shed_after_overloaded is None
    monkeypatch.setenv("WXHOOK_SHED_AFTER_OVERLOADED", "0.25")
    assert Bot(token="t").shed_after_overloaded == 0.25
    assert Bot(token="t", shed_after_overloaded=0.05).shed_after_overloaded == 0.05
    monkeypatch.setenv("WXHOOK_SHED_AFTER_OVERLOADED", "soon")
    with pytest.raises(ConfigError, match="WXHOOK_SHED_AFTER_OVERLOADED must be seconds"):
        Bot(token="t")
    with pytest.raises(ConfigError, match="shed_after_overloaded must be a positive"):
        Bot(token="t", shed_after_overloaded=-1)
