"""Every store backend against one contract, plus what only SQLite promises: atomicity across processes."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from wxhook import Bot, ConfigError
from wxhook.stores import (
    Admission,
    LockTimeout,
    MemoryStore,
    ResilientStore,
    SQLiteStore,
    Store,
    open_store,
)
from wxhook.stores.keys import BotKeys
from wxhook.stores.redis import RedisStore
from wxhook.stores.sqlite import _WRITE

TTL = 0.05
PAST_TTL = 0.08


async def _empty_redis(url: str) -> None:
    client = redis.asyncio.from_url(url)
    await client.flushdb()
    await client.aclose()


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store of each backend; Redis is a private server the suite starts."""
    if request.param == "memory":
        return "memory://"
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("redis_url")
    await _empty_redis(url)
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    s = open_store(store_url)
    yield s
    await s.close()


async def test_get_set_and_replace(store: Store) -> None:
    assert await store.get("k") is None
    await store.set("k", "v1")
    assert await store.get("k") == "v1"
    await store.set("k", "v2")
    assert await store.get("k") == "v2"


async def test_ttl_expiry_and_set_replaces_ttl(store: Store) -> None:
    await store.set("short", "x", ttl=TTL)
    await store.set("kept", "y", ttl=TTL)
    await store.set("kept", "y", ttl=None)
    assert await store.get("short") == "x"
    await asyncio.sleep(PAST_TTL)
    assert await store.get("short") is None
    assert await store.get("kept") == "y"


async def test_zero_ttl_is_already_expired(store: Store) -> None:
    await store.set("k", "v", ttl=0)
    assert await store.get("k") is None
    assert await store.set_if_absent("k", "w", ttl=0)


async def test_set_if_absent(store: Store) -> None:
    assert await store.set_if_absent("k", "first", ttl=TTL)
    assert not await store.set_if_absent("k", "second")
    assert await store.get("k") == "first"
    await asyncio.sleep(PAST_TTL)
    assert await store.set_if_absent("k", "third")
    assert await store.get("k") == "third"
    await asyncio.sleep(PAST_TTL)
    assert await store.get("k") == "third", "a set_if_absent without ttl keeps the key"


async def test_delete(store: Store) -> None:
    await store.set("k", "v")
    await store.delete("k")
    assert await store.get("k") is None
    await store.delete("never-there")
    assert await store.set_if_absent("k", "again")


async def test_compare_and_delete(store: Store) -> None:
    await store.set("k", "mine")
    assert not await store.compare_and_delete("k", "theirs")
    assert await store.get("k") == "mine"
    assert await store.compare_and_delete("k", "mine")
    assert await store.get("k") is None
    assert not await store.compare_and_delete("k", "mine")


async def test_compare_and_delete_ignores_expired_value(store: Store) -> None:
    await store.set("k", "old", ttl=TTL)
    await asyncio.sleep(PAST_TTL)
    assert not await store.compare_and_delete("k", "old")


async def test_renew_extends_only_the_holders_live_claim(store: Store) -> None:
    await store.set("lease", "mine", ttl=TTL)
    assert await store.renew("lease", "mine", 60)
    await asyncio.sleep(PAST_TTL)
    assert await store.get("lease") == "mine", "renewed past its first TTL"
    assert not await store.renew("lease", "theirs", 60)
    assert not await store.renew("absent", "x", 60)
    await store.set("lapsed", "v", ttl=TTL)
    await asyncio.sleep(PAST_TTL)
    assert not await store.renew("lapsed", "v", 60), "an expired claim is gone, not revived"
    assert await store.set_if_absent("lapsed", "next holder", 60)


async def test_lock_excludes_concurrent_tasks(store: Store) -> None:
    log: list[tuple[str, int]] = []

    async def worker(i: int) -> None:
        async with store.lock("job"):
            log.append(("enter", i))
            await asyncio.sleep(0.005)
            log.append(("exit", i))

    await asyncio.gather(*(worker(i) for i in range(5)))
    assert len(log) == 10
    for enter, exit_ in zip(log[::2], log[1::2], strict=True):
        assert enter[0] == "enter"
        assert exit_ == ("exit", enter[1])


async def test_lock_times_out_while_held(store: Store) -> None:
    async with store.lock("job"):
        with pytest.raises(LockTimeout, match="'job'"):
            async with store.lock("job", wait=0.03):
                pass
    async with store.lock("job", wait=0.03):
        pass


async def test_expired_holder_cannot_release_the_next_holders_lock(store: Store) -> None:
    async with AsyncExitStack() as second_holder:
        async with store.lock("job", ttl=TTL):
            await asyncio.sleep(PAST_TTL)
            await second_holder.enter_async_context(store.lock("job", wait=0.5))
        with pytest.raises(LockTimeout):
            async with store.lock("job", wait=0.03):
                pass
    async with store.lock("job", wait=0.03):
        pass


async def admit_one_message(store: Store) -> None:
    """The life of one message's admission: what every backend's ``admit`` must answer, step by step."""
    nonce, state = "nonce:1700000000:abc", "msg-1:state"
    assert await store.admit(nonce, "body-1", 60, state, "claim-1", TTL) is Admission.CLAIMED
    assert await store.get(nonce) == "body-1" and await store.get(state) == "claim-1"
    assert await store.admit(nonce, "body-1", 60, state, "claim-2", TTL) is Admission.HELD, "WeChat's retry"
    assert await store.get(state) == "claim-1"
    assert await store.admit(nonce, "forged", 60, "msg-2:state", "claim-3", 60) is Admission.REPLAYED
    assert await store.admit(nonce, "forged", 60, state, "claim-3", 60) is Admission.REPLAYED
    assert await store.get("msg-2:state") is None and await store.get(nonce) == "body-1", "a replay writes nothing"
    await asyncio.sleep(PAST_TTL)
    assert await store.admit(nonce, "body-1", 60, state, "claim-4", 60) is Admission.CLAIMED, "the claim lapsed"
    assert await store.get(state) == "claim-4"
    await store.set(state, "done:reply", 60)
    assert await store.admit(nonce, "body-1", 60, state, "claim-5", 60) is Admission.HELD, "an outcome holds it"
    assert await store.get(state) == "done:reply"


async def test_admit(store: Store) -> None:
    await admit_one_message(store)


async def test_admit_without_a_nonce(store: Store) -> None:
    assert await store.admit(None, "", 60, "msg:state", "claim-1", 60) is Admission.CLAIMED
    assert await store.admit(None, "", 60, "msg:state", "claim-2", 60) is Admission.HELD
    assert await store.get("msg:state") == "claim-1"


def test_the_memory_store_admits_without_writing_a_claim_for_the_window_to_write_later() -> None:
    store = MemoryStore()
    assert store.admit_now("nonce", "body", 60, "msg:state", None, 60) is Admission.CLAIMED
    assert store.admit_now("nonce", "other", 60, "msg-2:state", "claim", 60) is Admission.REPLAYED, "nonce kept"
    assert store.admit_now("nonce", "body", 60, "msg:state", "claim", 60) is Admission.CLAIMED, "no claim written"
    assert store.admit_now("nonce", "body", 60, "msg:state", None, 60) is Admission.HELD


async def test_admit_records_a_nonce_whose_record_expired(store: Store) -> None:
    assert await store.admit("nonce", "old", TTL, "a:state", "claim", 60) is Admission.CLAIMED
    await asyncio.sleep(PAST_TTL)
    assert await store.admit("nonce", "new", 60, "b:state", "claim", 60) is Admission.CLAIMED
    assert await store.get("nonce") == "new"


class PrimitivesOnly(Store):
    """A custom store that implements only the abstract methods: it gets ``admit`` from the base class."""

    def __init__(self) -> None:
        self.inner = MemoryStore()

    async def get(self, key: str) -> str | None:
        return await self.inner.get(key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self.inner.set(key, value, ttl)

    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        return await self.inner.set_if_absent(key, value, ttl)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        return await self.inner.compare_and_delete(key, expected)

    async def renew(self, key: str, expected: str, ttl: float) -> bool:
        return await self.inner.renew(key, expected, ttl)


async def test_a_custom_store_admits_with_the_default() -> None:
    store = PrimitivesOnly()
    assert "admit" not in vars(PrimitivesOnly)
    await admit_one_message(store)
    assert await store.admit(None, "", 60, "other:state", "claim", 60) is Admission.CLAIMED


async def check_hash(store: Store) -> None:
    assert await store.hgetall("ledger") == {}
    await store.hset("ledger", "a", "1")
    await store.hset("ledger", "b:{x}:state", '{"json": "value"}')
    await store.hset("ledger", "a", "2")
    await store.hset("ledger-other", "c", "3")  # a key sharing the prefix is another hash
    await store.set("ledger.a", "plain")
    assert await store.hgetall("ledger") == {"a": "2", "b:{x}:state": '{"json": "value"}'}
    await store.hdel("ledger", "a")
    await store.hdel("ledger", "absent")
    assert await store.hgetall("ledger") == {"b:{x}:state": '{"json": "value"}'}
    assert await store.hgetall("ledger-other") == {"c": "3"}


async def test_hash_fields_are_set_listed_and_deleted(store: Store) -> None:
    await check_hash(store)


async def test_a_custom_store_keeps_hashes_with_the_default() -> None:
    store = PrimitivesOnly()
    assert "hset" not in vars(PrimitivesOnly)
    await check_hash(store)


async def test_admit_falls_back_to_what_the_process_saw(tmp_path: Path) -> None:
    """An outage between a message and its retry (or a forgery of it): the local store answers from the nonce
    and the claim that ``admit`` mirrored while the shared store was up."""
    path = tmp_path / "state.db"
    store = open_store(f"sqlite:///{path}?busy_timeout=0.2")
    assert await store.admit("nonce", "body", 60, "msg:state", "claim", 60) is Admission.CLAIMED
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        assert await store.admit("nonce", "forged", 60, "other:state", "claim", 60) is Admission.REPLAYED
        assert not store.healthy
        assert await store.admit("nonce", "body", 60, "msg:state", "claim", 60) is Admission.HELD
        assert await store.admit("nonce-2", "body-2", 60, "msg-2:state", "claim", 60) is Admission.CLAIMED
    finally:
        locker.execute("ROLLBACK")
        locker.close()
        await store.close()


async def test_redis_reloads_its_scripts_after_a_flush(redis_url: str) -> None:
    """Scripts go by SHA1; a server that lost its script cache (restarted, failed over) gets the source again."""
    await _empty_redis(redis_url)
    store = open_store(redis_url)
    client = redis.asyncio.from_url(redis_url)
    try:
        assert await store.admit("nonce", "body", 60, "msg:state", "claim", 60) is Admission.CLAIMED
        await client.script_flush()
        assert await store.admit("nonce", "forged", 60, "msg:state", "claim", 60) is Admission.REPLAYED
        await client.script_flush()
        assert await store.compare_and_delete("msg:state", "claim")
        assert store.healthy
    finally:
        await client.aclose()
        await store.close()


async def _connected_clients(client: Any) -> int:
    return sum(1 for line in (await client.client_list()) if line.get("name") != "wxhook-test-observer")


async def test_redis_commands_of_one_turn_share_one_pipeline(redis_url: str) -> None:
    """Hundreds of commands issued at once go out together: one connection, one round trip, not one each; a
    script the server lost is sent again by its source, and a command that fails fails alone."""
    await _empty_redis(redis_url)
    store = open_store(redis_url)
    observer = redis.asyncio.from_url(redis_url, decode_responses=True, client_name="wxhook-test-observer")
    try:
        await observer.rpush("a list", "x")
        await observer.script_flush()
        admitted = await asyncio.gather(
            *(store.admit(f"n:{i}", "digest", 60, f"m:{i}", "claim", 60) for i in range(200)))
        assert admitted == [Admission.CLAIMED] * 200
        assert await _connected_clients(observer) == 1
        wrong_type, *values = await asyncio.gather(
            store.shared.get("a list"),  # type: ignore[attr-defined]
            *(store.get(f"m:{i}") for i in range(200)), return_exceptions=True)
        assert isinstance(wrong_type, redis.exceptions.ResponseError) and "WRONGTYPE" in str(wrong_type)
        assert values == ["claim"] * 200
        assert await _connected_clients(observer) == 1
        assert await asyncio.gather(*(store.compare_and_delete(f"m:{i}", "claim") for i in range(200))) == [True] * 200
        assert await observer.dbsize() == 201  # the list and the 200 nonce records
    finally:
        await observer.aclose()
        await store.close()


async def test_redis_callers_that_give_up_stop_their_pipeline() -> None:
    """A Redis that accepts connections and never answers: each caller's own timeout ends its wait, and once every
    caller of a pipeline has given up, the pipeline stops too (no task, no connection left waiting forever)."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.read(1 << 16)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = RedisStore(f"redis://127.0.0.1:{port}/0", socket_timeout=None)
    try:
        results = await asyncio.gather(*(asyncio.wait_for(store.get(f"k{i}"), 0.2) for i in range(5)),
                                       return_exceptions=True)
        assert all(isinstance(r, asyncio.TimeoutError) for r in results)
        assert len(accepted) == 1  # the five commands were one pipeline
        await asyncio.sleep(0.05)
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    finally:
        await store.close()
        server.close()
        for writer in accepted:
            writer.close()
        await server.wait_closed()


async def test_redis_pipeline_abandoned_before_it_ran_takes_no_later_command(redis_url: str) -> None:
    """A caller cancelled in the very turn it queued its command (a timeout firing then) stops the pipeline before
    its task ever ran: the next command must go out in a pipeline of its own, not wait in the dead one."""
    store = RedisStore(redis_url, socket_timeout=None)
    try:
        await store.set("k", "v")
        call = store.get("k")
        waited_on = call.send(None)  # the command is queued, its pipeline's task not yet run
        waited_on.cancel()  # what Task.cancel does to the future a task waits on
        with pytest.raises(asyncio.CancelledError):
            call.throw(asyncio.CancelledError())
        assert await asyncio.wait_for(store.get("k"), 2) == "v"
    finally:
        await store.close()


async def test_sqlite_calls_queued_together_run_as_one_batch(tmp_path: Path) -> None:
    """While the store's thread is busy, calls queue up and then run in one transaction; one call that fails
    there fails alone, and the others still take effect, in the order they were made."""
    store = SQLiteStore(str(tmp_path / "state.db"))
    release = threading.Event()
    try:
        await store.set("warm", "up")
        busy = asyncio.ensure_future(store._run(_WRITE, lambda conn: release.wait(10)))
        await asyncio.sleep(0.01)
        calls = [
            store.set("a", "1"),
            store.set("\ud800", "a key SQLite cannot encode"),
            store.admit("nonce", "body", 60, "msg:state", "claim", 60),
            store.set_if_absent("a", "2"),
            store.get("a"),
        ]
        results = asyncio.gather(*calls, return_exceptions=True)
        await asyncio.sleep(0.01)
        release.set()
        assert await busy
        stored, failed, admitted, second, read = await results
        assert stored is None and isinstance(failed, UnicodeEncodeError)
        assert (admitted, second, read) == (Admission.CLAIMED, False, "1")
        assert await store.get("msg:state") == "claim"
    finally:
        release.set()
        await store.close()


def test_open_store_memory() -> None:
    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store(""), MemoryStore)
    assert isinstance(open_store("memory://"), MemoryStore)


async def test_open_store_sqlite_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"directory of the SQLite store 'data/rel.db' does not exist: create it"):
        open_store("sqlite:///data/rel.db")
    (tmp_path / "data").mkdir()
    store = open_store("sqlite:///data/rel.db")
    assert isinstance(store, ResilientStore) and isinstance(store.shared, SQLiteStore)
    await store.set("k", "v")
    await store.close()
    assert (tmp_path / "data" / "rel.db").is_file(), "relative to the cwd"


async def test_open_store_sqlite_absolute(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "abs.db"
    target.parent.mkdir()
    store = open_store(f"sqlite:///{target}")
    assert str(target).startswith("/")
    assert isinstance(store, ResilientStore) and isinstance(store.shared, SQLiteStore)
    await store.set("k", "v")
    await store.close()
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT value FROM wxhook_kv WHERE key = 'k'").fetchone() == ("v",)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite://host/x.db", "sqlite:x.db"])
def test_open_store_sqlite_without_path(url: str) -> None:
    with pytest.raises(ValueError, match="WXHOOK_STORE") as info:
        open_store(url)
    assert "sqlite:////absolute/path.db" in str(info.value)


@pytest.mark.parametrize("url", ["ftp://host/x", "state.db"])
def test_open_store_unknown_scheme(url: str) -> None:
    with pytest.raises(ValueError, match="WXHOOK_STORE") as info:
        open_store(url)
    assert "sqlite:///relative/path.db" in str(info.value)


@pytest.mark.parametrize("given", ["argument", "variable"])
def test_a_redis_url_without_redis_installed_says_what_to_install(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether store= or WXHOOK_STORE named it: the error names neither wrongly, nor shows the URL's password."""
    monkeypatch.setitem(sys.modules, "redis", None)  # an import of redis now fails, as when it is not installed
    url = "redis://:hunter2@127.0.0.1:1/0"
    if given == "variable":
        monkeypatch.setenv("WXHOOK_STORE", url)
    with pytest.raises(ImportError) as info:
        Bot(token="t", store=url if given == "argument" else None)
    assert str(info.value) == "a Redis store needs the redis package: pip install 'wxhook-mp[redis]'"


async def test_sqlite_unopenable_path_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match="does not exist"):
        SQLiteStore(str(tmp_path / "a-file" / "state.db"))
    (tmp_path / "a-directory.db").mkdir()
    store = SQLiteStore(str(tmp_path / "a-directory.db"))
    with pytest.raises(OSError, match="WXHOOK_STORE"):
        await store.get("k")
    await store.close()


async def test_sqlite_not_a_database_names_the_fix(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a database, but long enough to have a header " * 10)
    store = SQLiteStore(str(tmp_path / "notes.txt"))
    with pytest.raises(OSError, match="WXHOOK_STORE"):
        await store.get("k")
    await store.close()


async def test_sqlite_closed_store_refuses_calls(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "state.db"))
    await store.set("k", "v")
    await store.close()
    await store.close()
    with pytest.raises(RuntimeError, match="closed"):
        await store.get("k")


async def test_sqlite_uses_wal(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "state.db"))
    await store.set("k", "v")
    await store.close()
    with sqlite3.connect(tmp_path / "state.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_two_sqlite_stores_on_one_file_share_state(tmp_path: Path) -> None:
    a = SQLiteStore(str(tmp_path / "state.db"))
    b = SQLiteStore(str(tmp_path / "state.db"))
    try:
        await a.set("k", "from-a")
        assert await b.get("k") == "from-a"
        assert not await b.set_if_absent("k", "from-b")
        assert await b.compare_and_delete("k", "from-a")
        assert await a.get("k") is None
    finally:
        await a.close()
        await b.close()


async def test_sqlite_sweeps_expired_rows(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = SQLiteStore(str(path), sweep_every=16)

    def rows() -> int:
        with sqlite3.connect(path) as conn:
            count: int = conn.execute("SELECT count(*) FROM wxhook_kv").fetchone()[0]
        return count

    try:
        for i in range(10):
            await store.set(f"dead{i}", "x", ttl=TTL)
        await store.set("kept", "y")
        await asyncio.sleep(PAST_TTL)
        assert rows() == 11, "expired rows linger until a sweep"
        for _ in range(16):
            await store.set("live", "z", ttl=60)
        assert rows() == 2
        assert await store.get("kept") == "y"
    finally:
        await store.close()


async def test_a_sqlite_sweep_reads_the_next_slice_of_keys_and_goes_round_the_table(tmp_path: Path) -> None:
    """Each sweep reads 4 × sweep_every keys after where the last one stopped, never the whole table (a sweep
    over every row made each write of a busy bot slower as its windows filled); the next ones go on, then
    start again from the first key."""
    path = tmp_path / "state.db"
    store = SQLiteStore(str(path), sweep_every=4)  # a sweep every 4 writes reads 16 keys

    def keys() -> list[str]:
        with sqlite3.connect(path) as conn:
            return [key for (key,) in conn.execute("SELECT key FROM wxhook_kv ORDER BY key")]

    dead = [f"dead{i:02}" for i in range(40)]
    try:
        assert await store.get("open") is None  # creates the file and its table
        with sqlite3.connect(path) as conn:
            conn.executemany("INSERT INTO wxhook_kv VALUES (?, 'x', ?)", [(key, time.time() - 10) for key in dead])

        async def four_writes() -> None:
            for _ in range(4):
                await store.set("live", "y", ttl=60)

        await four_writes()
        assert keys() == [*dead[16:], "live"], "the first sweep reads the first 16 keys"
        await four_writes()
        assert keys() == [*dead[32:], "live"]
        await four_writes()
        assert keys() == ["live"], "the third reaches the last key"
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO wxhook_kv VALUES ('dead', 'x', ?)", (time.time() - 10,))
        await four_writes()  # past the last key: nothing read, the next sweep starts from the first
        assert keys() == ["dead", "live"]
        await four_writes()
        assert keys() == ["live"]
        assert await store.get("live") == "y"
    finally:
        await store.close()


# Cross-process tests. Workers run in spawned interpreters, so they are module-level functions.

_PROCESSES = 4
_INCREMENTS = 40


def _race_set_if_absent(url: str, me: int, start: Any, results: Any) -> None:
    async def main() -> bool:
        store = open_store(url)
        try:
            await store.get("warm-up")  # open the connection before the race, not during it
            start.wait()
            return await store.set_if_absent("winner", str(me), ttl=60)
        finally:
            await store.close()

    results.put((me, asyncio.run(main())))


def _race_admit(url: str, me: int, start: Any, results: Any) -> None:
    async def main() -> Admission:
        store = open_store(url)
        try:
            await store.get("warm-up")
            start.wait()
            return await store.admit("nonce", f"body-{me}", 60, "msg:state", f"claim-{me}", 60)
        finally:
            await store.close()

    results.put((me, asyncio.run(main())))


def _increment_under_lock(url: str, start: Any) -> None:
    async def main() -> None:
        store = open_store(url)
        try:
            start.wait()
            for _ in range(_INCREMENTS):
                async with store.lock("counter", wait=30):
                    value = int(await store.get("counter") or "0")
                    await asyncio.sleep(0.001)  # widen the read-modify-write window a lost update needs
                    await store.set("counter", str(value + 1))
                await asyncio.sleep(0.002)  # let the other process take the lock now and then
        finally:
            await store.close()

    asyncio.run(main())


def _join_all(processes: list[Any]) -> None:
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0] * len(processes)


@pytest.fixture(params=["sqlite", "redis"])
async def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store several processes can share."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("redis_url")
    await _empty_redis(url)
    return url


async def test_set_if_absent_has_one_winner_across_processes(shared_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(_PROCESSES)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=_race_set_if_absent, args=(shared_url, i, start, results)) for i in range(_PROCESSES)
    ]
    for p in processes:
        p.start()
    outcomes = dict(await asyncio.to_thread(lambda: [results.get(timeout=60) for _ in processes]))
    await asyncio.to_thread(_join_all, processes)
    winners = [me for me, won in outcomes.items() if won]
    assert len(winners) == 1
    store = open_store(shared_url)
    try:
        assert await store.get("winner") == str(winners[0])
    finally:
        await store.close()


async def test_admit_lets_one_body_through_across_processes(shared_url: str) -> None:
    """Four processes deliver four bodies under one nonce at once: one claims the message, three are replays."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(_PROCESSES)
    results = ctx.Queue()
    processes = [ctx.Process(target=_race_admit, args=(shared_url, i, start, results)) for i in range(_PROCESSES)]
    for p in processes:
        p.start()
    outcomes = dict(await asyncio.to_thread(lambda: [results.get(timeout=60) for _ in processes]))
    await asyncio.to_thread(_join_all, processes)
    winners = [me for me, admission in outcomes.items() if admission is Admission.CLAIMED]
    assert len(winners) == 1
    assert sorted(admission.name for admission in outcomes.values()) == ["CLAIMED"] + ["REPLAYED"] * 3
    store = open_store(shared_url)
    try:
        assert await store.get("nonce") == f"body-{winners[0]}"
        assert await store.get("msg:state") == f"claim-{winners[0]}"
    finally:
        await store.close()


async def test_lock_prevents_lost_updates_across_processes(shared_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    processes = [ctx.Process(target=_increment_under_lock, args=(shared_url, start)) for _ in range(2)]
    for p in processes:
        p.start()
    await asyncio.to_thread(_join_all, processes)
    store = open_store(shared_url)
    try:
        assert await store.get("counter") == str(2 * _INCREMENTS)
    finally:
        await store.close()


async def test_memory_store_sweeps_keys_that_are_never_read_again() -> None:
    store = MemoryStore()
    for i in range(5000):
        await store.set(f"retry-window:{i}", "x", ttl=1.0)
    await store.set("kept", "y")
    assert len(store) == 5001
    await asyncio.sleep(1.05)
    await store.set("one more write", "z", ttl=60)
    assert len(store) == 2
    for i in range(3000):  # rewriting one key with ever new expiries leaves stale sweep entries; they are compacted
        await store.set("rewritten", "v", ttl=60 + i)
    assert store._filed < 1100
    assert sum(map(len, store._slots.values())) == store._filed


async def test_hundreds_of_calls_at_once_all_complete(store: Store) -> None:
    """A busy worker has hundreds of store calls in flight (every waiting retry polls): none may fail for want of
    a connection, as redis-py's default pool made them past 100 ("Too many connections")."""
    await asyncio.gather(*(store.set(f"many:{i}", str(i), 10) for i in range(300)))
    assert await asyncio.gather(*(store.get(f"many:{i}") for i in range(300))) == [str(i) for i in range(300)]


def test_message_keys_are_spelled_as_stores_hold_them() -> None:
    keys = BotKeys("wx1").message("msg:1:00ab")
    assert (keys.state, keys.waiter, keys.delivered) == (
        "wxhook:{wx1:msg:1:00ab}:state", "wxhook:{wx1:msg:1:00ab}:waiter", "wxhook:{wx1:msg:1:00ab}:delivered"
    )
    long = BotKeys("wx1").message("event:o:1:VIEW:https://example.com/" + "a" * 100)
    assert long.delivered == "wxhook:{wx1:c9f57f4312e0d0c6d0b6e0131daabae002596450}:delivered"  # a URL, hashed
