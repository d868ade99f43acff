"""A shared store that a Redis or SQLite outage cannot silence: bounded calls, local fallback, self-healing.

Every call to the shared store is bounded by ``timeout`` so a message is still answered inside WeChat's
window. When the shared store fails or times out, the store switches to a process-local ``MemoryStore``
(local retry coalescing, locally cached credentials), logs one WARNING for the outage, and probes the shared
store in the background with a write every ``probe_interval``; the first probe that succeeds switches back
and logs one INFO. While
healthy, what this process reads and writes is mirrored locally, so an outage starts from what the process
last knew: the cached access token, the claims of messages in flight.

``fail_closed=True`` keeps the bounds but raises ``StoreUnavailable`` instead of falling back, for deployments
that would rather fail loudly than run with per-process state for a while.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ..timeouts import SharedTimeout
from .base import Admission, Store, StoreUnavailable
from .keys import health_key
from .memory import MemoryStore

__all__ = ["ResilientStore"]

logger = logging.getLogger("wxhook")

_T = TypeVar("_T")

_CHECK_GRACE = 10.0
"""How long the start-up check waits out errors that may pass (workers creating one SQLite file together, a
Redis still starting)."""

_MIRROR_TTL = 300.0
"""How long a value read from the shared store stays usable locally should the shared store go away."""


class ResilientStore(Store):
    """Wraps ``shared`` (what ``open_store`` does for Redis and SQLite URLs).

    ``name`` identifies the store in logs and errors (a URL without its password). ``timeout`` bounds each
    call, ``probe_interval`` spaces the recovery probes.
    """

    def __init__(
        self,
        shared: Store,
        *,
        name: str,
        timeout: float = 1.0,
        fail_closed: bool = False,
        probe_interval: float = 1.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"the store timeout must be a positive number of seconds, got {timeout}")
        self.shared = shared
        self.name = name
        self.fail_closed = fail_closed
        self.probe_interval = probe_interval
        self.outage_errors = (*shared.outage_errors, TimeoutError, asyncio.TimeoutError)
        self._bound = SharedTimeout(timeout)
        self._local = MemoryStore()
        self._down_since: float | None = None
        self._probe: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"ResilientStore({self.name!r})"

    def durable(self) -> Store:
        if self.fail_closed:
            return self
        return ResilientStore(self.shared, name=self.name, timeout=self.timeout, fail_closed=True,
                              probe_interval=self.probe_interval)

    @property
    def timeout(self) -> float:
        """Seconds each call to the shared store may take."""
        return self._bound.seconds

    @property
    def healthy(self) -> bool:
        return self._down_since is None

    async def _call(
        self,
        op: Callable[[Store], Awaitable[_T]],
        mirror: Callable[[_T], Awaitable[object]],
    ) -> _T:
        """Run ``op`` on the shared store within the timeout and mirror its effect locally; on an outage, run
        it on the local store instead (or raise, failing closed)."""
        if self.healthy or self.fail_closed:
            try:
                value = await self._bound.run(op(self.shared))
            except self.outage_errors as exc:
                self._went_down(exc)
                if self.fail_closed:
                    raise StoreUnavailable(
                        f"the store {self.name} did not answer within {self.timeout:g}s ({_describe(exc)}); "
                        "it is configured fail_closed, so nothing falls back to process-local state"
                    ) from exc
            else:
                await mirror(value)
                return value
        return await op(self._local)

    def _went_down(self, exc: BaseException) -> None:
        if self._down_since is not None:
            return
        self._down_since = time.monotonic()
        self._probe = asyncio.ensure_future(self._recover())
        if self.fail_closed:
            logger.warning("store %s is unavailable (%s); failing closed until it answers", self.name,
                           _describe(exc))
        else:
            logger.warning(
                "store %s is unavailable (%s); serving on process-local state (no coalescing across "
                "processes) until it answers again", self.name, _describe(exc),
            )

    async def _recover(self) -> None:
        """Write to the shared store until it takes the write, then go back to shared state."""
        while True:
            await asyncio.sleep(self.probe_interval)
            try:
                await asyncio.wait_for(self.shared.set(health_key(), "ok", 10.0), self.timeout)
            except self.outage_errors:
                continue
            except Exception:
                logger.exception("store %s: the recovery probe failed unexpectedly; probing on", self.name)
                continue
            if self._down_since is not None:
                logger.info("store %s answers again after %.1fs; back to shared state", self.name,
                            time.monotonic() - self._down_since)
            self._down_since = None
            return

    async def get(self, key: str) -> str | None:
        async def mirror(value: str | None) -> None:
            if value is None:
                await self._local.delete(key)
            else:
                await self._local.set(key, value, _MIRROR_TTL)

        return await self._call(lambda store: store.get(key), mirror)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self._call(lambda store: store.set(key, value, ttl), lambda _: self._local.set(key, value, ttl))

    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        async def mirror(stored: bool) -> None:
            if stored:
                await self._local.set(key, value, ttl)

        return await self._call(lambda store: store.set_if_absent(key, value, ttl), mirror)

    async def delete(self, key: str) -> None:
        await self._call(lambda store: store.delete(key), lambda _: self._local.delete(key))

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        return await self._call(
            lambda store: store.compare_and_delete(key, expected),
            lambda _: self._local.compare_and_delete(key, expected),
        )

    async def renew(self, key: str, expected: str, ttl: float) -> bool:
        return await self._call(
            lambda store: store.renew(key, expected, ttl),
            lambda _: self._local.renew(key, expected, ttl),
        )

    async def admit(
        self, nonce_key: str | None, digest: str, nonce_ttl: float, state_key: str, claim: str, lease: float
    ) -> Admission:
        async def mirror(admission: Admission) -> None:
            if admission is Admission.REPLAYED:
                return
            if nonce_key is not None:
                await self._local.set(nonce_key, digest, nonce_ttl)
            if admission is Admission.CLAIMED:
                await self._local.set(state_key, claim, lease)

        return await self._call(
            lambda store: store.admit(nonce_key, digest, nonce_ttl, state_key, claim, lease), mirror
        )

    async def hset(self, key: str, field: str, value: str) -> None:
        await self._call(lambda store: store.hset(key, field, value), lambda _: self._local.hset(key, field, value))

    async def hdel(self, key: str, field: str) -> None:
        await self._call(lambda store: store.hdel(key, field), lambda _: self._local.hdel(key, field))

    async def hgetall(self, key: str) -> dict[str, str]:
        async def keep(_: dict[str, str]) -> None:
            return None

        return await self._call(lambda store: store.hgetall(key), keep)

    async def check(self, key: str) -> None:
        """The start-up check runs on the shared store and never falls back: a store that cannot be written
        when the server starts is a configuration problem to fix now, not an outage to ride out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CHECK_GRACE
        while True:
            try:
                await asyncio.wait_for(self.shared.check(key), self.timeout + _CHECK_GRACE)
                return
            except self.outage_errors as exc:
                if loop.time() >= deadline or not self.shared.may_pass(exc):
                    raise StoreUnavailable(
                        f"the store {self.name} failed its start-up write check ({_describe(exc)}); point "
                        "store= or WXHOOK_STORE at a store this process can reach and write (a writable SQLite "
                        "file on a local disk, or a running Redis)"
                    ) from exc
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
        await self.shared.close()


def _describe(exc: BaseException) -> str:
    if str(exc):
        return f"{type(exc).__name__}: {exc}"
    return "timed out" if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) else type(exc).__name__
