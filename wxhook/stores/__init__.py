"""State stores chosen by URL: ``memory://`` (default), ``sqlite:///path`` and ``redis://host``."""

from __future__ import annotations

from .base import LockTimeout, Store
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = ["LockTimeout", "MemoryStore", "SQLiteStore", "Store", "open_store"]


def open_store(url: str | None) -> Store:
    """Build the store a ``store=`` argument or ``WXHOOK_STORE`` names.

    ``sqlite:///state.db`` is relative to the working directory, ``sqlite:////var/lib/wxhook/state.db``
    absolute (three slashes, then the path); ``redis://``, ``rediss://`` and ``unix://`` URLs go to Redis.
    """
    if not url or url == "memory://":
        return MemoryStore()
    if url.startswith("sqlite:"):
        return SQLiteStore.from_url(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore  # redis-py is an optional dependency

        return RedisStore(url)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    raise ValueError(
        f"unsupported store URL {url!r} (scheme {scheme!r}); set store= or WXHOOK_STORE to "
        "'memory://', 'sqlite:///relative/path.db', 'sqlite:////absolute/path.db' or 'redis://host:6379/0'"
    )
