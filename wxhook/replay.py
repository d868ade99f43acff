"""Freshness of a push: its timestamp must be recent, a replay of it must find its outcome, and in plaintext its
nonce must not come back with another body.

The plaintext ``signature`` covers only token, timestamp and nonce, never the body, so a URL seen once (in an
access log, a proxy) would otherwise sign any body forever. Refusing stale timestamps bounds that to a
window, and remembering each plaintext (timestamp, nonce) with a digest of its body for that window refuses a
second, different body under the same signature. The same body again is WeChat's retry (or a replay), and passes:
the reply window keeps every message's outcome for as long as its timestamp stays in the window, so a replay finds
the outcome and never runs the handler again. A sealed push needs no nonce record: its ``msg_signature`` covers the
body, so a different body under the same (timestamp, nonce) is a genuine push that only the token's holder could
sign (two genuine pushes share a nonce now and then: refusing the second would lose it). The records live in
the bot's store, so they hold across workers and hosts.
"""

from __future__ import annotations

import hashlib
import time

from .stores.keys import BotKeys


class Stale(Exception):
    """The push is outside the timestamp window or reuses a nonce; the message is the reason."""


REUSED = "nonce already used with a different body: a replayed or forged request"
SEALED = "sealed"
"""The digest a sealed push records: any sealed body is authentic, a plaintext one under its nonce is not."""


class Nonce:
    """What replay protection keeps of one push: the (timestamp, nonce) record's store key (None: nothing to
    record), a digest of what it carried, and ``ttl``, the seconds until its timestamp leaves the window, for which
    the push could come back and its outcome must be kept."""

    __slots__ = ("digest", "key", "ttl")

    def __init__(self, key: str | None, digest: str, ttl: float) -> None:
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

    def sealed_nonce(self, timestamp: str, nonce: str, keep: float, *, plaintext_allowed: bool) -> Nonce | None:
        """The same for a sealed push, whose checked ``msg_signature`` covers its body: no record unless plaintext
        pushes are served too (``allow_plaintext``), whose nonce must then not be the sealed push's with another
        body. Every sealed push records the same mark, so two genuine sealed pushes may share a nonce."""
        if self.window is None:
            return None
        if not plaintext_allowed:
            return Nonce(None, "", keep)
        return self._record(timestamp, nonce, SEALED, keep)

    def _record(self, timestamp: str, nonce: str, digest: str, keep: float) -> Nonce:
        return Nonce(self._keys.nonce(timestamp, nonce[:64]), digest, keep)
