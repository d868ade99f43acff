"""What a third-party platform must never lose, kept as data in the store: its ticket and its authorizers.

The ticket (pushed every 10 minutes, valid 12 hours) is what the platform's token is made from; an authorizer's
refresh token is what its tokens are made from, and without it the merchant has to authorize again. Both are
written through the store's durable view: during an outage a write fails loudly instead of landing in one
process's memory. What sits in the store is read as hostile: a record that does not parse is treated as absent
(and logged), never trusted.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..stores import Store
from ..stores.keys import platform_key

__all__ = ["Authorizer"]

logger = logging.getLogger("wxhook")

TICKET_LIFETIME = 12 * 3600.0


@dataclass(frozen=True)
class Authorizer:
    """An account that authorized the platform, as the platform keeps it.

    ``refresh_token`` makes its tokens; ``code`` is an authorization code pushed but not yet exchanged (until
    ``code_expires_at``, Unix time); ``permissions`` the permission-set ids it granted; ``revoked`` once it withdrew
    (``unauthorized``). ``original_id`` is its ``gh_…`` id, ``name`` its nickname.
    """

    appid: str
    refresh_token: str = field(default="", repr=False)
    original_id: str = ""
    name: str = ""
    permissions: tuple[int, ...] = ()
    revoked: bool = False
    authorized_at: float = 0.0
    code: str = field(default="", repr=False)
    code_expires_at: float = 0.0

    @property
    def pending_code(self) -> str | None:
        """The code still to exchange, while it may still work."""
        return self.code if self.code and time.time() < self.code_expires_at else None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, appid: str, text: str) -> Authorizer | None:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("appid") != appid:
            return None
        strings = ("refresh_token", "original_id", "name", "code")
        numbers = ("authorized_at", "code_expires_at")
        permissions = data.get("permissions", [])
        if (not all(isinstance(data.get(name, ""), str) for name in strings)
                or not all(isinstance(data.get(name, 0), (int, float)) for name in numbers)
                or not isinstance(data.get("revoked", False), bool)
                or not isinstance(permissions, list) or not all(type(p) is int for p in permissions)):
            return None
        return cls(appid, refresh_token=str(data.get("refresh_token", "")),
                   original_id=str(data.get("original_id", "")), name=str(data.get("name", "")),
                   permissions=tuple(permissions), revoked=bool(data.get("revoked", False)),
                   authorized_at=float(data.get("authorized_at", 0)), code=str(data.get("code", "")),
                   code_expires_at=float(data.get("code_expires_at", 0)))


class Records:
    """The ticket and the authorizer records of the platform ``appid`` in ``store`` (its durable view)."""

    def __init__(self, store: Store, appid: str) -> None:
        self._store = store.durable()
        self._appid = appid

    async def ticket(self) -> str | None:
        """The newest ticket still valid, or None."""
        found = await self._read_ticket()
        return found[0] if found is not None else None

    async def _read_ticket(self) -> tuple[str, int] | None:
        text = await self._store.get(platform_key(self._appid, "ticket"))
        if text is None:
            return None
        try:
            data = json.loads(text)
            ticket, created = data["ticket"], data["create_time"]
        except (ValueError, TypeError, KeyError):
            ticket, created = None, None
        if not isinstance(ticket, str) or not ticket or type(created) is not int:
            logger.warning("ignored an unreadable component_verify_ticket record of platform %s", self._appid)
            return None
        return ticket, created

    async def keep_ticket(self, ticket: str, create_time: int) -> bool:
        """Keep a pushed ticket unless a newer one is kept already (a test and a live deployment both receive
        them); True when kept. It expires 12 hours after it was pushed."""
        current = await self._read_ticket()
        if current is not None and current[1] > create_time:
            return False
        left = TICKET_LIFETIME - max(time.time() - create_time, 0.0)
        if left <= 0:
            return False
        await self._store.set(platform_key(self._appid, "ticket"),
                              json.dumps({"ticket": ticket, "create_time": create_time}), left)
        return True

    async def authorizer(self, appid: str) -> Authorizer | None:
        text = await self._store.get(platform_key(self._appid, f"authorizer:{appid}"))
        if text is None:
            return None
        record = Authorizer.from_json(appid, text)
        if record is None:
            logger.warning("ignored an unreadable record of authorizer %s of platform %s", appid, self._appid)
        return record

    async def save(self, record: Authorizer) -> None:
        await self._store.set(platform_key(self._appid, f"authorizer:{record.appid}"), record.to_json())

    async def update(self, appid: str, **changes: Any) -> Authorizer:
        """The authorizer's record with ``changes`` (a new one if there was none), saved; one update of a record
        at a time across processes, so a revocation and an exchange never overwrite each other."""
        async with self._store.lock(platform_key(self._appid, f"authorizer:{appid}"), ttl=10.0, wait=10.0):
            record = replace(await self.authorizer(appid) or Authorizer(appid), **changes)
            await self.save(record)
        return record
