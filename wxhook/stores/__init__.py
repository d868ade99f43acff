"""State stores chosen by URL: ``memory://`` (default) and ``sqlite:///path``."""

from __future__ import annotations

from .base import LockTimeout, Store
from .memory import MemoryStore

__all__ = ["LockTimeout", "MemoryStore", "Store", "open_store"]


def open_store(url: str | None) -> Store:
    """Build the store a ``store=`` argument or ``WXHOOK_STORE`` names."""
    if not url or url == "memory://":
        return MemoryStore()
    scheme = url.split("://", 1)[0] if "://" in url else ""
    raise ValueError(
        f"unsupported store URL {url!r} (scheme {scheme!r}); set store= or WXHOOK_STORE to "
        "'memory://' or 'sqlite:///path/to/file.db'"
    )
