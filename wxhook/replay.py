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

from .stores.keys import BotKeys


class Stale(Exception):
    """The push is outside the timestamp window or reuses a nonce; the message is the reason."""


REUSED = "nonce already used with a different body: a replayed or forged request"


class Nonce:
    """A push's (timestamp, nonce) record: its store key, a digest of what it carried, how long to keep it."""

    __slots__ = ("digest", "key", "ttl")

    def __init__(self, key: str, digest: str, ttl: float) -> None:
        self.key = key
        self.digest = digest
        self.ttl = ttl


class ReplayGuard:
    """``window`` seconds either side of this server's clock; None turns both checks off.

    The nonce is recorded by the reply window, in the same store call that claims the message (``Store.admit``):
    one round trip for both.
    """

    __slots__ = ("_keys", "window")

    def __init__(self, keys: BotKeys, window: float | None) -> None:
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

    def nonce(self, timestamp: str, nonce: str, body: bytes) -> Nonce | None:
        """The record to keep for a plaintext push until its timestamp leaves the window (None: checks off)."""
        window = self.window
        return None if window is None else self._record(timestamp, nonce, window,
                                                        hashlib.blake2b(body, digest_size=12).hexdigest())

    def sealed_nonce(self, timestamp: str, nonce: str, msg_signature: str) -> Nonce | None:
        """The same for a safe-mode push, whose checked ``msg_signature`` (hex SHA-1 over the token, timestamp,
        nonce and ``Encrypt`` value) already tells its body from any other: its first 96 bits are the digest."""
        window = self.window
        return None if window is None else self._record(timestamp, nonce, window, msg_signature[:24].lower())

    def _record(self, timestamp: str, nonce: str, window: float, digest: str) -> Nonce:
        return Nonce(self._keys.nonce(timestamp, nonce[:64]), digest, max(int(timestamp) + window - time.time(), 1.0))
