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

    def check_time(self, timestamp: str) -> float:
        """Before the body is read: a timestamp that is not a number, or too far from now, is refused. Returns
        how long the push's nonce record is to be kept: until its timestamp leaves the window (0: checks off)."""
        if self.window is None:
            return 0.0
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
        return max(self.window - skew, 1.0)

    def nonce(self, timestamp: str, nonce: str, keep: float, body: bytes) -> Nonce | None:
        """The record to keep for a plaintext push for ``keep`` seconds (``check_time``'s answer; None: checks
        off)."""
        return None if self.window is None else self._record(timestamp, nonce,
                                                             hashlib.blake2b(body, digest_size=12).hexdigest(), keep)

    def sealed_nonce(self, timestamp: str, nonce: str, keep: float, msg_signature: str) -> Nonce | None:
        """The same for a safe-mode push, whose checked ``msg_signature`` (hex SHA-1 over the token, timestamp,
        nonce and ``Encrypt`` value) already tells its body from any other: its first 96 bits are the digest."""
        return None if self.window is None else self._record(timestamp, nonce, msg_signature[:24].lower(), keep)

    def _record(self, timestamp: str, nonce: str, digest: str, keep: float) -> Nonce:
        return Nonce(self._keys.nonce(timestamp, nonce[:64]), digest, keep)
