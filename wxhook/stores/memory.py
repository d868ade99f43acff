"""Process-local store: the default, right for one uvicorn worker."""

from __future__ import annotations

import heapq
import time

from .base import Store


class MemoryStore(Store):
    """A dict with expiry times. Atomic by construction: no await between check and write.

    Expired keys are dropped when read, and on every write the ones at the front of an expiry heap are
    swept, so keys that are never read again (most retry-window entries) cannot pile up.
    """

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._expiries: list[tuple[float, str]] = []

    def _live(self, key: str, now: float) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= now:
            del self._data[key]
            return None
        return value

    def _put(self, key: str, value: str, ttl: float | None, now: float) -> None:
        expires = None if ttl is None else now + ttl
        self._data[key] = (value, expires)
        if expires is not None:
            heapq.heappush(self._expiries, (expires, key))
        self._sweep(now)

    def _sweep(self, now: float) -> None:
        heap = self._expiries
        while heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            item = self._data.get(key)
            if item is not None and item[1] == expires:  # not rewritten since with another expiry
                del self._data[key]
        if len(heap) > 2 * len(self._data) + 1024:  # rewritten keys leave stale entries: rebuild now and then
            self._expiries = [(exp, k) for k, (_, exp) in self._data.items() if exp is not None]
            heapq.heapify(self._expiries)

    async def get(self, key: str) -> str | None:
        return self._live(key, time.monotonic())

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._put(key, value, ttl, time.monotonic())

    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        now = time.monotonic()
        if self._live(key, now) is not None:
            return False
        self._put(key, value, ttl, now)
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        if self._live(key, time.monotonic()) != expected:
            return False
        del self._data[key]
        return True

    async def renew(self, key: str, expected: str, ttl: float) -> bool:
        now = time.monotonic()
        if self._live(key, now) != expected:
            return False
        self._put(key, expected, ttl, now)
        return True

    def __len__(self) -> int:
        return len(self._data)
