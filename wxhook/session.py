"""Per-follower conversation state, kept in the bot's store between messages.

A session is loaded before the handler runs and written back afterwards only when its JSON form changed, so
handlers that never touch it cost one store read and no write. Values must be JSON-serialisable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from typing import Any

from .stores import Store


class Session(MutableMapping[str, Any]):
    """A dict-like view of one follower's session; nested values may be mutated in place."""

    __slots__ = ("_data", "_key", "_loaded")

    def __init__(self, key: str, loaded: str | None) -> None:
        self._key = key
        self._loaded = loaded
        self._data: dict[str, Any] = json.loads(loaded) if loaded else {}

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._data[name] = value

    def __delitem__(self, name: str) -> None:
        del self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Session({self._data!r})"

    async def save(self, store: Store, ttl: float) -> None:
        """Write back when changed since loading; an emptied session is deleted."""
        if not self._data:
            if self._loaded:
                await store.delete(self._key)
                self._loaded = None
            return
        try:
            dumped = json.dumps(self._data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        except TypeError as exc:
            raise TypeError(f"session values must be JSON-serialisable (str, int, float, bool, None, list, "
                            f"dict): {exc}") from None
        if dumped != self._loaded:
            await store.set(self._key, dumped, ttl)
            self._loaded = dumped


async def load_session(store: Store, key: str) -> Session:
    return Session(key, await store.get(key))
