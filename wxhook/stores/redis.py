"""Redis store: state shared by every worker on every host that points at one Redis.

``SET NX PX`` makes set-if-absent atomic and a one-line Lua script makes compare-and-delete atomic, which is
all the token cache, retry coalescing and the store lock need. Redis expires keys itself, so nothing is swept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._util import LoopBound
from ..config import ConfigError
from .base import Store

if TYPE_CHECKING:
    from redis.asyncio import Redis

_URL_FORMS = "'redis://host:6379/0', 'rediss://…' for TLS, or 'unix:///path/redis.sock'"
_COMPARE_AND_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


_MAX_CONNECTIONS = 100  # per worker process
_CONNECTION_WAIT = 20.0  # seconds a command waits for a free connection before failing


def _ms(ttl: float) -> int:
    return max(int(ttl * 1000), 1)


class RedisStore(Store):
    """A store for several hosts. Needs redis-py: ``pip install 'wxhook[redis]'``.

    The connection pool belongs to the event loop that first uses it; a store used from a new loop (a test
    serving the same bot twice) opens a new pool there.
    """

    def __init__(self, url: str) -> None:
        try:
            import redis.asyncio
        except ImportError:
            raise ImportError(
                f"WXHOOK_STORE={url!r} needs the redis package: pip install 'wxhook[redis]'"
            ) from None
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"not a Redis URL: {url!r}; set store= or WXHOOK_STORE to {_URL_FORMS}")
        self.url = url
        self._module = redis.asyncio
        self._client: LoopBound[Redis] = LoopBound(self._connect)

    def _connect(self) -> Redis:
        """A pool that makes a command wait for a free connection: redis-py's default pool fails it at once
        ("Too many connections") past 100 in use, which a busy worker reaches (every waiting retry polls)."""
        pool = self._module.BlockingConnectionPool.from_url(
            self.url, decode_responses=True, max_connections=_MAX_CONNECTIONS, timeout=_CONNECTION_WAIT)
        return self._module.Redis.from_pool(pool)

    def _redis(self) -> Redis:
        return self._client.get()

    async def get(self, key: str) -> str | None:
        value: Any = await self._redis().get(key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:  # already expired, as in the other stores
            await self._redis().delete(key)
        else:
            await self._redis().set(key, value, px=None if ttl is None else _ms(ttl))

    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        if ttl is not None and ttl <= 0:
            return not await self._redis().exists(key)
        return bool(await self._redis().set(key, value, nx=True, px=None if ttl is None else _ms(ttl)))

    async def delete(self, key: str) -> None:
        await self._redis().delete(key)

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        removed: Any = await self._redis().eval(_COMPARE_AND_DELETE, 1, key, expected)
        return bool(removed)

    async def renew(self, key: str, expected: str, ttl: float) -> bool:
        renewed: Any = await self._redis().eval(_RENEW, 1, key, expected, _ms(ttl))
        return bool(renewed)

    async def close(self) -> None:
        client = self._client.take()
        if client is not None:
            await client.aclose()
