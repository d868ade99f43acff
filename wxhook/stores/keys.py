"""Every store key wxhook writes, named in one place so backends, tools and operators see one scheme.

``wxhook:<namespace>:…`` for an account's state (the namespace is the appid, or a hash of the token when a one-account
bot has none) and for a bot's own (a bot serving many accounts: its ``name``, or its platform's appid),
``wxhook:<kind>:<appid>`` for API credentials, ``wxhook:platform:<appid>:…`` for a platform's durable data,
``wxhook:login:<nonce>`` for web-login states already used, ``lock:<name>`` for store locks.

One message's keys share a Redis Cluster hash tag (``wxhook:{<namespace>:<key>}:state``): the reply window
touches them together, and a tag keeps them in one slot, so a cluster never splits what one message needs.
"""

from __future__ import annotations

import hashlib


class MessageKeys:
    """The keys that carry one message through the reply window (and a queued job to its reply): ``state`` holds
    the claim, then the outcome; ``waiter`` marks a retry waiting for it; ``delivered`` says how the reply went.

    Every message reads ``state``, few ever need the other two: they are spelled out only when read."""

    __slots__ = ("_tag", "state")

    def __init__(self, namespace: str, key: str) -> None:
        self._tag = f"wxhook:{{{namespace}:{key}}}:"
        self.state = self._tag + "state"

    @property
    def waiter(self) -> str:
        return self._tag + "waiter"

    @property
    def delivered(self) -> str:
        return self._tag + "delivered"


class BotKeys:
    """Key names for one bot's state."""

    __slots__ = ("namespace", "prefix")

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.prefix = f"wxhook:{namespace}:"

    def message(self, key: str) -> MessageKeys:
        """The keys of the message whose dedupe key is ``key``."""
        if len(key) > 100:  # a VIEW event's key is its URL, up to 1 KiB: keep store keys short
            key = hashlib.sha1(key.encode()).hexdigest()
        return MessageKeys(self.namespace, key)

    def session(self, openid: str) -> str:
        return f"{self.prefix}session:{openid}"

    def nonce(self, timestamp: str, nonce: str) -> str:
        return f"{self.prefix}nonce:{timestamp}:{nonce}"

    def probe(self) -> str:
        return f"{self.prefix}startup"

    def handover(self) -> str:
        """The hash of messages answered before their handler finished (``wxhook.handover``)."""
        return f"{self.prefix}handover"

    def jobs(self) -> str:
        """The job queue's stream, shared by every instance and worker of this bot."""
        return f"{self.prefix}jobs"


def credential_key(kind: str, appid: str) -> str:
    """An access token or ticket, shared by every process of every bot and client of the appid."""
    return f"wxhook:{kind}:{appid}"


def platform_key(appid: str, name: str) -> str:
    """A third-party platform's durable data: its ticket, its authorizers' records (never expired by a TTL)."""
    return f"wxhook:platform:{appid}:{name}"


def login_state_key(nonce: str) -> str:
    """A web-login state already used (``WebLogin``), kept until the state expires, so that it works once. The
    nonce is 128 random bits: no two states share one, whichever app or account issued them."""
    return f"wxhook:login:{nonce}"


def lock_key(name: str) -> str:
    return f"lock:{name}"


def health_key() -> str:
    """What a resilient store writes to see whether its shared store answers again after an outage."""
    return "wxhook:health"
