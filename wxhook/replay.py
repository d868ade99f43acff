"""Freshness of a push: its timestamp must be recent, and its nonce must not come back with another body.

The plaintext ``signature`` covers only token, timestamp and nonce, never the body, so a URL seen once (in an
access log, a proxy) would otherwise sign any body forever. Refusing stale timestamps bounds that to a
window, and remembering each (timestamp, nonce) with a digest of its body for that window refuses a second,
different body under the same signature. The same body again is WeChat's retry, and passes (the reply window
coalesces it). The record lives in the bot's store, so it holds across workers and hosts.
"""

from __future__ import annotations

import hashlib
import time

from .stores import Store
from .stores.keys import BotKeys


class Stale(Exception):
    """The push is outside the timestamp window or reuses a nonce; the message is the reason."""


class ReplayGuard:
    """``window`` seconds either side of this server's clock; None turns both checks off."""

    __slots__ = ("_keys", "_store", "window")

    def __init__(self, store: Store, keys: BotKeys, window: float | None) -> None:
        self._store = store
        self._keys = keys
        self.window = window

    def check_time(self, timestamp: str) -> None:
        """Before the body is read: a timestamp that is not a number, or too far from now, is refused."""
        if self.window is None:
            return
        try:
            skew = time.time() - int(timestamp)
        except (ValueError, OverflowError):  # OverflowError: an integer too large for a float
            raise Stale(f"timestamp {timestamp[:20]!r} is not a Unix time") from None
        if abs(skew) > self.window:
            raise Stale(
                f"timestamp is {abs(skew):.0f}s {'old' if skew > 0 else 'in the future'}, outside the "
                f"{self.window:g}s window (Bot(timestamp_window=...)): a replayed request, or this server's clock "
                "is wrong"
            )

    async def check_nonce(self, timestamp: str, nonce: str, signed_part: bytes) -> None:
        """After the signature: remember this (timestamp, nonce) with a digest of what it carried."""
        if self.window is None:
            return
        digest = hashlib.blake2b(signed_part, digest_size=12).hexdigest()
        key = self._keys.nonce(timestamp, nonce[:64])
        ttl = max(int(timestamp) + self.window - time.time(), 1.0)
        if await self._store.set_if_absent(key, digest, ttl):
            return
        if await self._store.get(key) not in (digest, None):
            raise Stale("nonce already used with a different body: a replayed or forged request")
