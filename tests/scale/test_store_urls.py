"""One store argument everywhere: a URL or a Store for the bot and the client alike, checked at construction."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from redis.crc import key_slot

from wxhook import Bot, ConfigError, MemoryStore, ResilientStore, SQLiteStore
from wxhook.api import Client
from wxhook.stores.redis import RedisStore, parse_redis_url
from wxhook.testing import FakeWeChat

from .conftest import ROOT


async def test_client_takes_a_store_url(tmp_path: Path) -> None:
    with FakeWeChat() as fake:
        async with Client(fake.appid, fake.secret, api_base=fake.url, store=f"sqlite:///{tmp_path / 's.db'}") as a:
            assert isinstance(a.store, ResilientStore) and isinstance(a.store.shared, SQLiteStore)
            assert await a.misc.callback_ip()
            token = await a.store.get(f"wxhook:token:{fake.appid}")
        # A second client on the same file finds the token the first one fetched.
        async with Client(fake.appid, fake.secret, api_base=fake.url, store=f"sqlite:///{tmp_path / 's.db'}") as b:
            assert await b.access_token() == token
        assert fake.count("/cgi-bin/stable_token") == 1


def test_bot_and_client_reject_a_bad_store_url_with_the_same_words() -> None:
    with pytest.raises(ConfigError) as bot_error:
        Bot("t", store="mysql://db/x")
    with pytest.raises(ConfigError) as client_error:
        Client("wx1", "s", store="mysql://db/x")
    assert str(bot_error.value) == str(client_error.value)
    assert "WXHOOK_STORE" in str(client_error.value) and "redis+sentinel://" in str(client_error.value)
    with pytest.raises(ConfigError, match="takes a Store or a store URL"):
        Client("wx1", "s", store=42)  # type: ignore[arg-type]


def test_client_reads_wxhook_store_and_a_store_object_is_used_as_is(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    mine = MemoryStore()
    assert Client("wx1", "s", store=mine).store is mine
    monkeypatch.setenv("WXHOOK_STORE", f"sqlite:///{tmp_path / 'env.db'}")
    store = Client("wx1", "s").store
    assert isinstance(store, ResilientStore) and isinstance(store.shared, SQLiteStore)


def test_sentinel_and_cluster_urls_are_parsed_at_construction() -> None:
    sentinel = parse_redis_url("redis+sentinel://:pw@s1:26379,s2/mymaster/2?socket_timeout=0.2")
    assert (sentinel.kind, sentinel.nodes, sentinel.service, sentinel.db) == (
        "sentinel", (("s1", 26379), ("s2", 26379)), "mymaster", 2)
    assert sentinel.connection_options() == {"socket_timeout": 0.2, "socket_connect_timeout": 1.0, "password": "pw"}
    cluster = parse_redis_url("redis+cluster://user:p%40ss@n1:7000,n2:7001")
    assert (cluster.kind, cluster.nodes, cluster.username, cluster.password) == (
        "cluster", (("n1", 7000), ("n2", 7001)), "user", "p@ss")
    store = Bot("t", store="redis+cluster://n1:7000,n2:7001?fail_closed=true").store
    assert isinstance(store, ResilientStore) and store.fail_closed and isinstance(store.shared, RedisStore)
    assert store.shared.target.kind == "cluster"


@pytest.mark.parametrize(("url", "words"), [
    ("redis+sentinel://s1:26379", "names no Sentinel service"),
    ("redis+sentinel://s1:26379/m/x", "names no Sentinel service"),
    ("redis+cluster://n1:7000/3", "only database 0"),
    ("redis+cluster://n1:x", "is not host or host:port"),
    ("redis+cluster://n1:7000?db=2", "unknown option(s) db"),
    ("redis://h?socket_timeout=0", "must be a positive number of seconds"),
    ("sqlite:///x.db?busy_timeout=abc", "busy_timeout"),
    ("redis://h?timeout=soon", "timeout= in store URL"),
])
def test_malformed_store_urls_name_the_fix(url: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        Bot("t", store=url)
    assert words in str(info.value)


def test_message_keys_share_one_cluster_slot() -> None:
    """One message's keys hash to one Redis Cluster slot (redis-py's own slot function), another's elsewhere."""
    keys = Bot("t", appid="wx1").keys.message("msg:o_1:123")
    slots = {key_slot(key.encode()) for key in (keys.state, keys.waiter, keys.delivered)}
    assert len(slots) == 1
    assert "{wx1:msg:o_1:123}" in keys.state
    other = Bot("t", appid="wx1").keys.message("msg:o_2:456")
    assert key_slot(other.state.encode()) not in slots


def test_three_client_processes_fetch_one_token(redis_url: str, tmp_path: Path) -> None:
    """Three processes that only use Client(store="redis://…"), 50 concurrent calls each, no token cached:
    exactly one token fetch reaches WeChat."""
    store = redis_url.replace("/0", "/3")
    with redis.from_url(store) as flush:
        flush.flushdb()
    start = tmp_path / "start"
    with FakeWeChat() as fake:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")},
               "WXHOOK_APPID": fake.appid, "WXHOOK_SECRET": fake.secret, "WXHOOK_API_BASE": fake.url}
        callers = [
            subprocess.Popen([sys.executable, "-m", "tests.apps.client_calls", store, str(start), "50"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for _ in range(3)
        ]
        try:
            start.touch()
            outputs = [caller.communicate(timeout=60)[0].decode() for caller in callers]
        finally:
            for caller in callers:
                caller.kill()
                caller.wait(10)
        assert [caller.returncode for caller in callers] == [0, 0, 0], outputs
        assert fake.count("/cgi-bin/getcallbackip") == 150
        assert fake.count("/cgi-bin/stable_token") == 1, outputs
        token_requests = fake.calls("/cgi-bin/stable_token")
        assert token_requests[0].json["appid"] == fake.appid
