"""Talk to a bot the way the WeChat server does: signed, optionally sealed, XML in and out.

Used by wxhook's own end-to-end tests and by users' tests, so a bot can be exercised without a real account.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ..crypto import Envelope, EnvelopeError, decode_aes_key
from ..protocol import open_reply, render_message, seal_request, sign_query
from ..replies import Reply, passive_reply
from ..xml import parse_xml
from ._asgi import ResponseFirstTransport
from ._in_process import DeferredInbox, InProcess
from ._replies import DeferredReply

if TYPE_CHECKING:
    from ..app import Bot
    from .fake_wechat import FakeWeChat

__all__ = ["BotClient", "BotReply", "ReplyError", "SyncBotClient"]

T = TypeVar("T")


class ReplyError(AssertionError):
    """The bot answered something WeChat would not accept."""


@dataclass(frozen=True, slots=True)
class BotReply:
    """What the bot answered: ``fields`` holds the reply XML as nested dicts (empty for "success"), ``xml`` the
    reply XML itself (opened, in safe mode), ``request`` the body that was posted (sealed, in safe mode)."""

    status: int
    body: bytes
    fields: Mapping[str, Any]
    encrypted: bool
    headers: Mapping[str, str]
    request: bytes = b""
    xml: bytes = b""

    @property
    def is_empty(self) -> bool:
        """True for "success" or an empty body: WeChat shows the follower nothing."""
        return self.body in (b"", b"success")

    @property
    def content(self) -> str | None:
        value = self.fields.get("Content")
        return value if isinstance(value, str) else None

    @property
    def msg_type(self) -> str | None:
        value = self.fields.get("MsgType")
        return value if isinstance(value, str) else None

    @property
    def reply(self) -> Reply | None:
        """The reply as a reply class (``Text``, ``News``, …), to compare with what a handler returns; None when
        the bot answered nothing."""
        return passive_reply(self.fields) if self.fields else None


class BotClient:
    """A stand-in for the WeChat server, pointed at a bot: a ``Bot`` in-process, or a running one's URL.

    ``BotClient(bot)`` takes the token, appid and AES key from the bot (those given override them), calls it
    in-process (no server) and,
    while open, runs its lifespan and points its API client at a FakeWeChat (``fake=``, or one of its own), so
    replies that miss the deadline are caught there: ``deferred`` and ``next_deferred()``. ``BotClient(url,
    token=…)`` talks to a served bot over HTTP; give it ``fake=`` (the FakeWeChat that bot uses) to catch them.

    With an AES key, messages go out in safe mode and replies are checked and opened, so a test sees exactly
    the bytes a follower's WeChat would; ``compatible=True`` sends them as compatibility mode (兼容模式) does, the
    fields in the clear beside the sealed ``Encrypt``. A bot serving many accounts takes the account's ``appid``:
    ``BotClient(bot, appid="wx…")`` pushes to ``/{appid}`` with that configured account's credentials, or with the
    platform's for one of its authorizers (a looked-up account's need ``token=`` and ``aes_key=``). ``async with`` it
    in async code; ``with`` it in plain code for a :class:`SyncBotClient` (its own event loop on a thread).
    """

    def __init__(
        self,
        target: str | Bot,
        *,
        token: str | None = None,
        appid: str | None = None,
        aes_key: str | None = None,
        account: str = "gh_wxhook_test",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        fake: FakeWeChat | None = None,
        compatible: bool = False,
    ) -> None:
        key = decode_aes_key(aes_key) if aes_key else None
        self._in_process: InProcess | None = None
        self._calls: ResponseFirstTransport | None = None
        if isinstance(target, str):
            if not token:
                raise TypeError("BotClient(url) needs token=: the Token of the bot's server configuration "
                                "(WXHOOK_TOKEN); BotClient(bot) takes it from the bot")
            self.url = target
        else:
            self._in_process = InProcess(target, fake)
            self.url = "http://bot.wxhook.test/"
            if target.serves_many:
                self.url += _account_path(target, appid)
                token, appid, key = _account_credentials(target, appid, token, key)
            else:
                settings = target.settings
                token, appid, key = token or settings.token, appid or settings.appid, key or settings.aes_key
            if transport is None:
                transport = self._calls = ResponseFirstTransport(target)
        self.token: str = token
        self.appid = appid
        self.account = account
        self.fake = fake
        self._envelope = Envelope(key, appid or "") if key else None
        if compatible and self._envelope is None:
            raise TypeError("BotClient(compatible=True) needs aes_key= (or a bot with one): compatibility mode sends "
                            "the message sealed with the EncodingAESKey beside its plaintext copy")
        self.compatible = compatible
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._msg_ids = iter(range(int(time.time() * 1000) << 8, 1 << 63))
        self._inbox: DeferredInbox | None = None
        self._sync: SyncBotClient

    async def __aenter__(self) -> BotClient:
        if self._in_process is not None:
            self.fake = await self._in_process.start()
        if self.fake is not None:
            self._inbox = DeferredInbox(self.fake)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection; in-process, first let handlers still running finish (within the bot's
        ``shutdown_grace``, as a server's graceful shutdown would) and run the bot's shutdown, so deferred replies
        are delivered."""
        try:
            if self._calls is not None and self._in_process is not None:
                await self._calls.drain(self._in_process.bot.shutdown_grace)
            if self._in_process is not None:
                await self._in_process.stop()
        finally:
            if self._inbox is not None:
                self._inbox.close()
            await self._http.aclose()

    def __enter__(self) -> SyncBotClient:

        self._sync = SyncBotClient(self)
        return self._sync

    def __exit__(self, *exc: object) -> None:
        self._sync.close()

    async def wait_background(self, timeout: float = 5.0) -> None:
        """Wait for what the bot does after answering: handlers still running past their deadline (until their
        late replies are sent) and ``ctx.background`` jobs, up to ``timeout`` seconds; an ``AssertionError`` naming
        what still runs then. In-process (``BotClient(bot)``) only: a served bot's work is in its own process."""
        if self._in_process is None or self._calls is None:
            raise RuntimeError("wait_background() waits for a bot called in-process: BotClient(bot)")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        handlers = await self._calls.wait(timeout)  # a handler's own background jobs start as it finishes
        jobs = await self._in_process.bot.wait_background(max(deadline - loop.time(), 0))
        if handlers or jobs:
            running = [f"{handlers} handler(s) past their deadline"] if handlers else []
            raise AssertionError(f"still running after {timeout:g} s: {', '.join(running + jobs)} (raise timeout=?)")

    @property
    def deferred(self) -> list[DeferredReply]:
        """Messages sent to followers through the customer-service API since the client opened, oldest first: those
        the fake accepted (a refused send reached nobody; ``fake.calls()`` has every attempt)."""
        return self._require_inbox().received()

    async def next_deferred(self, timeout: float = 5.0) -> DeferredReply:
        """The next customer-service message the fake accepted, not yet returned by this method, waiting up to
        ``timeout`` seconds."""
        return await self._require_inbox().next(timeout)

    def _require_inbox(self) -> DeferredInbox:
        if self._inbox is None:
            raise RuntimeError("no FakeWeChat to catch deferred replies: use BotClient(bot), or BotClient(url, "
                               "fake=...) with the FakeWeChat that bot's API client calls, inside `async with`")
        return self._inbox

    def signed_query(self, encrypted: str | None = None) -> dict[str, str]:
        """Fresh timestamp, nonce and signature(s), as WeChat puts them on the URL."""
        return sign_query(self.token, encrypted)

    async def handshake(self, echostr: str = "wxhook-echo") -> httpx.Response:
        query = self.signed_query()
        query["echostr"] = echostr
        return await self._http.get(self.url, params=query)

    async def post(self, fields: Mapping[str, Any], *, query: Mapping[str, str] | None = None) -> BotReply:
        """Send one message (its fields as tag → value) and return the checked, opened reply."""
        xml = render_message(fields).encode()
        if self._envelope is None:
            params = dict(query) if query is not None else self.signed_query()
            response = await self._http.post(self.url, params=params, content=xml)
            return self.read_reply(response)
        encrypted, body = seal_request(self._envelope, fields.get("ToUserName", self.account), xml,
                                       fields if self.compatible else None)
        params = dict(query) if query is not None else self.signed_query(encrypted)
        return self.read_reply(await self._http.post(self.url, params=params, content=body))

    def message(self, msg_type: str, openid: str = "o_follower", **fields: Any) -> dict[str, Any]:
        """The common fields plus ``fields``; a fresh MsgId unless given (events get none)."""
        base: dict[str, Any] = {
            "ToUserName": self.account,
            "FromUserName": openid,
            "CreateTime": int(time.time()),
            "MsgType": msg_type,
        }
        base.update(fields)
        if msg_type != "event" and "MsgId" not in base:
            base["MsgId"] = next(self._msg_ids)
        return base

    async def send_text(self, content: str, openid: str = "o_follower", **fields: Any) -> BotReply:
        return await self.post(self.message("text", openid, Content=content, **fields))

    async def send_event(self, event: str, openid: str = "o_follower", **fields: Any) -> BotReply:
        return await self.post(self.message("event", openid, Event=event, **fields))

    def read_reply(self, response: httpx.Response) -> BotReply:
        """Check and open what a bot answered (for requests a test built itself); sealed when a key is set."""
        body = response.content
        if response.status_code != 200 or body in (b"", b"success"):
            return BotReply(response.status_code, body, {}, False, response.headers, response.request.content)
        if self._envelope is None:
            return BotReply(200, body, parse_xml(body), False, response.headers, response.request.content, body)
        try:
            xml = open_reply(self._envelope, self.token, body)
        except (ValueError, EnvelopeError) as exc:
            raise ReplyError(str(exc)) from None
        return BotReply(200, body, parse_xml(xml), True, response.headers, response.request.content, xml)


class SyncBotClient:
    """What ``with BotClient(...) as wechat:`` gives: each call runs on the client's own event loop, on a
    background thread, so the bot's deferred handlers keep working between calls as they would in a server.
    Returned by the ``bot_client`` pytest fixture too."""

    def __init__(self, client: BotClient) -> None:
        self.client = client
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="wxhook-BotClient", daemon=True)
        self._thread.start()
        try:
            self._run(client.__aenter__())
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def close(self) -> None:
        """Run the bot's shutdown (in-process), close the connection and end the loop's thread."""
        if self._loop.is_closed():
            return
        try:
            self._run(self.client.aclose())
        finally:
            self._stop_loop()

    @property
    def fake(self) -> FakeWeChat | None:
        """The FakeWeChat the bot's API client calls (in-process, or as given with ``fake=``)."""
        return self.client.fake

    def message(self, msg_type: str, openid: str = "o_follower", **fields: Any) -> dict[str, Any]:
        return self.client.message(msg_type, openid, **fields)

    def post(self, fields: Mapping[str, Any], *, query: Mapping[str, str] | None = None) -> BotReply:
        return self._run(self.client.post(fields, query=query))

    def send_text(self, content: str, openid: str = "o_follower", **fields: Any) -> BotReply:
        return self._run(self.client.send_text(content, openid, **fields))

    def send_event(self, event: str, openid: str = "o_follower", **fields: Any) -> BotReply:
        return self._run(self.client.send_event(event, openid, **fields))

    def handshake(self, echostr: str = "wxhook-echo") -> httpx.Response:
        return self._run(self.client.handshake(echostr))

    def wait_background(self, timeout: float = 5.0) -> None:
        self._run(self.client.wait_background(timeout))

    @property
    def deferred(self) -> list[DeferredReply]:
        return self.client.deferred

    def next_deferred(self, timeout: float = 5.0) -> DeferredReply:
        return self._run(self.client.next_deferred(timeout))


def _account_path(bot: Bot, appid: str | None) -> str:
    if not appid:
        raise TypeError("BotClient(bot) of a bot serving many accounts needs appid=: the account to push to")
    return appid


def _account_credentials(bot: Bot, appid: str | None, token: str | None,
                         key: bytes | None) -> tuple[str, str | None, bytes | None]:
    """Token, envelope appid and AES key of one account of a bot serving many: a configured account's own, an
    authorizer's (any other appid, with a platform) the platform's."""
    served = bot.configured_account(appid or "")
    if served is not None:
        account = served.account
        assert account.token is not None  # a configured account has one
        return token or account.token, appid, key or account.key
    if bot.platform is not None:
        config = bot.platform.config
        return token or config.component_token, config.component_appid, key or decode_aes_key(config.encoding_aes_key)
    if token is None:
        raise TypeError(f"BotClient(bot, appid={appid!r}): not a configured account of the bot; give token= (and "
                        "aes_key= for safe mode) of the looked-up account")
    return token, appid, key
