"""A store outage never leaves a follower unanswered: Redis stopped under two instances, a locked or
read-only SQLite file, and fail_closed for those who prefer errors."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path

import httpx
import pytest

from wxhook import Bot, Message, StoreUnavailable
from wxhook.testing import BotClient, FakeWeChat, serve

from ..redis_server import RedisServer
from .conftest import TOKEN, Processes, bot_env, eventually, runs_of

_WARNING = "is unavailable"


async def deliver(url: str, fields: dict[str, object], delay: float = 0) -> tuple[str, str | None]:
    """One delivery on a connection of its own, as WeChat's retry would be; (answering pid, reply text)."""
    await asyncio.sleep(delay)
    async with BotClient(url, token=TOKEN) as wechat:
        reply = await wechat.post(fields)
    return reply.headers["x-worker"], reply.content


def healthy(url: str) -> bool:
    return httpx.get(url, timeout=2).headers["x-store-healthy"] == "1"


async def test_redis_stopped_under_two_instances(processes: Processes, private_redis: RedisServer,
                                                 tmp_path: Path) -> None:
    runs = tmp_path / "runs.txt"
    runs.touch()
    with FakeWeChat() as fake:
        env = bot_env(fake.url, fake.appid, fake.secret, runs, WXHOOK_STORE=private_redis.url(),
                      HANDLER_SECONDS="0.2")
        urls = [processes.bot("a", env), processes.bot("b", env)]
        async with BotClient(urls[0], token=TOKEN) as template:
            for i, url in enumerate(urls):
                fields = template.message("text", f"o_up_{i}", Content=f"up{i}")
                assert (await deliver(url, fields))[1] == f"echo: up{i}"

            private_redis.stop()
            for i in range(6):  # every message still gets its handler's passive reply, on either instance
                fields = template.message("text", f"o_down_{i}", Content=f"down{i}")
                assert (await deliver(urls[i % 2], fields))[1] == f"echo: down{i}"
            assert not healthy(urls[0]) and not healthy(urls[1])
            for name in ("a", "b"):  # one warning per outage, not one per message
                assert processes.log(name).count(_WARNING) == 1, processes.log(name)

            private_redis.start()
            for url in urls:
                await asyncio.to_thread(eventually, lambda url=url: healthy(url), 15, f"{url} back on Redis")
            fields = template.message("text", "o_back", Content="back")
            (first_pid, first), (retry_pid, retry) = await asyncio.gather(
                deliver(urls[0], fields), deliver(urls[1], fields, 0.3))
            assert first == retry == "echo: back"
            assert first_pid != retry_pid
    ran = Counter(msg_id for msg_id, _ in runs_of(runs, "echo"))
    assert ran[str(fields["MsgId"])] == 1, "the message and its retry on two instances ran the handler once"
    assert len(ran) == 9 and set(ran.values()) == {1}
    for name in ("a", "b"):
        assert "answers again" in processes.log(name)


def _echo_bot(store: str, **options: object) -> Bot:
    bot = Bot(TOKEN, store=store, deadline=3.0, **options)  # type: ignore[arg-type]

    @bot.on_text
    async def echo(msg: Message) -> str:
        return f"echo: {msg.content}"  # type: ignore[attr-defined]

    return bot


async def test_a_locked_sqlite_file_is_answered_within_the_deadline(tmp_path: Path) -> None:
    """Another process holds the write lock: every message still gets the handler's passive reply (which only
    a delivery inside the 3 s deadline can carry), and the bot returns to the file once it is free."""
    path = tmp_path / "state.db"
    bot = _echo_bot(f"sqlite:///{path}", health_path="/healthz")
    with serve(bot) as url:
        async with BotClient(url, token=TOKEN) as wechat, httpx.AsyncClient() as http:
            assert (await wechat.send_text("before")).content == "echo: before"
            assert (await http.get(url + "healthz")).json() == {"status": "ok", "store": "shared"}
            locker = sqlite3.connect(path, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            try:
                replies = await asyncio.gather(*(wechat.send_text(f"m{i}", openid=f"o_{i}") for i in range(10)))
                assert [reply.content for reply in replies] == [f"echo: m{i}" for i in range(10)]
                assert not bot.store_healthy
                assert (await http.get(url + "healthz")).json() == {"status": "ok", "store": "local"}
            finally:
                locker.execute("ROLLBACK")
                locker.close()
            await asyncio.to_thread(eventually, lambda: bot.store_healthy, 10, "back on the SQLite file")
            assert (await wechat.send_text("after")).content == "echo: after"


def _read_only_database(path: Path) -> None:
    """An existing database SQLite will only read: a write version above 2 in the header (byte 18) makes any
    SQLite treat the file as read-only, whoever runs the test (root ignores file modes)."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE wxhook_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL)")
    conn.close()
    data = bytearray(path.read_bytes())
    data[18] = 3
    path.write_bytes(bytes(data))


async def test_an_unwritable_sqlite_file_fails_the_startup_check(tmp_path: Path) -> None:
    path = tmp_path / "readonly.db"
    _read_only_database(path)
    bot = _echo_bot(f"sqlite:///{path}")
    with pytest.raises(StoreUnavailable) as info:
        await bot.startup()
    message = str(info.value)
    assert "start-up write check" in message and str(path) in message and "WXHOOK_STORE" in message
    assert "readonly" in repr(info.value.__cause__)
    await bot.store.close()


async def test_fail_closed_answers_503_so_wechat_retries(tmp_path: Path) -> None:
    """With fail_closed a store outage is an error: the webhook answers 503 instead of carrying on locally."""
    path = tmp_path / "state.db"
    bot = _echo_bot(f"sqlite:///{path}?busy_timeout=0.2", fail_closed=True)
    with serve(bot) as url:
        async with BotClient(url, token=TOKEN) as wechat:
            assert (await wechat.send_text("before")).content == "echo: before"
            locker = sqlite3.connect(path, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")
            try:
                reply = await wechat.send_text("during")
                assert (reply.status, reply.body) == (503, b"store unavailable\n")
            finally:
                locker.execute("ROLLBACK")
                locker.close()
            assert (await wechat.send_text("after")).content == "echo: after"


async def test_fail_closed_store_raises_and_an_open_store_falls_back(tmp_path: Path) -> None:
    """The same outage seen through the store: the fail-closed one raises StoreUnavailable naming the store,
    the default one answers from process-local state."""
    path = tmp_path / "state.db"
    closed = Bot(TOKEN, store=f"sqlite:///{path}?busy_timeout=0.2&fail_closed=true").store
    open_ = Bot(TOKEN, store=f"sqlite:///{path}?busy_timeout=0.2").store
    await closed.set("k", "v")
    await open_.set("k", "v")
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable, match="fail_closed"):
            await closed.set("k", "w")
        assert closed.healthy is False
        await open_.set("k", "w")
        assert await open_.get("k") == "w" and open_.healthy is False
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    await closed.close()
    await open_.close()


async def test_the_startup_check_waits_out_a_lock_that_passes(tmp_path: Path) -> None:
    """Workers creating one file together hold its lock for a moment: the check waits that out (where a
    message would not), instead of failing the worker's start."""
    path = tmp_path / "state.db"
    bot = _echo_bot(f"sqlite:///{path}?busy_timeout=0.2")
    await bot.store.set("opened", "yes")
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    asyncio.get_running_loop().call_later(1.0, locker.execute, "ROLLBACK")
    try:
        await bot.startup()
        assert bot.store_healthy
    finally:
        locker.close()
        await bot.shutdown()
