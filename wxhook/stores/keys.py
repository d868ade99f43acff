"""Every store key wxhook writes, named in one place so backends, tools and operators see one scheme.

``wxhook:<namespace>:…`` for a bot's state (the namespace is the appid, or a hash of the token when there is
none), ``wxhook:<kind>:<appid>`` for the API client's credentials, ``lock:<name>`` for store locks.
"""

from __future__ import annotations


class MessageKeys:
    """The four keys that carry one message through the reply window."""

    __slots__ = ("delivered", "result", "state", "waiter")

    def __init__(self, prefix: str, key: str) -> None:
        self.state = f"{prefix}state:{key}"
        self.result = f"{prefix}result:{key}"
        self.waiter = f"{prefix}waiter:{key}"
        self.delivered = f"{prefix}delivered:{key}"


class BotKeys:
    """Key names for one bot's state."""

    __slots__ = ("prefix",)

    def __init__(self, namespace: str) -> None:
        self.prefix = f"wxhook:{namespace}:"

    def message(self, key: str) -> MessageKeys:
        return MessageKeys(self.prefix, key)

    def session(self, openid: str) -> str:
        return f"{self.prefix}session:{openid}"

    def nonce(self, timestamp: str, nonce: str) -> str:
        return f"{self.prefix}nonce:{timestamp}:{nonce}"

    def probe(self) -> str:
        return f"{self.prefix}startup"


def credential_key(kind: str, appid: str) -> str:
    """An access token or ticket, shared by every process of every bot and client of the appid."""
    return f"wxhook:{kind}:{appid}"


def lock_key(name: str) -> str:
    return f"lock:{name}"
