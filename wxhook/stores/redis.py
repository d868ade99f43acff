"""Redis store: state shared by every worker on every host that points at one Redis.

``SET NX PX`` makes set-if-absent atomic and short Lua scripts make compare-and-delete, renew and admit atomic,
which is all the token cache, retry coalescing and the store lock need. Scripts are sent by their SHA1
(``EVALSHA``), their source only when the server has not cached them yet. Redis expires keys itself, so nothing
is swept. Each command touches one key, or keys of one message, so the same code runs on a single server, behind
Sentinel and on a Cluster; only ``admit`` differs on a Cluster, where a nonce and a message live in different
slots (see ``RedisStore.admit``).

Timeouts are short (1 s to connect, 1.5 s per call by default): a Redis that hangs must not keep a follower's
message past WeChat's window. ``?socket_connect_timeout=`` changes the first; the store a URL opens bounds each
whole call (``?timeout=``, ``ResilientStore``) rather than each socket read and write, which in redis-py costs a
task per command; ``?socket_timeout=`` adds that bound too. The commands issued in one event-loop turn go out
as one pipeline (``pipelining.py``; one by one on a Cluster). One process keeps at most 32 pipelines or commands
in flight (``?max_connections=``, so at most that many connections), so a burst of messages queues for a
connection, in arrival order, instead of opening dozens at once.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from ..config import ConfigError
from ..loops import LoopBound
from .base import Admission, Store
from .pipelining import Pipeliner

URL_FORMS = (
    "'redis://host:6379/0', 'rediss://…' for TLS, 'unix:///path/redis.sock', "
    "'redis+sentinel://host:26379,host2:26379/service_name/0' or 'redis+cluster://host:7000,host2:7000'"
)
SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster")
_TIMEOUTS = ("socket_timeout", "socket_connect_timeout")
_DEFAULT_TIMEOUT = 1.0
_MAX_CONNECTIONS = 32


class _Script:
    """A Lua script and the SHA1 that ``EVALSHA`` names it by."""

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


_COMPARE_AND_DELETE = _Script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
""")

_RENEW = _Script("""
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
""")

# KEYS[1] the nonce, ARGV[1] the digest, ARGV[2] its TTL in ms: falls through unless the nonce holds another digest
_NONCE = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local seen = redis.call('GET', KEYS[1])
  if seen and seen ~= ARGV[1] then return 0 end
end
"""
_RECORD_NONCE = _Script(_NONCE + "return 1")
"""0: replayed, 1: recorded (now or before, with the same digest)."""
_ADMIT = _Script(_NONCE + """
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4]) then return 1 end
return 2
""")
"""KEYS[2] the state key, ARGV[3] the claim, ARGV[4] the lease in ms; 0: replayed, 1: claimed, 2: held."""
_ADMISSIONS = (Admission.REPLAYED, Admission.CLAIMED, Admission.HELD)


@dataclass(frozen=True)
class RedisTarget:
    """Where a Redis URL points: one server (``url`` as redis-py reads it), a Sentinel-watched master, or
    a Cluster's seed nodes; the store and the job queue connect from the same parsed form."""

    kind: str
    url: str = field(repr=False)  # it may carry the password
    nodes: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeouts: dict[str, float] = field(default_factory=dict)

    def connection_options(self, socket_timeout: float | None = _DEFAULT_TIMEOUT) -> dict[str, Any]:
        """Credentials and socket timeouts for redis-py clients: the URL's, else 1 s to connect and
        ``socket_timeout`` to read or write."""
        options: dict[str, Any] = {"socket_timeout": self.timeouts.get("socket_timeout", socket_timeout),
                                   "socket_connect_timeout": self.timeouts.get("socket_connect_timeout",
                                                                               _DEFAULT_TIMEOUT)}
        if self.username is not None:
            options["username"] = self.username
        if self.password is not None:
            options["password"] = self.password
        return options


def parse_redis_url(url: str) -> RedisTarget:
    """Check a Redis URL at construction, so a typo fails when the process starts, not at the first message."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme not in SCHEMES:
        raise ConfigError(f"not a Redis URL: {url!r}; set store= or WXHOOK_STORE to {URL_FORMS}")
    rest, _, query = url.split("://", 1)[1].partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    timeouts = {name: _seconds(url, name, options.get(name)) for name in _TIMEOUTS if name in options}
    if scheme in ("redis", "rediss", "unix"):
        return RedisTarget("single", url, timeouts=timeouts)
    unknown = sorted(set(options) - set(_TIMEOUTS))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} in {url!r}; {scheme} URLs take "
                          f"{' and '.join(_TIMEOUTS)}")
    userinfo, _, hosts = rest.partition("/")[0].rpartition("@")
    username, _, password = userinfo.partition(":")
    path = [part for part in rest.partition("/")[2].split("/") if part]
    nodes = tuple(_node(url, node, 26379 if scheme == "redis+sentinel" else 6379) for node in hosts.split(","))
    common: dict[str, Any] = {
        "url": url, "nodes": nodes, "username": unquote(username) or None,
        "password": unquote(password) or None, "timeouts": timeouts,
    }
    if scheme == "redis+cluster":
        if path:
            raise ConfigError(f"{url!r}: a Redis Cluster has only database 0; drop the path after the hosts")
        return RedisTarget("cluster", **common)
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ConfigError(f"{url!r} names no Sentinel service; write 'redis+sentinel://host:26379/service_name' "
                          "or '…/service_name/db'")
    return RedisTarget("sentinel", service=path[0], db=int(path[1]) if len(path) == 2 else 0, **common)


def _node(url: str, node: str, default_port: int) -> tuple[str, int]:
    host, _, port = node.rpartition(":") if ":" in node else (node, "", str(default_port))
    if not host or not port.isdigit():
        raise ConfigError(f"{url!r}: {node!r} is not host or host:port; list nodes as 'host:port,host2:port'")
    return host, int(port)


def _seconds(url: str, name: str, value: str | None) -> float:
    try:
        seconds = float(value or "")
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ConfigError(f"{name}={value!r} in {url!r} must be a positive number of seconds")
    return seconds


def connect(target: RedisTarget, socket_timeout: float | None = _DEFAULT_TIMEOUT) -> Any:
    """A redis-py asyncio client for ``target`` (a Redis, a Sentinel master or a RedisCluster), decoding
    replies to str. Its pool does not wait for a free connection: the caller keeps at most ``_MAX_CONNECTIONS``
    commands in flight (``RedisStore`` queues the rest itself)."""
    import redis.asyncio as aioredis
    from redis.asyncio.cluster import ClusterNode, RedisCluster
    from redis.asyncio.sentinel import Sentinel

    options = target.connection_options(socket_timeout)
    if target.kind == "cluster":
        nodes = [ClusterNode(host, port) for host, port in target.nodes]
        return RedisCluster(startup_nodes=nodes, decode_responses=True, **options)
    if target.kind == "sentinel":
        timeouts = {name: options[name] for name in _TIMEOUTS}  # Sentinels often have no password of their own
        # redis-py types Sentinel() from 8.2 on; before, the call is untyped
        sentinels = list(target.nodes)
        sentinel = Sentinel(sentinels, sentinel_kwargs=timeouts)  # type: ignore[no-untyped-call, unused-ignore]
        return sentinel.master_for(target.service, db=target.db, decode_responses=True, **options)
    pool = aioredis.ConnectionPool.from_url(
        target.url, decode_responses=True, max_connections=_MAX_CONNECTIONS, **options
    )
    return aioredis.Redis.from_pool(pool)


def _ms(ttl: float) -> int:
    return max(int(ttl * 1000), 1)


class _Client:
    """redis-py's client in one event loop, and the gate that admits at most ``_MAX_CONNECTIONS`` commands (or
    pipelines) at once, the others waiting in arrival order. redis-py's own blocking pool lets a late caller
    overtake those waiting, and under a burst some of them starve past its timeout. On a single server or a
    Sentinel master, the commands of one loop turn go out as one pipeline (``Pipeliner``); a Cluster's
    commands go one by one, each to its key's node."""

    __slots__ = ("gate", "pipeliner", "redis")

    def __init__(self, target: RedisTarget, socket_timeout: float | None) -> None:
        self.redis = connect(target, socket_timeout)
        # a single server's URL may set ?max_connections= for its pool; Sentinel and Cluster URLs cannot
        limit = self.redis.connection_pool.max_connections if target.kind == "single" else _MAX_CONNECTIONS
        self.gate = asyncio.Semaphore(limit)
        self.pipeliner = None if target.kind == "cluster" else Pipeliner(self.redis, self.gate)


class RedisStore(Store):
    """A store for several hosts. Needs redis-py: ``pip install 'wxhook-mp[redis]'``.

    The connection pool belongs to the event loop that first uses it; a store used from a new loop (a test
    serving the same bot twice) opens a new pool there.

    ``socket_timeout`` bounds each read and write when the URL sets no ``?socket_timeout=``. ``open_store``
    passes None: the ``ResilientStore`` it wraps around this one bounds every whole call already, and
    redis-py's own timeout costs a task per command it sends (``asyncio.wait_for``).
    """

    def __init__(self, url: str, *, socket_timeout: float | None = _DEFAULT_TIMEOUT) -> None:
        try:
            import redis.exceptions
        except ImportError:
            # Whether store= or WXHOOK_STORE named it, and the URL (its password) left out.
            raise ImportError("a Redis store needs the redis package: pip install 'wxhook-mp[redis]'") from None
        self.target = parse_redis_url(url)
        self.url = url
        self.outage_errors = (redis.exceptions.RedisError, redis.exceptions.RedisClusterException, OSError)
        self._passing = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._no_script = redis.exceptions.NoScriptError
        self._client: LoopBound[_Client] = LoopBound(lambda: _Client(self.target, socket_timeout))

    def may_pass(self, exc: Exception) -> bool:
        return isinstance(exc, self._passing) or super().may_pass(exc)

    async def _do(self, *args: Any) -> Any:
        """One command's reply, as ``redis.execute_command(*args)`` parses it."""
        loop = asyncio.get_running_loop()
        client = self._client.get(loop)
        if client.pipeliner is not None:
            return await client.pipeliner.execute(loop, *args)
        async with client.gate:
            return await client.redis.execute_command(*args)

    async def get(self, key: str) -> str | None:
        value = await self._do("GET", key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        if ttl is not None and ttl <= 0:  # already expired, as in the other stores
            await self._do("DEL", key)
        elif ttl is None:
            await self._do("SET", key, value)
        else:
            await self._do("SET", key, value, "PX", _ms(ttl))

    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        if ttl is not None and ttl <= 0:
            return not await self._do("EXISTS", key)
        if ttl is None:
            return bool(await self._do("SET", key, value, "NX"))
        return bool(await self._do("SET", key, value, "NX", "PX", _ms(ttl)))

    async def delete(self, key: str) -> None:
        await self._do("DEL", key)

    async def _script(self, script: _Script, keys: int, *keys_and_args: str | int) -> Any:
        """Run ``script`` by its SHA1, loading it first on a server that does not know it yet (just started,
        flushed, failed over)."""
        try:
            return await self._do("EVALSHA", script.sha, keys, *keys_and_args)
        except self._no_script:
            return await self._do("EVAL", script.source, keys, *keys_and_args)

    async def compare_and_delete(self, key: str, expected: str) -> bool:
        return bool(await self._script(_COMPARE_AND_DELETE, 1, key, expected))

    async def renew(self, key: str, expected: str, ttl: float) -> bool:
        return bool(await self._script(_RENEW, 1, key, expected, _ms(ttl)))

    async def admit(
        self, nonce_key: str | None, digest: str, nonce_ttl: float, state_key: str, claim: str, lease: float
    ) -> Admission:
        """One round trip, one atomic script; on a Cluster, where the nonce and the state key hash to different
        slots, two: the nonce's script, then the claim (only when the nonce passed)."""
        if nonce_key is None or self.target.kind == "cluster":
            if nonce_key is not None and not await self._script(_RECORD_NONCE, 1, nonce_key, digest, _ms(nonce_ttl)):
                return Admission.REPLAYED
            claimed = await self.set_if_absent(state_key, claim, lease)
            return Admission.CLAIMED if claimed else Admission.HELD
        code = await self._script(_ADMIT, 2, nonce_key, state_key, digest, _ms(nonce_ttl), claim, _ms(lease))
        return _ADMISSIONS[int(code)]

    async def hset(self, key: str, field: str, value: str) -> None:
        await self._do("HSET", key, field, value)

    async def hdel(self, key: str, field: str) -> None:
        await self._do("HDEL", key, field)

    async def hgetall(self, key: str) -> dict[str, str]:
        fields = await self._do("HGETALL", key)
        if isinstance(fields, dict):
            return {str(k): str(v) for k, v in fields.items()}
        pairs = list(fields or ())  # a reply the client left unparsed: name, value, name, value…
        return {str(pairs[i]): str(pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)}

    async def close(self) -> None:
        client = self._client.take()
        if client is not None:
            await client.redis.aclose()
