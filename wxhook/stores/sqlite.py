"""SQLite store: one file shared by the uvicorn workers of one host.

SQLite's write lock is what makes ``set_if_absent``, ``compare_and_delete`` and ``admit`` atomic across
processes: every write runs inside a transaction that holds the lock from its first statement
(``BEGIN IMMEDIATE``), so no other worker can write between a check and its change.
WAL mode lets readers run while one worker writes, and the busy timeout makes a worker wait for the write
lock instead of failing, but only briefly (1 s, ``?busy_timeout=`` in the URL): a database another process
keeps locked is an outage to ride out (see ``ResilientStore``), not a reason to miss WeChat's window.
Expiry uses wall-clock time because the processes share the expiry stamps.
Locking relies on the file system, so the file must live on a local disk, not NFS or SMB.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, NamedTuple, ParamSpec, TypeVar, cast
from urllib.parse import parse_qsl

from ..config import ConfigError
from .base import Admission, Store

__all__ = ["SQLiteStore"]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_SCHEME = "sqlite://"
_URL_FORMS = "'sqlite:///relative/path.db' (from the working directory) or 'sqlite:////absolute/path.db'"
_BUSY_TIMEOUT = 1.0
_WAL_WAIT = 5.0  # only when the file is first opened, where waiting is harmless
_MIN_SQLITE = (3, 24, 0)  # upsert (INSERT ... ON CONFLICT DO UPDATE)

_SCHEMA = "CREATE TABLE IF NOT EXISTS wxhook_kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at REAL)"
_LIVE = "(expires_at IS NULL OR expires_at > ?)"
_GET = f"SELECT value FROM wxhook_kv WHERE key = ? AND {_LIVE}"
_UPSERT = (
    "INSERT INTO wxhook_kv (key, value, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at"
)
_SET_IF_ABSENT = f"{_UPSERT} WHERE wxhook_kv.expires_at IS NOT NULL AND wxhook_kv.expires_at <= ?"
_DELETE = "DELETE FROM wxhook_kv WHERE key = ?"
_COMPARE_AND_DELETE = f"DELETE FROM wxhook_kv WHERE key = ? AND value = ? AND {_LIVE}"
_RENEW = f"UPDATE wxhook_kv SET expires_at = ? WHERE key = ? AND value = ? AND {_LIVE}"
# A hash's fields are rows keyed "<hash key>\x1f<field>" without an expiry, listed by a range of the primary key.
_HASH_SEPARATOR, _HASH_END = "\x1f", "\x20"
_FIELDS = "SELECT key, value FROM wxhook_kv WHERE key > ? AND key < ?"
# A sweep reads the next slice of keys after the previous one's (in key order, through the primary key), not the
# whole table: a sweep over every row, with no index on the expiry, made each write of a busy bot slower as its
# retry and timestamp windows filled.
_SLICE_END = "SELECT max(key) FROM (SELECT key FROM wxhook_kv WHERE key > ? ORDER BY key LIMIT ?)"
_SWEEP = "DELETE FROM wxhook_kv WHERE key > ? AND key <= ? AND expires_at <= ?"
_SLICE_PER_WRITE = 4
"""Rows a sweep reads per write since the last one. A write adds at most two rows (a push's two writes add two),
so the sweeps go round the table faster than it fills: expired rows not yet swept stay under half of the file
(a quarter for pushes)."""


def _expiry(ttl: float | None, now: float) -> float | None:
    return None if ttl is None else now + ttl


_READ, _WRITE, _WRITES = 0, 1, 2
"""What a call does: reads, writes with one statement (atomic alone), or writes with several (atomic only in a
transaction)."""


class _Call(NamedTuple):
    """One store call queued for the store's thread, and where its outcome goes."""

    op: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    kind: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]


_Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


def _rollback(conn: sqlite3.Connection) -> None:
    """End a failed transaction; SQLite may have ended it already (a full disk, an I/O error)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _settle(outcomes: list[_Outcome]) -> None:
    """On the caller's event loop: hand each call its result (a caller that gave up has a done future)."""
    for future, value, error in outcomes:
        if future.done():
            continue
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL, retrying while other workers hold it.

    The switch needs an exclusive lock, and when several new workers open a fresh file together SQLite
    reports "database is locked" at once instead of calling the busy handler, so wait here instead.
    """
    deadline = time.monotonic() + _WAL_WAIT
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


class SQLiteStore(Store):
    """A store in one SQLite file, for several worker processes on one host.

    ``path`` is a file path (relative to the working directory, or absolute) in a directory that exists: a
    missing one is a ConfigError at construction, since creating it would hide a typo. As a URL, three slashes
    precede the path the SQLAlchemy way: ``sqlite:///state.db`` is relative, ``sqlite:////var/lib/x.db``
    absolute. All disk work runs on one private thread per store, so the event loop never waits on the disk;
    the connection is opened there on first use. Calls that queue up while the thread is busy run together,
    in order, in one transaction: a busy bot pays one commit and one wake-up of its event loop per batch
    instead of per call. Expired rows are invisible at once; every few hundred writes (``sweep_every``) a sweep
    deletes those among the next few thousand keys, going round the table: the file stays within twice the live
    keys' size, and a sweep costs the same however large the table is.
    """

    outage_errors = (sqlite3.Error, OSError)

    def __init__(self, path: str, *, sweep_every: int = 512, busy_timeout: float = _BUSY_TIMEOUT) -> None:
        if not path:
            raise ConfigError(f"SQLiteStore needs a file path; pass store= or WXHOOK_STORE as {_URL_FORMS}")
        if busy_timeout <= 0:
            raise ConfigError(f"busy_timeout must be a positive number of seconds, got {busy_timeout!r}")
        if not Path(path).parent.is_dir():
            raise ConfigError(
                f"the directory of the SQLite store {path!r} does not exist: create it (mkdir -p "
                f"{Path(path).parent}) or set store= / WXHOOK_STORE to a file in an existing directory"
            )
        self.path = path
        self.busy_timeout = busy_timeout
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()  # None: close
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None  # touched only on the store's thread
        self._writes = 0
        self._sweep_every = sweep_every
        """Delete expired rows once per this many writes."""
        self._closed = False
        self._swept_to = ""
        """The last key the previous sweep read ("": start again from the first)."""

    def may_pass(self, exc: Exception) -> bool:
        text = str(exc)
        return "locked" in text or "busy" in text or super().may_pass(exc)

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """The store a ``sqlite:///…`` URL names (see the class docstring for the slash convention)."""
        rest, _, query = (url[len(_SCHEME) :] if url.startswith(_SCHEME) else "").partition("?")
        if not rest.startswith("/") or len(rest) == 1:
            raise ConfigError(
                f"store URL {url!r} names no SQLite file; set store= or WXHOOK_STORE to {_URL_FORMS}"
            )
        options = dict(parse_qsl(query, keep_blank_values=True))
        if set(options) - {"busy_timeout"}:
            raise ConfigError(f"unknown option(s) in {url!r}; SQLite store URLs take busy_timeout (seconds)")
        try:
            busy_timeout = float(options.get("busy_timeout", _BUSY_TIMEOUT))
        except ValueError:
            raise ConfigError(f"busy_timeout in {url!r} must be a number of seconds") from None
        return cls(rest[1:], busy_timeout=busy_timeout)

    async def _run(
        self, kind: int, op: Callable[Concatenate[sqlite3.Connection, _P], _T], *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> _T:
        """Queue ``op(conn, *args)``, a ``kind`` of call (``_READ``…), for the store's thread and wait for its
        result."""
        if self._closed:
            raise RuntimeError(
                f"SQLiteStore({self.path!r}) is closed; open a new store instead of using one after close()"
            )
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._calls.put(_Call(op, args, kwargs, kind, loop, future))
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="wxhook-sqlite", daemon=True)
            self._thread.start()
        return cast(_T, await future)

    def _serve(self) -> None:
        """The store's thread: take every call queued so far, run them as one batch, until close."""
        calls = self._calls
        running = True
        while running:
            first = calls.get()
            if first is None:
                break
            batch = [first]
            while True:
                try:
                    call = calls.get_nowait()
                except queue.Empty:
                    break
                if call is None:
                    running = False
                    break
                batch.append(call)
            try:
                results = self._execute(batch)
            except Exception as exc:  # never let the thread die: every later call would wait forever
                results = [(None, exc)] * len(batch)
            outcomes: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
            for call, (value, error) in zip(batch, results, strict=True):
                outcomes.setdefault(call.loop, []).append((call.future, value, error))
            for loop, settled in outcomes.items():
                with contextlib.suppress(RuntimeError):  # the caller's loop has closed: nobody waits
                    loop.call_soon_threadsafe(_settle, settled)
        self._disconnect()

    def _execute(self, batch: list[_Call]) -> list[tuple[Any, BaseException | None]]:
        """Run a batch: reads, and a lone one-statement write, each on its own (autocommitted), other writes
        together in one transaction. Should a call fail inside the transaction, it is rolled back and every call
        runs alone, so one bad call fails only itself."""
        try:
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            kinds = {call.kind for call in batch}
            if kinds == {_READ} or (len(batch) == 1 and batch[0].kind == _WRITE):
                return [self._alone(conn, call) for call in batch]
            conn.execute("BEGIN IMMEDIATE")
        except Exception as exc:  # no connection, or the write lock stayed taken: every call fails alike
            return [(None, exc)] * len(batch)
        try:
            values = [call.op(conn, *call.args, **call.kwargs) for call in batch]
        except Exception as exc:
            _rollback(conn)
            if len(batch) == 1:
                return [(None, exc)]
            return [outcome for call in batch for outcome in self._execute([call])]
        try:
            conn.execute("COMMIT")
        except Exception as exc:
            _rollback(conn)
            return [(None, exc)] * len(batch)
        return [(value, None) for value in values]

    @staticmethod
    def _alone(conn: sqlite3.Connection, call: _Call) -> tuple[Any, BaseException | None]:
        try:
            return call.op(conn, *call.args, **call.kwargs), None
        except Exception as exc:
            return None, exc

    def _connect(self) -> sqlite3.Connection:
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise RuntimeError(
                f"SQLiteStore needs SQLite {'.'.join(map(str, _MIN_SQLITE))} or newer, but this Python links "
                f"{sqlite3.sqlite_version}; use a newer Python build, or set store= / WXHOOK_STORE to memory://"
            )
        conn: sqlite3.Connection | None = None
        try:
            # isolation_level=None: no transaction unless asked for; writes ask for one (_execute), reads need none
            # Opening may wait for workers creating the same file at the same moment; only then is the short
            # busy timeout of every later call set.
            conn = sqlite3.connect(self.path, timeout=_WAL_WAIT, isolation_level=None)
            _enable_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_SCHEMA)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        except (OSError, sqlite3.Error) as exc:
            if conn is not None:
                conn.close()
            raise OSError(
                f"cannot use {self.path!r} as the SQLite store ({exc}); point store= or WXHOOK_STORE at a "
                f"writable file on a local disk, new or made by wxhook, as {_URL_FORMS}"
            ) from exc
        return conn

    def _wrote(self, conn: sqlite3.Connection, now: float) -> None:
        """Count a write; every so often delete the expired rows of the next slice of keys."""
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            start = self._swept_to
            end = conn.execute(_SLICE_END, (start, _SLICE_PER_WRITE * self._sweep_every)).fetchone()[0]
            if end is not None:
                conn.execute(_SWEEP, (start, end, now))
            self._swept_to = end or ""  # past the last key: the next sweep starts again from the first

    def _get(self, conn: sqlite3.Connection, key: str) -> str | None:
        row = conn.execute(_GET, (key, time.time())).fetchone()
        return None if row is None else str(row[0])

    def _set(self, conn: sqlite3.Connection, key: str, value: str, ttl: float | None) -> None:
        now = time.time()
        conn.execute(_UPSERT, (key, value, _expiry(ttl, now)))
        self._wrote(conn, now)

    def _set_if_absent(self, conn: sqlite3.Connection, key: str, value: str, ttl: float | None) -> bool:
        now = time.time()
        stored = conn.execute(_SET_IF_ABSENT, (key, value, _expiry(ttl, now), now)).rowcount == 1
        self._wrote(conn, now)
        return stored

    def _delete(self, conn: sqlite3.Connection, key: str) -> None:
        conn.execute(_DELETE, (key,))

    def _compare_and_delete(self, conn: sqlite3.Connection, key: str, expected: str) -> bool:
        return conn.execute(_COMPARE_AND_DELETE, (key, expected, time.time())).rowcount == 1

    def _renew(self, conn: sqlite3.Connection, key: str, expected: str, ttl: float) -> bool:
        now = time.time()
        return conn.execute(_RENEW, (now + ttl, key, expected, now)).rowcount == 1

    def _admit(
        self, conn: sqlite3.Connection, nonce_key: str | None, digest: str, nonce_ttl: float, state_key: str,
        claim: str, lease: float,
    ) -> Admission:
        now = time.time()
        recorded = nonce_key is None or conn.execute(
            _SET_IF_ABSENT, (nonce_key, digest, now + nonce_ttl, now)
        ).rowcount == 1
        if not recorded:
            row = conn.execute(_GET, (nonce_key, now)).fetchone()
            if row is not None and row[0] != digest:
                return Admission.REPLAYED
        claimed = conn.execute(_SET_IF_ABSENT, (state_key, claim, now + lease, now)).rowcount == 1
        self._wrote(conn, now)
        return Admission.CLAIMED if claimed else Admission.HELD

    def _fields(self, conn: sqlite3.Connection, key: str) -> dict[str, str]:
        start = key + _HASH_SEPARATOR
        rows = conn.execute(_FIELDS, (start, key + _HASH_END)).fetchall()
        return {str(row[0])[len(start):]: str(row[1]) for row in rows}

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def get(self, key: str) -> str | None:
        return await self._run(_READ, self._get, key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self._run(_WRITE, self._set, key, value, ttl)

    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        return await self._run(_WRITE, self._set_if_absent, key, value, ttl)

    async def delete(self, key: str) -> None:
        await self._run(_WRITE, self._delete, key)

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        return await self._run(_WRITE, self._compare_and_delete, key, expected)

    async def renew(self, key: str, expected: str, ttl: float) -> bool:
        return await self._run(_WRITE, self._renew, key, expected, ttl)

    async def admit(
        self, nonce_key: str | None, digest: str, nonce_ttl: float, state_key: str, claim: str, lease: float
    ) -> Admission:
        return await self._run(_WRITES, self._admit, nonce_key, digest, nonce_ttl, state_key, claim, lease)

    async def hset(self, key: str, field: str, value: str) -> None:
        await self.set(key + _HASH_SEPARATOR + field, value)

    async def hdel(self, key: str, field: str) -> None:
        await self.delete(key + _HASH_SEPARATOR + field)

    async def hgetall(self, key: str) -> dict[str, str]:
        return await self._run(_READ, self._fields, key)

    async def close(self) -> None:
        """Let the thread finish the calls queued so far and close the connection; closing twice is fine."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None:
            self._calls.put(None)
            await asyncio.to_thread(self._thread.join)
