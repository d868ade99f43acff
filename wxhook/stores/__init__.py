"""State stores chosen by URL: ``memory://`` (default), ``sqlite:///path`` and ``redis://host``."""

from __future__ import annotations

from collections.abc import Callable

from ..config import ConfigError
from .base import LockTimeout, Store
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = ["LockTimeout", "MemoryStore", "SQLiteStore", "Store", "open_store"]


def _redis(url: str) -> Store:
    from .redis import RedisStore  # redis-py is an optional dependency

    return RedisStore(url)


# The one table of backends: a new store is a class and a line here.
_SCHEMES: dict[str, Callable[[str], Store]] = {
    "memory": lambda url: MemoryStore(),
    "sqlite": SQLiteStore.from_url,
    "redis": _redis,
    "rediss": _redis,
    "unix": _redis,
}


def open_store(url: str | None) -> Store:
    """Build the store a ``store=`` argument or ``WXHOOK_STORE`` names.

    ``sqlite:///state.db`` is relative to the working directory, ``sqlite:////var/lib/wxhook/state.db``
    absolute (three slashes, then the path); ``redis://``, ``rediss://`` and ``unix://`` URLs go to Redis.
    """
    if not url:
        return MemoryStore()
    scheme = url.split(":", 1)[0] if ":" in url else ""
    factory = _SCHEMES.get(scheme)
    if factory is None or (scheme == "memory" and url != "memory://"):
        raise ConfigError(
            f"unsupported store URL {url!r} (scheme {scheme!r}); set store= or WXHOOK_STORE to "
            "'memory://', 'sqlite:///relative/path.db', 'sqlite:////absolute/path.db' or 'redis://host:6379/0'"
        )
    return factory(url)
