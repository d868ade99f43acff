"""State stores chosen by URL: ``memory://`` (default), ``sqlite:///path`` and the Redis family.

Shared stores (SQLite, Redis) opened from a URL come wrapped in a ``ResilientStore``: every call bounded, and
an outage ridden out on process-local state. Two URL options belong to that wrapper, not to the backend:
``fail_closed=true`` (raise instead of falling back) and ``timeout=`` (seconds per call).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from ..config import ConfigError
from ..logs import without_password
from . import base, memory, resilient, sqlite
from .base import *  # noqa: F403 - each module's __all__ is its share of the stores' names
from .base import Store
from .memory import *  # noqa: F403
from .memory import MemoryStore
from .resilient import *  # noqa: F403
from .resilient import ResilientStore
from .sqlite import *  # noqa: F403
from .sqlite import SQLiteStore

__all__ = [*base.__all__, *memory.__all__, *resilient.__all__, *sqlite.__all__, "open_store"]

_URL_FORMS = (
    "'memory://', 'sqlite:///relative/path.db', 'sqlite:////absolute/path.db', 'redis://host:6379/0' "
    "(also rediss://, unix://, redis+sentinel://, redis+cluster://)"
)
_REDIS_TIMEOUT = 1.5
_WRAPPER_OPTIONS = ("fail_closed", "timeout")


def _redis(url: str) -> Store:
    from .redis import RedisStore  # redis-py is an optional dependency

    return RedisStore(url, socket_timeout=None)  # open_store wraps it in a ResilientStore, which bounds each call


# The one table of backends: a new store is a class and a line here.
_SCHEMES: dict[str, Callable[[str], Store]] = {
    "memory": lambda url: MemoryStore(),
    "sqlite": SQLiteStore.from_url,
    "redis": _redis,
    "rediss": _redis,
    "unix": _redis,
    "redis+sentinel": _redis,
    "redis+cluster": _redis,
}


def open_store(store: str | Store | None, *, fail_closed: bool | None = None) -> Store:
    """The store a ``store=`` argument or ``WXHOOK_STORE`` names: a ``Store`` is used as it is, a URL opened.

    ``sqlite:///state.db`` is relative to the working directory, ``sqlite:////var/lib/wxhook/state.db``
    absolute (three slashes, then the path); ``redis://``, ``rediss://``, ``unix://``, ``redis+sentinel://``
    and ``redis+cluster://`` URLs go to Redis. ``fail_closed`` overrides the URL's ``fail_closed`` option.
    """
    if isinstance(store, Store):
        return store
    if store is not None and not isinstance(store, str):
        raise ConfigError(f"store= takes a Store or a store URL such as {_URL_FORMS}, got {type(store).__name__}")
    if not store:
        return MemoryStore()
    scheme = store.split(":", 1)[0] if ":" in store else ""
    factory = _SCHEMES.get(scheme)
    if factory is None or (scheme == "memory" and store != "memory://"):
        raise ConfigError(
            f"unsupported store URL {store!r} (scheme {scheme!r}); set store= or WXHOOK_STORE to {_URL_FORMS}"
        )
    url, options = _split_options(store)
    backend = factory(url)
    if isinstance(backend, MemoryStore):
        return backend
    closed = options.get("fail_closed", "false").lower() in ("1", "true", "yes")
    default = backend.busy_timeout + 0.5 if isinstance(backend, SQLiteStore) else _REDIS_TIMEOUT
    try:
        timeout = float(options.get("timeout", default))
    except ValueError:
        raise ConfigError(f"timeout= in store URL {without_password(store)!r} must be a number of seconds") from None
    return ResilientStore(backend, name=without_password(url), timeout=timeout,
                          fail_closed=closed if fail_closed is None else fail_closed)


def _split_options(url: str) -> tuple[str, dict[str, str]]:
    """The URL without the wrapper's own query options, and those options."""
    base, _, query = url.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    options = {name: value for name, value in pairs if name in _WRAPPER_OPTIONS}
    rest = [(name, value) for name, value in pairs if name not in _WRAPPER_OPTIONS]
    return (f"{base}?{urlencode(rest)}" if rest else base), options

