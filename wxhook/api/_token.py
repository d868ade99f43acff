"""Shared, self-healing credentials: the access token and the JS-SDK / card tickets.

Every process that shares the store shares one value per key. A miss is filled by exactly one fetch:
an asyncio lock serialises callers inside this process, the store lock serialises processes, and a read
after each lock makes the waiters pick up what the winner stored instead of fetching again.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..loops import LoopBound
from ..stores import Store
from ._errors import UnexpectedAnswerError
from ._transport import Fields

__all__ = ["AccessToken"]


@dataclass(frozen=True)
class AccessToken:
    """A credential and its lifetime in seconds, as WeChat (or a ``token_provider``) hands it out; the repr
    leaves out the value."""

    value: str = field(repr=False)
    expires_in: float


def issued(data: Fields, key: str) -> AccessToken:
    """The credential under ``key`` (``access_token``, ``ticket``) and its ``expires_in`` (7200 s when absent).

    A token that is not a non-empty string, or a lifetime that is not a positive number, would be cached and
    then fail every call; refusing it here names the real problem, without echoing the value.
    """
    value = data[key]
    if not isinstance(value, str) or not value:
        raise UnexpectedAnswerError(data.path, f"a `{key}` that is not a non-empty string")
    lifetime = data.get("expires_in", 7200)
    try:
        seconds = float(lifetime) if not isinstance(lifetime, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        problem = f"an `expires_in` that is not a positive number ({str(lifetime)[:20]!r})"
        raise UnexpectedAnswerError(data.path, problem)
    return AccessToken(value, seconds)


Fetcher = Callable[[str | None], Awaitable[AccessToken]]
"""Gets a fresh value; receives the value that just failed (or None), so a central service can renew it."""


class CachedCredential:
    """One store key holding a credential, refreshed ``margin`` seconds before WeChat would expire it."""

    def __init__(
        self, store: Store, key: Callable[[], str], fetch: Fetcher, *, margin: float, lock_wait: float
    ) -> None:
        self._store = store
        self._key = key
        self._fetch = fetch
        self._margin = margin
        self._lock_wait = lock_wait
        self._stale: str | None = None
        self._lock = LoopBound(asyncio.Lock)
        self.fetches = 0
        """How many times this process fetched the credential from WeChat (for metrics)."""

    def ttl(self, expires_in: float) -> float:
        """Keep it for ``expires_in`` minus the margin, and never for less than half its life."""
        return expires_in - min(self._margin, expires_in / 2)

    async def get(self) -> str:
        key = self._key()
        value = await self._store.get(key)
        if value is not None:
            return value
        async with self._lock.get():
            value = await self._store.get(key)
            if value is not None:
                return value
            async with self._store.lock(key, ttl=self._lock_wait * 2, wait=self._lock_wait):
                value = await self._store.get(key)
                if value is not None:
                    return value
                fresh = await self._fetch(self._stale)
                self.fetches += 1
                await self._store.set(key, fresh.value, ttl=self.ttl(fresh.expires_in))
                self._stale = None
                return fresh.value

    async def invalidate(self, value: str) -> None:
        """Drop the cached value only while it is still the one that failed: a newer one stays."""
        self._stale = value
        await self._store.compare_and_delete(self._key(), value)
