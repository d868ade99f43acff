"""Late replies: a reply that missed its delivery's deadline goes out through the customer-service API, once.

A message's ``delivered`` key is claimed by whoever answers it last: a retry still waiting in some process
answers passively, else this sends through the API. A send is retried only when the failure proves WeChat did not
get it, since a repeat would reach the follower twice; one that may have been delivered is logged and left. While
a deferred handler works, the follower can be shown "typing…".

A sender claims ``delivered`` with a mark of its own, leased like a handler's claim and renewed while it fetches a
token or waits between attempts, and writes the final ``api`` just before a request goes out. A worker killed
before that leaves a mark that lapses within the lease, and the handover ledger's sweep in another worker sends the
reply: nothing lost. Killed with its request on the way, it leaves ``api``: that reply may have reached WeChat, and
is not sent again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
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
_MARK_WAIT = 300.0
"""Seconds past which another sender's mark is no live send's (tokens, attempts and their waits take far less)."""
_TYPING_EVERY = 12.0
"""Seconds between two typing indicators: WeChat drops one after 15 s."""
_API = "api"
"""``delivered`` once a send through the API is over (whatever came of it)."""
_SENDING = "sending:"
"""The start of ``delivered`` while a send runs: the sender's leased mark."""


def _settled(delivered: str | None) -> bool:
    """Whether a message's ``delivered`` says its reply is out (or was answered passively): not while a sender's
    mark is on it, nor once that mark lapsed."""
    return delivered is not None and not delivered.startswith(_SENDING)


class _Mark:
    """A sender's claim on a message's ``delivered``: a leased mark, renewed (one small task) while the send waits for
    a token or between attempts, turned final (``api``) just before each request goes out, and leased again when
    WeChat provably did not get it. A worker killed with a request on its way leaves ``api``: the request may have
    reached WeChat, and a repeat would show twice. Killed at any other point, it leaves the mark to lapse."""

    __slots__ = ("_keep", "_key", "_lease", "_renewing", "_store", "_value", "final")

    def __init__(self, store: Store, key: str, lease: float, keep: float) -> None:
        self._store = store
        self._key = key
        self._lease = lease
        self._keep = keep
        self._value = _SENDING + secrets.token_hex(8)
        self._renewing: asyncio.Task[None] | None = None
        self.final = False

    async def claim(self) -> bool:
        """Take ``delivered`` for this send; False when someone answered or is sending already."""
        if not await self._store.set_if_absent(self._key, self._value, self._lease):
            return False
        self._renewing = asyncio.ensure_future(self._renew())
        return True

    async def going(self) -> None:
        """A request is about to go out: from here, a death leaves the reply to nobody."""
        self.stop()
        await self._store.set(self._key, _API, self._keep)
        self.final = True

    async def back(self) -> None:
        """WeChat did not get the request: the mark again, renewed until the next one."""
        await self._store.set(self._key, self._value, self._lease)
        self.final = False
        self._renewing = asyncio.ensure_future(self._renew())

    async def close(self) -> None:
        """The send is over, however it went: ``delivered`` final, so nobody sends it again (while final, nothing
        renews: ``going`` stopped it)."""
        if not self.final:
            await self.going()

    def stop(self) -> None:
        """Stop renewing: a mark not final lapses within the lease, and another worker's sweep sends the reply."""
        if self._renewing is not None:
            self._renewing.cancel()
            self._renewing = None

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                if await self._store.renew(self._key, self._value, self._lease):
                    continue
                problem = "it lapsed first"
            except Exception as exc:
                problem = f"the store failed: {exc}"
            logger.warning("lost the mark of a reply being sent (%s; the store was slow or unreachable for "
                           "longer than the %gs claim_lease?): another worker may send it too, and the follower see "
                           "it twice", problem, self._lease)
            return


class LateReplies:
    """Sends the late replies of one bot (each through the API client of its message's account), counting them in
    the bot's counter (``delivered``, ``delivery_failed``). ``lease`` is how long a sender's mark on ``delivered``
    outlives a sender that stopped renewing it (died): the bot's ``claim_lease``. ``kind`` names the replies in the
    log (``late``; a queue worker's are ``queued``)."""

    def __init__(self, store: Store, counts: Counter[str], *, lease: float = 2.0, retry_delay: float = 1.0,
                 kind: str = "late") -> None:
        self._store = store
        self._counts = counts
        self._lease = lease
        self._retry_delay = retry_delay
        self._kind = kind

    async def send_unless_answered(self, api: Client, msg: Message, keys: MessageKeys, reply: Reply,
                                   keep: float) -> bool:
        """Send ``reply`` through the API, unless a retry still waiting in some process answers it passively:
        ``delivered`` is claimed once, by one or the other (kept ``keep`` seconds). False when another sender
        holds it: the sweep settles the message once that send is over (or sends it, should that sender die)."""
        delay = _POLL_MIN
        while (delivered := await self._store.get(keys.delivered)) is None:
            if await self._store.get(keys.waiter) is None:
                if await self._claim_and_send(api, msg, keys.delivered, reply, keep):
                    return True
                continue  # a passive answer or another sender came first: read which
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)
        return _settled(delivered)

    async def send_kept(self, api: Client, msg: Message, keys: MessageKeys, xml: str, keep: float) -> bool:
        """Send a reply kept as passive XML (its runner died between the outcome and the send), unless it went out.
        False while another sender's mark is on it (alive, or dead and not lapsed yet): a later sweep looks again."""
        try:
            reply = passive_reply(parse_xml(xml.encode()))
        except XMLError:
            return True
        if reply is None or await self._claim_and_send(api, msg, keys.delivered, reply, keep):
            return True
        return _settled(await self._store.get(keys.delivered))

    async def answered(self, key: str) -> bool:
        """Whether the reply of the message whose ``delivered`` is ``key`` is out, waiting out another sender's mark
        until it turns final or lapses (its sender died before sending: then the reply is not out). A mark that
        stands longer than any send takes (``_MARK_WAIT``: planted in the store without a TTL?) counts as out, so a
        job never waits for it forever."""
        delay = _POLL_MIN
        loop = asyncio.get_running_loop()
        give_up = loop.time() + _MARK_WAIT
        while (delivered := await self._store.get(key)) is not None and not _settled(delivered):
            if loop.time() > give_up:
                logger.error("a reply not sent: another sender's mark on %s stood for %gs without lapsing (a "
                             "dead sender's mark lapses within %gs; was it written without a TTL?)", key, _MARK_WAIT,
                             self._lease)
                return True
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)
        return delivered is not None

    async def send_once(self, api: Client, msg: Message, key: str, reply: Reply, keep: float) -> None:
        """Send ``reply`` through the API unless it is out already: a reply that has no passive way to the follower
        (a queued handler's). ``delivered`` (``key``) is kept ``keep`` seconds once the send is over."""
        while not await self.answered(key):
            if await self._claim_and_send(api, msg, key, reply, keep):
                return

    async def _claim_and_send(self, api: Client, msg: Message, key: str, reply: Reply, keep: float) -> bool:
        """Claim ``delivered`` (``key``) with a mark of this send's, then ``_attempts`` under it, the mark made final
        when they are over; False when someone answered or is sending already. Cancelled (a shutdown) or failed by
        the store, a mark not yet final is left to lapse: another worker's sweep sends the reply."""
        mark = _Mark(self._store, key, self._lease, keep)
        if not await mark.claim():
            return False
        try:
            await self._attempts(api, msg, reply, mark)
        except BaseException:
            mark.stop()
            raise
        await mark.close()
        return True

    async def _attempts(self, api: Client, msg: Message, reply: Reply, mark: _Mark) -> None:
        """Send a reply through the customer-service API; retried only when the failure proves WeChat did
        not get it (a connection never made, no access token to be had, errcode -1, a token still refused after
        the client's own refetch)."""
        openid = msg.from_user_name
        try:
            msgtype, payload = reply.custom_message()
        except TypeError as exc:
            self._counts[DELIVERY_FAILED] += 1
            logger.error("%s reply to user=%s dropped: %s", self._kind, follower_tag(openid), exc)
            return
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                await api.access_token()  # fetched under the mark: a death meanwhile leaves the reply to another
                await mark.going()
                await api.message.send(openid, msgtype, payload)
            except ConfigError as exc:  # no AppSecret (or appid): nothing to retry, the fix is in the settings
                self._counts[DELIVERY_FAILED] += 1
                logger.error("%s %s reply to user=%s not delivered: %s", self._kind, msgtype, follower_tag(openid),
                             exc)
                return
            except WeChatError as exc:
                unsent = not mark.final or isinstance(exc, (SystemBusyError, InvalidCredentialError)) or (
                    isinstance(exc, WeChatNetworkError) and not exc.maybe_delivered)
                if unsent and attempt < _ATTEMPTS:
                    if mark.final:
                        await mark.back()
                    await asyncio.sleep(self._retry_delay * attempt)
                    continue
                self._counts[DELIVERY_FAILED] += 1
                if mark.final and isinstance(exc, WeChatNetworkError) and exc.maybe_delivered:
                    logger.error("%s %s reply to user=%s may have been delivered, not sent again (a repeat would "
                                 "show twice): %s", self._kind, msgtype, follower_tag(openid), exc)
                    return
                logger.error(
                    "%s %s reply to user=%s not delivered after %d attempt(s): errcode %s, rid %s: %s",
                    self._kind, msgtype, follower_tag(openid), attempt, getattr(exc, "errcode", None),
                    getattr(exc, "rid", None), exc,
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
