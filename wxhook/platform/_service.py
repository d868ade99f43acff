"""The third-party platform a bot serves: its notifications, its tokens, its authorizers, its pages.

Pushes for authorizers reach the bot at ``/{appid}`` and are checked and sealed with the platform's token and key
(``inbound``); their API calls use the authorizer's token, refreshed from its refresh token. The platform's own
notifications reach ``/events``: the ticket is kept, an authorization code is kept before ``success`` is answered
and then exchanged (retried until it expires; the same code may also come back through the browser, and one
exchange is enough), a withdrawal marks the authorizer revoked.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool

from ..accounts import Account, ServedAccount
from ..api import (
    AccessToken,
    AuthorizationCodeError,
    Client,
    ComponentAPI,
    WeChatAPIError,
    WeChatError,
)
from ..callables import is_async
from ..crypto import Envelope, decode_aes_key
from ..loops import SingleFlight
from ..messages import Event, Message, TextMessage
from ..protocol import SUCCESS, TEXT, Inbound, Receive, Rejected, Scope, Send, respond
from ..replies import Text
from ..stores import MemoryStore, Store
from ..stores.keys import BotKeys, credential_key, platform_key
from ._config import Platform
from ._events import REQUIRED, Authorized, PlatformEvent, Unauthorized, VerifyTicket, parse_platform_event
from ._pages import Pages
from ._records import Authorizer, Records
from ._release import QUERY_PREFIX, TEST_ACCOUNTS, TEXT_CALLBACK, TEXT_PROBE, is_test_account

if TYPE_CHECKING:
    from ..background import Background

__all__ = ["AuthorizerRevokedError", "NoTicketError", "NotAuthorizedError", "PlatformService"]

logger = logging.getLogger("wxhook")

H = TypeVar("H", bound=Callable[..., Any])
InboundFactory = Callable[[str, Envelope, BotKeys], Inbound]
"""The bot's checks for one crypto identity: the platform's token, envelope and replay keys."""

_CODE_LIFETIME = 600.0
_CODE_INDEX_TTL = 3600.0
_RECORD_WAIT = 3.0
_TOKEN_MARGIN = 60.0


class NoTicketError(WeChatError):
    """No ``component_verify_ticket`` has arrived yet, or the last one expired: no platform token can be made."""

    transient = True


class NotAuthorizedError(WeChatError):
    """The platform holds no refresh token (and no unexchanged code) for an authorizer."""


class AuthorizerRevokedError(WeChatError):
    """The account withdrew its authorization (``unauthorized``); nothing can be done on its behalf."""


class PlatformService:
    """``bot.platform``: the platform's API (``api``), its authorizers' records, ``resync_authorizers()``.

    ``base_client`` gives the client whose connections every client shares; ``background`` this event loop's
    background runner; ``new_inbound`` the checks of one crypto identity on the bot's settings.
    """

    def __init__(self, config: Platform, store: Store, base_client: Callable[[], Client],
                 background: Callable[[], Background], new_inbound: InboundFactory) -> None:
        self.config = config
        self.appid = config.component_appid
        self.keys = BotKeys(self.appid)
        envelope = Envelope(decode_aes_key(config.encoding_aes_key), self.appid)
        self.inbound = new_inbound(config.component_token, envelope, self.keys)
        """Checks and seals every push, the platform's own and its authorizers': all use the platform's
        token, key and appid."""
        self.records = Records(store, self.appid)
        self._store = store
        self._base_client = base_client
        self._background = background
        self._api: ComponentAPI | None = None
        self._handlers: list[tuple[str | None, Callable[..., Any]]] = []
        self._exchanges: SingleFlight[str, tuple[Authorizer, AccessToken | None]] = SingleFlight()
        self._pages = Pages(self)

    # the platform's own API and tokens ---------------------------------------------------------------------

    @property
    def api(self) -> ComponentAPI:
        """The platform's own calls (``component_access_token``): pre-auth codes, authorization, its
        authorizers, options, quota, restarting the ticket pushes."""
        if self._api is None:
            self._api = self._base_client().component(self.appid, self.config.component_secret, self.records.ticket,
                                                      self._no_ticket, store=self._store)
        return self._api

    def rebase(self) -> None:
        """Make ``api`` again from the bot's base client when next used: the bot was given another
        (``bot.api = ...``). Its token stays cached in the store."""
        self._api = None

    def _no_ticket(self) -> Exception:
        return NoTicketError(
            f"no component_verify_ticket for platform {self.appid} in the store: WeChat pushes one every 10 minutes "
            "to the authorization-event URL (https://your.host/mount/events, answered success); wait for the next "
            "push, check that it reaches this bot, or restart the pushes with bot.platform.api.start_push_ticket()"
        )

    async def component_token(self) -> str:
        """The platform's ``component_access_token`` (cached in the store, shared by every process)."""
        return await self.api.access_token()

    # authorizers ---------------------------------------------------------------------------------------------

    def authorizer(self, appid: str) -> ServedAccount:
        """How the bot serves an account that authorized the platform: the platform's checks, its own keys and an
        API client on its authorizer token. No record is needed yet (its ``authorized`` push may be in flight)."""
        account = Account(appid, original_id=TEST_ACCOUNTS.get(appid), source="authorizer")
        return ServedAccount(account, BotKeys(appid), self.inbound, self._authorizer_client, appid)

    def _authorizer_client(self, account: Account) -> Client:
        return self._base_client().sibling(
            account.appid, token_provider=functools.partial(self._authorizer_token, account.appid),
            store=self._store, token_kind="authorizer_token", oauth=self.api.authorizer_oauth)

    async def authorizer_record(self, appid: str) -> Authorizer | None:
        """The platform's record of an authorizer, or None."""
        return await self.records.authorizer(appid)

    async def _authorizer_token(self, appid: str, _stale: str | None) -> AccessToken:
        """A fresh authorizer token (the client's token cache calls this under its locks)."""
        record = await self._record_for(appid)
        if record.revoked:
            raise AuthorizerRevokedError(f"account {appid} withdrew its authorization of platform {self.appid} "
                                         "(unauthorized): nothing can be done on its behalf until it authorizes again")
        if record.refresh_token:
            refreshed, refresh_token = await self.api.authorizer_token(appid, record.refresh_token)
            if refresh_token != record.refresh_token:
                await self.records.update(appid, refresh_token=refresh_token)
            return refreshed
        code = record.pending_code
        if code is not None:
            _, exchanged = await self._exchange_once(code)
            if exchanged is not None:
                return exchanged
        raise NotAuthorizedError(f"platform {self.appid} has no refresh token for {appid}: rebuild the records with "
                                 "bot.platform.resync_authorizers(), or ask the merchant to authorize again")

    async def _record_for(self, appid: str) -> Authorizer:
        """The authorizer's record: waiting a moment for an ``authorized`` push in flight, then asking WeChat's
        list of authorizers."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + _RECORD_WAIT
        while True:
            record = await self.records.authorizer(appid)
            if record is not None or loop.time() >= give_up:
                break
            await asyncio.sleep(0.2)
        if record is None:
            await self.resync_authorizers(only=appid)
            record = await self.records.authorizer(appid)
        if record is None:
            raise NotAuthorizedError(f"account {appid} has not authorized platform {self.appid} (no record, and "
                                     "WeChat's list of authorizers does not name it)")
        return record

    async def exchange(self, code: str) -> Authorizer:
        """Exchange an authorization code and keep the authorizer's record; the same code exchanged twice (the push
        and the redirect) gives the record of the first exchange."""
        record, _ = await self._exchange_once(code)
        return record

    async def _exchange_once(self, code: str) -> tuple[Authorizer, AccessToken | None]:
        """One exchange per code at a time in this process; the token it gave, if it gave one."""
        return await self._exchanges.run(code, functools.partial(self._exchange, code))

    async def _exchange(self, code: str) -> tuple[Authorizer, AccessToken | None]:
        index = platform_key(self.appid, f"code:{code}")
        try:
            authorization = await self.api.query_auth(code)
        except AuthorizationCodeError:
            appid = await self._store.get(index)
            record = await self.records.authorizer(appid) if appid else None
            if record is not None and record.refresh_token and record.code != code:
                return record, None  # exchanged already, by the other path
            raise
        appid = authorization.authorizer_appid
        await self._store.set(index, appid, _CODE_INDEX_TTL)
        expires_in = float(authorization.expires_in or 7200)
        token = AccessToken(authorization.authorizer_access_token, expires_in) \
            if authorization.authorizer_access_token else None
        if token is not None:  # the token cache starts from it: no refresh needed for now
            await self._store.set(credential_key("authorizer_token", appid), token.value,
                                  expires_in - min(_TOKEN_MARGIN, expires_in / 2))
        changes: dict[str, Any] = {"permissions": authorization.permissions, "revoked": False, "code": "",
                                   "code_expires_at": 0.0, "authorized_at": time.time()}
        if authorization.authorizer_refresh_token:
            changes["refresh_token"] = authorization.authorizer_refresh_token
        try:
            info = await self.api.authorizer_info(appid)
            changes.update(original_id=info.user_name, name=info.nick_name)
        except WeChatError as exc:  # the record matters, the profile does not
            logger.warning("could not read the profile of authorizer %s: %s", appid, exc)
        return await self.records.update(appid, **changes), token

    async def resync_authorizers(self, *, only: str | None = None) -> int:
        """Rebuild the authorizers' records from WeChat's list of them (its refresh tokens included): after a
        lost store, or to find one authorizer (``only``). Returns how many records were written."""
        written, offset = 0, 0
        while True:
            total, rows = await self.api.authorizers(offset)
            for row in rows:
                if only is not None and row.authorizer_appid != only:
                    continue
                if row.refresh_token:
                    await self.records.update(row.authorizer_appid, refresh_token=row.refresh_token, revoked=False,
                                              authorized_at=float(row.auth_time or time.time()))
                    written += 1
                if only is not None:
                    return written
            offset += len(rows)
            if not rows or offset >= total:
                return written

    # notifications -------------------------------------------------------------------------------------------

    def on(self, info_type: str | None) -> Callable[[H], H]:
        def register(func: H) -> H:
            if not callable(func):
                raise TypeError(f"on_platform({info_type!r}) decorates a function, got {type(func).__name__}")
            self._handlers.append((info_type, func))
            return func

        return register

    async def serve(self, path: str, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the platform's own routes; False for any other path."""
        if path in ("/events", "/events/"):
            if scope["method"] == "POST":
                await self._receive(scope, receive, send)
            elif scope["method"] == "GET":
                await self._handshake(scope, send)
            else:
                await respond(send, 405, b"method not allowed\n", extra=((b"allow", b"GET, POST"),))
            return True
        return await self._pages.serve(path, scope, receive, send)

    async def _handshake(self, scope: Scope, send: Send) -> None:
        try:
            await respond(send, 200, self.inbound.handshake(scope), TEXT)
        except Rejected as exc:
            await respond(send, exc.status, exc.reason.encode() + b"\n")

    async def _receive(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A notification: checked with the platform's credentials, what it carries kept, then ``success``."""
        try:
            fields, _, _ = await self.inbound.read(scope, receive, asyncio.get_running_loop().time(), REQUIRED)
        except Rejected as exc:
            logger.warning("rejected a notification to platform %s: %s", self.appid, exc.reason)
            await respond(send, exc.status, exc.reason.encode() + b"\n")
            return
        event = parse_platform_event(fields)
        if event.appid != self.appid:
            await respond(send, 400, f"a notification for platform {event.appid[:32]}, not {self.appid}\n".encode())
            return
        try:
            await self._keep(event)
        except Exception:  # WeChat pushes again: better than answering success for what was not kept
            logger.exception("could not keep the %s notification of platform %s; answered 503", event.info_type,
                             self.appid)
            await respond(send, 503, b"could not keep the notification\n")
            return
        await respond(send, 200, SUCCESS, TEXT)
        self._background().watch(self._after(event), f"platform {event.info_type}")

    async def _keep(self, event: PlatformEvent) -> None:
        """What must be in the store before ``success`` is answered."""
        if isinstance(event, VerifyTicket):
            if event.ticket:
                await self.records.keep_ticket(event.ticket, event.create_time or int(time.time()))
        elif isinstance(event, Authorized):
            if not event.authorizer_appid or not event.authorization_code:
                return
            expires = _code_expiry(event)
            await self._store.set(platform_key(self.appid, f"code:{event.authorization_code}"),
                                  event.authorizer_appid, _CODE_INDEX_TTL)
            await self.records.update(event.authorizer_appid, code=event.authorization_code, code_expires_at=expires,
                                      revoked=False)
        elif isinstance(event, Unauthorized) and event.authorizer_appid:
            await self.records.update(event.authorizer_appid, revoked=True, refresh_token="", code="")
            await self._store.delete(credential_key("authorizer_token", event.authorizer_appid))

    async def _after(self, event: PlatformEvent) -> None:
        """After ``success``: exchange a pushed code (retried until it expires), then the app's handlers."""
        if isinstance(event, Authorized) and event.authorization_code:
            await self._exchange_until_expired(event.authorization_code, _code_expiry(event))
        for info_type, func in self._handlers:
            if info_type is not None and info_type != event.info_type:
                continue
            try:
                await func(event) if is_async(func) else await run_in_threadpool(func, event)
            except Exception:
                logger.exception("on_platform handler %s failed", getattr(func, "__qualname__", func))

    async def _exchange_until_expired(self, code: str, expires: float) -> None:
        delay = 1.0
        while True:
            try:
                await self.exchange(code)
                return
            except AuthorizationCodeError as exc:
                logger.error("authorization code of platform %s refused: %s", self.appid, exc)
                return
            except (WeChatError, OSError) as exc:
                if (isinstance(exc, WeChatAPIError) and not exc.transient) or time.time() + delay >= expires:
                    logger.error("could not exchange an authorization code of platform %s: %s; the next API call "
                                 "for the account tries again while the code lasts", self.appid, exc)
                    return
                logger.warning("exchanging an authorization code failed (%s); trying again in %gs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    # the release test ----------------------------------------------------------------------------------------

    async def release_test(self, msg: Message, served: ServedAccount) -> str | None:
        """The answer WeChat's release test expects from one of its test accounts, before any handler: the reply
        XML, or "" for "answer nothing at once" (an empty body, not a sealed empty reply); None for every other push
        (and with ``Platform(release_test=False)``)."""
        if not self.config.release_test or not is_test_account(served.account.appid, msg.to_user_name):
            return None
        now = int(time.time())
        if isinstance(msg, TextMessage):
            content = msg.content or ""
            if content == TEXT_PROBE:
                return Text(TEXT_CALLBACK).render(msg.from_user_name, msg.to_user_name, now)
            if content.startswith(QUERY_PREFIX):
                code = content[len(QUERY_PREFIX):]
                self._background().watch(self._answer_query(code, msg.from_user_name, served),
                                         "release test QUERY_AUTH_CODE")
                return ""
            return None
        if isinstance(msg, Event):
            return Text(f"{msg.event}from_callback").render(msg.from_user_name, msg.to_user_name, now)
        return None

    async def _answer_query(self, code: str, openid: str, served: ServedAccount) -> None:
        """Exchange the test's code, then send ``<code>_from_api`` with exactly the token that exchange gave: not
        whatever the shared cache holds by then (another exchange for the same test account, the ``authorized``
        push's, may have put its own token there meanwhile)."""
        try:
            authorizer, token = await self._exchange_once(code)
            if token is None:  # exchanged already by the other path: its token is the cached one
                client = served.api if authorizer.appid == served.account.appid else \
                    self.authorizer(authorizer.appid).api
            else:
                given = token

                async def this_token(_stale: str | None) -> AccessToken:
                    return given

                client = self._base_client().sibling(authorizer.appid, token_provider=this_token,
                                                     store=MemoryStore(), token_kind="authorizer_token")
            await client.message.send(openid, "text", {"content": f"{code}_from_api"})
        except WeChatError as exc:
            logger.error("release test: could not answer QUERY_AUTH_CODE through the API: %s", exc)


def _code_expiry(event: Authorized) -> float:
    """When a pushed code expires, Unix time: ``AuthorizationCodeExpiredTime`` is read as a time when it is one,
    else as seconds after the push (the documents do not say which)."""
    value = event.code_expires
    if value > 1_000_000_000:
        return float(value)
    return float(event.create_time or time.time()) + (value or _CODE_LIFETIME)

