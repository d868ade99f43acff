"""Process-local store: the default, right for one uvicorn worker."""

from __future__ import annotations

import time

from .base import Store

_SWEEP_EVERY = 1024


class MemoryStore(Store):
    """A dict with expiry times. Atomic by construction: no await between check and write."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._writes = 0

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
        self._data[key] = (value, None if ttl is None else now + ttl)
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Expired keys that are never read again would otherwise live forever."""
        dead = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for k in dead:
            del self._data[k]

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

    def __len__(self) -> int:
        return len(self._data)
