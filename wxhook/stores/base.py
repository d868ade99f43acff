"""The one small async interface behind every piece of shared state.

The access-token cache, retry coalescing and sessions all need the same few primitives; keeping them
this small is what lets memory, SQLite and Redis back the same bot without the callers knowing which.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .keys import lock_key

__all__ = ["Admission", "LockTimeout", "Store", "StoreUnavailable"]


class LockTimeout(TimeoutError):
    """Raised when a store lock could not be taken within its wait time."""


class StoreUnavailable(ConnectionError):
    """The shared store did not answer in time or failed (only a ``fail_closed`` store, or the start-up
    check, raises it; otherwise the bot carries on with process-local state)."""


class Admission(enum.Enum):
    """What ``Store.admit`` found when a message arrived."""

    REPLAYED = "replayed"
    """The nonce was already recorded with another body's digest: a replayed or forged push; nothing written."""
    CLAIMED = "claimed"
    """The message's state key was free and now holds this caller's claim: run the handler."""
    HELD = "held"
    """The state key was taken: another delivery of the message holds the claim, or its outcome is stored."""


class Store(abc.ABC):
    """Async key/value store with TTLs, atomic set-if-absent and compare-and-delete.

    Values are strings; TTLs are seconds (``None`` keeps the key until deleted). Every backend must make
    ``set_if_absent`` and ``compare_and_delete`` atomic across all processes that share it: the locks and the
    token cache's "only drop the token that failed" rule are built on exactly these two operations.

    ``admit`` is the one compound operation: what every incoming message needs (its nonce recorded, then its
    claim taken) in one call, because on a shared store each call is a thread hop or a network round trip. The
    default here composes it from the primitives, so a custom store works without it; the built-in backends
    override it to do it in one call, atomically where the backend allows.
    """

    outage_errors: tuple[type[Exception], ...] = (OSError,)
    """The exceptions that mean "the store cannot be reached or written right now" (not a wxhook bug):
    what ``ResilientStore`` rides out on process-local state."""

    def may_pass(self, exc: Exception) -> bool:
        """Whether an outage error may go away by itself soon (a lock held, a server starting): the start-up
        check waits those out for a few seconds instead of failing at once."""
        return isinstance(exc, (TimeoutError, asyncio.TimeoutError, ConnectionError))

    def durable(self) -> Store:
        """This store for data that must not live only in this process (a platform's refresh tokens): a store
        that would fall back to process-local state during an outage raises instead (``StoreUnavailable``)."""
        return self

    @property
    def healthy(self) -> bool:
        """False while the shared store is out and this process runs on local state (see ResilientStore)."""
        return True

    async def check(self, key: str) -> None:
        """Write, read back and delete ``key``: the start-up check that the store is really writable."""
        token = secrets.token_hex(8)
        await self.set(key, token, 60)
        if await self.get(key) != token or not await self.compare_and_delete(key, token):
            raise StoreUnavailable(f"{self!r} did not keep a value written by the start-up check")

    @abc.abstractmethod
    async def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""

    @abc.abstractmethod
    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store unconditionally, replacing any value and TTL."""

    @abc.abstractmethod
    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Store only when the key is absent or expired; True when this call stored it."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the key; absent keys are fine."""

    @abc.abstractmethod
    async def compare_and_delete(self, key: str, expected: str) -> bool:
        """Remove the key only while it still holds ``expected``; True when removed."""

    @abc.abstractmethod
    async def renew(self, key: str, expected: str, ttl: float) -> bool:
        """Give the key a new TTL only while it still holds ``expected``; True when renewed. A lease's heartbeat:
        the holder keeps its claim alive, and never extends a claim someone else has since taken."""

    async def admit(
        self, nonce_key: str | None, digest: str, nonce_ttl: float, state_key: str, claim: str, lease: float
    ) -> Admission:
        """Record ``nonce_key`` → ``digest`` for ``nonce_ttl`` seconds unless it is recorded already (with the same
        digest it is WeChat's retry and passes; with another, REPLAYED and nothing is written), then take
        ``state_key`` with ``claim`` for ``lease`` seconds if it is absent (CLAIMED) or leave it (HELD).
        ``nonce_key=None`` skips the nonce. TTLs are positive."""
        if (
            nonce_key is not None
            and not await self.set_if_absent(nonce_key, digest, nonce_ttl)
            and await self.get(nonce_key) not in (digest, None)  # None: it expired in between, as good as new
        ):
            return Admission.REPLAYED
        return Admission.CLAIMED if await self.set_if_absent(state_key, claim, lease) else Admission.HELD

    async def hset(self, key: str, field: str, value: str) -> None:
        """Store ``field`` → ``value`` in the hash ``key`` (kept until deleted): a small set of records every
        process can list (``hgetall``), such as the messages handed over for another worker to finish.

        The default keeps the hash as one JSON value under a store lock; the built-in backends override the three
        hash operations with native ones."""
        async with self.lock(key):
            fields = await self.hgetall(key)
            fields[field] = value
            await self.set(key, json.dumps(fields))

    async def hdel(self, key: str, field: str) -> None:
        """Remove ``field`` from the hash ``key``; an absent one is fine."""
        async with self.lock(key):
            fields = await self.hgetall(key)
            if fields.pop(field, None) is not None:
                await self.set(key, json.dumps(fields))

    async def hgetall(self, key: str) -> dict[str, str]:
        """Every field of the hash ``key`` (empty when there is none)."""
        stored = await self.get(key)
        try:
            fields = json.loads(stored) if stored else {}
        except ValueError:
            return {}
        return {str(k): v for k, v in fields.items() if isinstance(v, str)} if isinstance(fields, dict) else {}

    async def close(self) -> None:  # noqa: B027 - backends without resources need no close
        """Release connections; called on ASGI lifespan shutdown."""

    @asynccontextmanager
    async def lock(self, name: str, *, ttl: float = 30.0, wait: float = 10.0) -> AsyncIterator[None]:
        """Mutual exclusion across every process sharing this store.

        ``ttl`` bounds how long a crashed holder can block others; ``wait`` bounds how long we queue.
        Release is compare-and-delete with a private token, so a holder whose lock expired never
        releases the lock someone else has since taken.
        """
        key = lock_key(name)
        token = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        delay = 0.005
        while not await self.set_if_absent(key, token, ttl):
            if loop.time() >= deadline:
                raise LockTimeout(
                    f"could not take store lock {name!r} within {wait:g}s; another process holds it "
                    f"(it expires after {ttl:g}s if that process died)"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            await self.compare_and_delete(key, token)
