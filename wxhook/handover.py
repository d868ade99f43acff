"""Messages answered before their handler finished, kept in the store where another worker can finish them.

A push answered "success" (or the interim reply) while its handler still runs is out of WeChat's hands: WeChat
will not send it again. Should the worker running the handler die, nobody would. So whoever answers such a push
first records it in the bot's handover ledger (its fields, its account, its handler) and its runner strikes it off
once the reply went out. Every serving process reads the ledger every few seconds and finishes what a dead worker
left: a message whose claim lapsed without an outcome runs again (at least once), a reply that was ready but never
went out is sent. An entry is kept for ``horizon`` seconds: past the longest a handler may run (``handler_timeout``)
and the time its outcome is kept, so a claim that is gone within that time can only mean its worker died.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from .messages import Message, plain
from .observe import loggable_key
from .stores import Store
from .stores.keys import MessageKeys

logger = logging.getLogger("wxhook")


@dataclass(frozen=True, slots=True)
class Entry:
    """One handed-over message: the account it is for, its fields as pushed, its handler's name, when it was
    handed over and until when it may still be finished (Unix time)."""

    state: str
    appid: str
    fields: dict[str, Any]
    handler: str
    since: float
    until: float


class Handover:
    """The ledger of one bot, a hash in its store: field the message's state key, value the entry as JSON."""

    __slots__ = ("_key", "_store", "horizon")

    def __init__(self, store: Store, key: str, horizon: float) -> None:
        self._store = store
        self._key = key
        self.horizon = horizon

    async def record(self, keys: MessageKeys, msg: Message, appid: str, handler: str) -> None:
        """Hand ``msg`` over before its delivery is answered without its outcome. Never raises: an answer that
        cannot be recorded still goes out (WeChat would only retry into the same outage); the failure is logged."""
        now = time.time()
        entry = {"appid": appid, "fields": plain(msg.raw), "handler": handler, "since": now,
                 "until": now + self.horizon}
        try:
            await self._store.hset(self._key, keys.state, json.dumps(entry, ensure_ascii=False))
        except Exception as exc:
            logger.error("could not hand %s over in the store (%s): should this worker die before its handler "
                         "finishes, nobody runs it again", loggable_key(keys.state), exc)

    async def settle(self, keys: MessageKeys) -> None:
        """Strike a message off once its reply went out (or none was due)."""
        await self.drop(keys.state)

    async def drop(self, state: str) -> None:
        try:
            await self._store.hdel(self._key, state)
        except Exception as exc:
            logger.warning("could not strike %s off the handover ledger (%s); a later sweep will", loggable_key(state),
                           exc)

    async def entries(self) -> list[Entry]:
        """Every entry that reads as one; anything else in the ledger (it lives in a store others can write) is
        dropped with a warning."""
        found = []
        for state, value in (await self._store.hgetall(self._key)).items():
            entry = _entry(state, value)
            if entry is None:
                logger.warning("dropped an unreadable entry from the handover ledger %s: %s", self._key,
                               loggable_key(state[:80]))
                await self.drop(state)
            else:
                found.append(entry)
        return found


def _entry(state: str, value: str) -> Entry | None:
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    appid, fields, handler = data.get("appid"), data.get("fields"), data.get("handler")
    since, until = data.get("since"), data.get("until")
    if not (isinstance(appid, str) and isinstance(fields, dict) and isinstance(handler, str)
            and isinstance(since, (int, float)) and isinstance(until, (int, float))):
        return None
    return Entry(state, appid, fields, handler, float(since), float(until))
