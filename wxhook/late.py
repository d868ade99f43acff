"""Late replies: a reply that missed its delivery's deadline goes out through the customer-service API, once.

A message's ``delivered`` key is claimed by whoever answers it last: a retry still waiting in some process
answers passively, else this sends through the API. A send is retried only when the failure proves WeChat did not
get it, since a repeat would reach the follower twice; one that may have been delivered is logged and left. While
a deferred handler works, the follower can be shown "typing…".
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from .api import Client, InvalidCredentialError, SystemBusyError, WeChatError, WeChatNetworkError
from .config import ConfigError
from .messages import Message
from .observe import DELIVERED, DELIVERY_FAILED, follower_tag
from .replies import Reply, passive_reply
from .stores import Store
from .stores.keys import MessageKeys
from .xml import XMLError, parse_xml

logger = logging.getLogger("wxhook")

_POLL_MIN, _POLL_MAX = 0.01, 0.1
_ATTEMPTS = 3
_TYPING_EVERY = 12.0
"""Seconds between two typing indicators: WeChat drops one after 15 s."""


class LateReplies:
    """Sends the late replies of one bot (each through the API client of its message's account), counting them in
    the bot's counter (``delivered``, ``delivery_failed``)."""

    def __init__(self, store: Store, counts: Counter[str], *, retry_delay: float = 1.0) -> None:
        self._store = store
        self._counts = counts
        self._retry_delay = retry_delay

    async def send_unless_answered(self, api: Client, msg: Message, keys: MessageKeys, reply: Reply,
                                   keep: float) -> None:
        """Send ``reply`` through the API, unless a retry still waiting in some process answers it passively:
        ``delivered`` is claimed once, by one or the other (kept ``keep`` seconds)."""
        delay = _POLL_MIN
        while await self._store.get(keys.delivered) is None:
            if await self._store.get(keys.waiter) is None:
                if await self._store.set_if_absent(keys.delivered, "api", keep):
                    await self.send(api, msg, reply)
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)

    async def send_kept(self, api: Client, msg: Message, keys: MessageKeys, xml: str, keep: float) -> None:
        """Send a reply kept as passive XML (its runner died between the outcome and the send), unless it went out."""
        try:
            reply = passive_reply(parse_xml(xml.encode()))
        except XMLError:
            return
        if reply is not None and await self._store.set_if_absent(keys.delivered, "api", keep):
            await self.send(api, msg, reply)

    async def send(self, api: Client, msg: Message, reply: Reply) -> None:
        """Send a late reply through the customer-service API; retried only when the failure proves WeChat did
        not get it (a connection never made, no access token to be had, errcode -1, a token still refused after
        the client's own refetch)."""
        openid = msg.from_user_name
        try:
            msgtype, payload = reply.custom_message()
        except TypeError as exc:
            self._counts[DELIVERY_FAILED] += 1
            logger.error("late reply to user=%s dropped: %s", follower_tag(openid), exc)
            return
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                await api.message.send(openid, msgtype, payload)
            except ConfigError as exc:  # no AppSecret (or appid): nothing to retry, the fix is in the settings
                self._counts[DELIVERY_FAILED] += 1
                logger.error("late %s reply to user=%s not delivered: %s", msgtype, follower_tag(openid), exc)
                return
            except WeChatError as exc:
                unsent = isinstance(exc, (SystemBusyError, InvalidCredentialError)) or (
                    isinstance(exc, WeChatNetworkError) and not exc.maybe_delivered)
                if unsent and attempt < _ATTEMPTS:
                    await asyncio.sleep(self._retry_delay * attempt)
                    continue
                self._counts[DELIVERY_FAILED] += 1
                if isinstance(exc, WeChatNetworkError) and exc.maybe_delivered:
                    logger.error("late %s reply to user=%s may have been delivered, not sent again (a repeat would "
                                 "show twice): %s", msgtype, follower_tag(openid), exc)
                    return
                logger.error(
                    "late %s reply to user=%s not delivered after %d attempt(s): errcode %s, rid %s: %s",
                    msgtype, follower_tag(openid), attempt, getattr(exc, "errcode", None), getattr(exc, "rid", None),
                    exc,
                )
                return
            self._counts[DELIVERED] += 1
            return

    @staticmethod
    async def keep_typing(api: Client, openid: str, outcome: asyncio.Future[str]) -> None:
        """Show "typing…" until ``outcome`` is settled (a deferred handler finished)."""
        while not outcome.done():
            try:
                await api.message.typing(openid, True)
            except Exception as exc:
                logger.debug("typing indicator for user=%s failed: %s", follower_tag(openid), exc)
                return
            await asyncio.wait([outcome], timeout=_TYPING_EVERY)
