"""Process-local store: the default, right for one uvicorn worker."""

from __future__ import annotations

import heapq
import math
import time

from .base import Admission, Store

__all__ = ["MemoryStore"]

_SLOTS_PER_SECOND = 100
"""Expiry times are grouped into slots of 10 ms for sweeping: a key outlives its expiry in memory by at most
that (reads check the exact time, so nobody sees it), and a whole slot is swept at once."""


class MemoryStore(Store):
    """A dict with expiry times. Atomic by construction: no await between check and write.

    Expired keys are dropped when read, and swept on writes, so keys that are never read again (most
    retry-window entries) cannot pile up. The sweep works on slots, not on single keys: a write files its key
    under the 10 ms slot of its expiry (a list append: most keys of one slot arrive together, written with the
    same TTL), and once a slot lies wholly in the past its keys are dropped in one pass. Only slots, far fewer
    than keys, go through a heap, which a per-key heap made the dominant cost of a write.
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget every key and hash: the empty store a test starts from (the ``bot_client`` fixture's doing)."""
        self._data: dict[str, tuple[str, float | None]] = {}
        self._slots: dict[int, list[str]] = {}
        """Slot number → the keys whose expiry fell in it when written (some since rewritten or deleted)."""
        self._due: list[int] = []
        """A heap of the slot numbers in ``_slots``."""
        self._next_sweep = math.inf
        """When the earliest slot lies wholly in the past."""
        self._filed = 0
        """Keys filed in slots, stale ones included: past twice the live keys, the slots are rebuilt."""
        self._hashes: dict[str, dict[str, str]] = {}

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
        if ttl is None:
            self._data[key] = (value, None)
        else:
            expires = now + ttl
            self._data[key] = (value, expires)
            slot = int(expires * _SLOTS_PER_SECOND)
            keys = self._slots.get(slot)
            if keys is None:
                self._open_slot(slot, key)
            else:
                keys.append(key)
            self._filed += 1
            if self._filed > 2 * len(self._data) + 1024:  # rewritten and deleted keys leave stale entries
                self._refile()
        if now >= self._next_sweep:
            self._sweep(now)

    def _open_slot(self, slot: int, key: str) -> None:
        self._slots[slot] = [key]
        heapq.heappush(self._due, slot)
        if self._due[0] == slot:
            self._next_sweep = (slot + 1) / _SLOTS_PER_SECOND

    def _sweep(self, now: float) -> None:
        past = int(now * _SLOTS_PER_SECOND)  # slots below this one hold only expiries before now
        due, slots, data = self._due, self._slots, self._data
        while due and due[0] < past:
            keys = slots.pop(heapq.heappop(due))
            self._filed -= len(keys)
            for key in keys:
                item = data.get(key)
                if item is not None and item[1] is not None and item[1] <= now:
                    del data[key]
        self._next_sweep = (due[0] + 1) / _SLOTS_PER_SECOND if due else math.inf

    def _refile(self) -> None:
        self._slots = {}
        for key, (_, expires) in self._data.items():
            if expires is not None:
                self._slots.setdefault(int(expires * _SLOTS_PER_SECOND), []).append(key)
        self._due = list(self._slots)
        heapq.heapify(self._due)
        self._filed = sum(map(len, self._slots.values()))
        self._next_sweep = (self._due[0] + 1) / _SLOTS_PER_SECOND if self._due else math.inf

    async def get(self, key: str) -> str | None:
        return self._live(key, time.monotonic())

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._put(key, value, ttl, time.monotonic())

    def set_now(self, key: str, value: str, ttl: float | None = None) -> None:
        """``set`` without the await: for the reply window, which writes every message's outcome here."""
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

    async def admit(
        self, nonce_key: str | None, digest: str, nonce_ttl: float, state_key: str, claim: str, lease: float
    ) -> Admission:
        return self.admit_now(nonce_key, digest, nonce_ttl, state_key, claim, lease)

    def admit_now(
        self, nonce_key: str | None, digest: str, nonce_ttl: float, state_key: str, claim: str | None, lease: float
    ) -> Admission:
        """``admit`` without the await: a dict needs no coroutine around it, and every message comes through here.
        Without a ``claim``, a message found unclaimed is CLAIMED but nothing is written: the caller writes its claim
        before anything else can run (the reply window, once a handler waits; most never do)."""
        now = time.monotonic()
        if nonce_key is not None:
            seen = self._live(nonce_key, now)
            if seen is None:
                self._put(nonce_key, digest, nonce_ttl, now)
            elif seen != digest:
                return Admission.REPLAYED
        if self._live(state_key, now) is not None:
            return Admission.HELD
        if claim is not None:
            self._put(state_key, claim, lease, now)
        return Admission.CLAIMED

    async def hset(self, key: str, field: str, value: str) -> None:
        self._hashes.setdefault(key, {})[field] = value

    async def hdel(self, key: str, field: str) -> None:
        fields = self._hashes.get(key)
        if fields is not None:
            fields.pop(field, None)
            if not fields:
                del self._hashes[key]

    async def hgetall(self, key: str) -> dict[str, str]:
        return dict(self._hashes.get(key, {}))

    def __len__(self) -> int:
        return len(self._data)
