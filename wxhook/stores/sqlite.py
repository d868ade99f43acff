"""SQLite store: one file shared by the uvicorn workers of one host.

SQLite's write lock is what makes ``set_if_absent`` and ``compare_and_delete`` atomic across processes:
each is a single autocommitted statement, so no other worker can write between its check and its change.
WAL mode lets readers run while one worker writes, and the busy timeout makes a worker wait for the write
lock instead of failing, but only briefly (1 s, ``?busy_timeout=`` in the URL): a database another process
keeps locked is an outage to ride out (see ``ResilientStore``), not a reason to miss WeChat's window.
Expiry uses wall-clock time because the processes share the expiry stamps.
Locking relies on the file system, so the file must live on a local disk, not NFS or SMB.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar
from urllib.parse import parse_qsl

from ..config import ConfigError
from .base import Store

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
_SWEEP = "DELETE FROM wxhook_kv WHERE expires_at <= ?"


def _expiry(ttl: float | None, now: float) -> float | None:
    return None if ttl is None else now + ttl


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
    the connection is opened there on first use. Expired rows are invisible at once and deleted every
    few hundred writes, so the file stays as small as the live keys.
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
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wxhook-sqlite")
        self._conn: sqlite3.Connection | None = None  # touched only on the executor's thread
        self._writes = 0
        self._sweep_every = sweep_every
        """Delete expired rows once per this many writes."""
        self._closed = False

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
        self, op: Callable[Concatenate[sqlite3.Connection, _P], _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        if self._closed:
            raise RuntimeError(
                f"SQLiteStore({self.path!r}) is closed; open a new store instead of using one after close()"
            )
        call = functools.partial(self._on_thread, op, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def _on_thread(
        self, op: Callable[Concatenate[sqlite3.Connection, _P], _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        if self._conn is None:
            self._conn = self._connect()
        return op(self._conn, *args, **kwargs)

    def _connect(self) -> sqlite3.Connection:
        if sqlite3.sqlite_version_info < _MIN_SQLITE:
            raise RuntimeError(
                f"SQLiteStore needs SQLite {'.'.join(map(str, _MIN_SQLITE))} or newer, but this Python links "
                f"{sqlite3.sqlite_version}; use a newer Python build, or set store= / WXHOOK_STORE to memory://"
            )
        conn: sqlite3.Connection | None = None
        try:
            # isolation_level=None: every statement commits on its own, which is what makes each one atomic
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
        """Count a write; every so often delete expired rows that nobody will read again."""
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            conn.execute(_SWEEP, (now,))

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

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def get(self, key: str) -> str | None:
        return await self._run(self._get, key)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self._run(self._set, key, value, ttl)

    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        return await self._run(self._set_if_absent, key, value, ttl)

    async def delete(self, key: str) -> None:
        await self._run(self._delete, key)

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        return await self._run(self._compare_and_delete, key, expected)

    async def renew(self, key: str, expected: str, ttl: float) -> bool:
        return await self._run(self._renew, key, expected, ttl)

    async def close(self) -> None:
        """Close the connection on its thread, then end the thread; closing twice is fine."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)
        self._executor.shutdown(wait=True)
