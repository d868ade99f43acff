"""ResilientStore over a real Redis the test stops and starts: bounded calls, local fallback that keeps what the
process knew (the access token), one warning per outage, and the way back; plus Sentinel and Cluster URLs
against real servers."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from wxhook import Bot, Message, open_store
from wxhook.api import Client
from wxhook.stores import Admission
from wxhook.stores.redis import RedisStore
from wxhook.testing import BotClient, FakeWeChat, serve

from ..redis_server import RedisServer, free_port
from ..test_stores import admit_one_message
from .conftest import eventually


async def test_an_outage_keeps_the_token_and_logs_once(private_redis: RedisServer,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wxhook")
    with FakeWeChat() as fake:
        async with Client(fake.appid, fake.secret, api_base=fake.url, store=private_redis.url(2)) as client:
            token = await client.access_token()
            private_redis.stop()
            for _ in range(5):  # API calls go on with the token the process already had
                assert await client.misc.callback_ip()
            assert await client.access_token() == token
            assert fake.count("/cgi-bin/stable_token") == 1
            assert not client.store.healthy
            warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
            assert len(warnings) == 1 and "is unavailable" in warnings[0].getMessage()
            assert f"127.0.0.1:{private_redis.port}/2" in warnings[0].getMessage()

            private_redis.start()
            await asyncio.to_thread(eventually, lambda: client.store.healthy, 10, "back on Redis")
            assert any("answers again" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
            await client.store.set("after", "yes")
        with redis.from_url(private_redis.url(2)) as direct:
            assert direct.get("after") == b"yes", "writes reach Redis again"


async def test_a_paused_redis_is_bounded_by_the_timeout(private_redis: RedisServer) -> None:
    """SIGSTOP: connections hang rather than fail; the bot still answers with its handler's reply."""
    bot = Bot("paused", store=private_redis.url(3) + "?socket_timeout=0.3&timeout=0.5", deadline=3.0)

    @bot.on_text
    async def echo(msg: Message) -> str:
        return f"echo: {msg.content}"  # type: ignore[attr-defined]

    with serve(bot) as url:
        async with BotClient(url, token="paused") as wechat:
            assert (await wechat.send_text("before")).content == "echo: before"
            assert private_redis.process is not None
            private_redis.process.send_signal(19)  # SIGSTOP
            try:
                replies = [await wechat.send_text(f"m{i}", openid=f"o_{i}") for i in range(3)]
            finally:
                private_redis.process.send_signal(18)  # SIGCONT
            assert [r.content for r in replies] == ["echo: m0", "echo: m1", "echo: m2"]
            assert not bot.store_healthy


@pytest.fixture
def sentinel(private_redis: RedisServer, tmp_path: Path) -> Iterator[int]:
    """A real Sentinel watching the private Redis as master ``wxmaster``."""
    port = free_port()
    config = tmp_path / "sentinel.conf"
    config.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                      f"sentinel monitor wxmaster 127.0.0.1 {private_redis.port} 1\n")
    process = subprocess.Popen([private_redis.binary, str(config), "--sentinel"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def knows_master() -> bool:
            try:
                with redis.Redis(port=port, socket_timeout=1) as conn:
                    return conn.execute_command("SENTINEL", "get-master-addr-by-name", "wxmaster") is not None
            except redis.ConnectionError:
                return False

        eventually(knows_master, 10, "sentinel up")
        yield port
    finally:
        process.terminate()
        process.wait(10)


async def test_a_sentinel_url_reaches_the_master(sentinel: int, private_redis: RedisServer) -> None:
    store = open_store(f"redis+sentinel://127.0.0.1:{sentinel}/wxmaster/4")
    try:
        await store.check("probe")
        await store.set("via-sentinel", "1")
        assert await store.set_if_absent("via-sentinel", "2") is False
    finally:
        await store.close()
    with redis.from_url(private_redis.url(4)) as direct:
        assert direct.get("via-sentinel") == b"1"


async def test_admit_through_sentinel(sentinel: int) -> None:
    store = open_store(f"redis+sentinel://127.0.0.1:{sentinel}/wxmaster/5")
    try:
        await admit_one_message(store)
        assert store.healthy
    finally:
        await store.close()


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is a valid, free port too."""
    for _ in range(100):
        port = free_port()
        if port + 10000 <= 65535:
            try:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
            return port
    raise RuntimeError("no port pair free for a cluster node")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[int]:
    """A one-node Redis Cluster holding every slot."""
    server = RedisServer()
    port = _cluster_port()
    process = subprocess.Popen(
        [server.binary, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--dir",
         str(tmp_path), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        def up() -> bool:
            assert process.poll() is None, "the cluster node exited"
            try:
                with redis.Redis(port=port, socket_timeout=1) as conn:
                    return bool(conn.ping())
            except redis.ConnectionError:
                return False

        eventually(up, 10, "cluster node up")
        with redis.Redis(port=port) as conn:
            conn.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
            deadline = time.monotonic() + 10
            while b"cluster_state:ok" not in conn.execute_command("CLUSTER", "INFO"):
                assert time.monotonic() < deadline, "the cluster did not become ok"
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(10)


async def test_admit_on_a_cluster(cluster: int) -> None:
    """A nonce key and a message's keys hash to different slots: admit must not send them in one script."""
    store = open_store(f"redis+cluster://127.0.0.1:{cluster}")
    try:
        await admit_one_message(store)
        assert await store.admit(None, "", 60, "wxhook:{ns:m}:state", "claim", 60) is Admission.CLAIMED
        assert store.healthy
    finally:
        await store.close()


async def test_a_cluster_url_runs_the_reply_window(cluster: int) -> None:
    store_url = f"redis+cluster://127.0.0.1:{cluster}"
    bot = Bot("clustered", appid="wxcluster", store=store_url)
    assert isinstance(getattr(bot.store, "shared", None), RedisStore)
    runs: list[str] = []

    @bot.on_text
    async def echo(msg: Message) -> str:
        runs.append(msg.content)  # type: ignore[attr-defined]
        return f"echo: {msg.content}"  # type: ignore[attr-defined]

    with serve(bot) as url:
        async with BotClient(url, token="clustered") as wechat:
            fields = wechat.message("text", "o_cluster", Content="hi")
            first, retry = await asyncio.gather(wechat.post(fields), wechat.post(fields))
    assert first.content == retry.content == "echo: hi" and runs == ["hi"]
    assert bot.store_healthy
