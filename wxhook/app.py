"""The Bot: an ASGI application that turns WeChat pushes into handler calls and replies.

One request, top to bottom: read the body (capped) → verify the signature → open the safe-mode envelope →
parse the XML → build the typed message → middleware → handler → coerce the reply → render → seal.
Everything a follower could send or an attacker could forge is answered with a 4xx and a one-line reason;
a failing handler is answered "success" so followers never see "该公众号暂时无法提供服务".
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool

from .api import Client
from .background import Background, job_name
from .config import ConfigError, load_settings
from .context import Context
from .crypto import AppIdMismatch, Envelope, EnvelopeError, sign, signature_matches
from .messages import Message, parse_message
from .replies import Reply, coerce_reply
from .routing import Router, is_async, positional_arity
from .session import load_session
from .stores import Store, open_store
from .window import Window
from .xml import XMLError, parse_xml

logger = logging.getLogger("wxhook")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
CallNext = Callable[[Message], Awaitable[Reply | None]]
Middleware = Callable[..., Awaitable[Any]]
ErrorHandler = Callable[..., Any]
M = TypeVar("M", bound=Middleware)
E = TypeVar("E", bound=ErrorHandler)

_SUCCESS = b"success"
_TEXT = b"text/plain; charset=utf-8"
_XML = b"application/xml; charset=utf-8"
_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


class Rejected(Exception):
    """A request WeChat would never send; answered with ``status`` and the one-line ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def _respond(send: Send, status: int, body: bytes, content_type: bytes = _TEXT,
                   extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True, slots=True)
class _Runtime:
    loop: asyncio.AbstractEventLoop
    background: Background
    window: Window


class Bot(Router):
    """A WeChat Official Account webhook; serve it with ``uvicorn module:bot`` or mount it in any ASGI app.

    Credentials fall back to environment variables: ``token`` → WXHOOK_TOKEN, ``appid`` → WXHOOK_APPID,
    ``secret`` → WXHOOK_SECRET (API client only), ``aes_key`` → WXHOOK_AES_KEY (the EncodingAESKey, for safe
    mode, which then needs ``appid`` too), ``store`` → WXHOOK_STORE (``memory://`` by default, or
    ``sqlite:///path.db`` for several workers on one host), ``api_base`` → WXHOOK_API_BASE.

    The reply window: a handler gets ``deadline`` seconds from the request's arrival (per handler with the
    decorators' ``deadline=``); past it the request is answered "success" (or ``timeout_reply``) and the
    handler's eventual reply goes out through the customer-service API, with a typing indicator meanwhile
    when ``typing`` is set. Retries of one message within ``retry_window`` seconds share one handler run.
    ``sessions`` keeps ``ctx.session`` per follower for ``session_ttl`` seconds. Background work runs at most
    ``background_limit`` jobs at once and gets ``shutdown_grace`` seconds to finish on shutdown.
    ``max_body_size`` caps request bodies (413 above it).
    """

    def __init__(
        self,
        token: str | None = None,
        appid: str | None = None,
        secret: str | None = None,
        aes_key: str | None = None,
        *,
        store: str | Store | None = None,
        api: Client | None = None,
        api_base: str | None = None,
        deadline: float = 4.5,
        timeout_reply: str | None = None,
        typing: bool = False,
        retry_window: float = 60.0,
        sessions: bool = True,
        session_ttl: float = 3600.0,
        background_limit: int = 100,
        shutdown_grace: float = 10.0,
        max_body_size: int = 1 << 20,
    ) -> None:
        super().__init__()
        self.settings = load_settings(token, appid, secret, aes_key, max_body_size)
        for name, value in (("deadline", deadline), ("retry_window", retry_window), ("session_ttl", session_ttl)):
            if value <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {value}")
        if shutdown_grace < 0:
            raise ConfigError(f"shutdown_grace must be zero or more seconds, got {shutdown_grace}")
        key = self.settings.aes_key
        self._envelope = Envelope(key, self.settings.appid or "") if key is not None else None
        self._middleware: list[tuple[Middleware, bool]] = []
        self._error_handlers: list[tuple[ErrorHandler, bool, bool]] = []
        self.store = store if isinstance(store, Store) else open_store(store or os.environ.get("WXHOOK_STORE"))
        self.deadline = deadline
        self.timeout_reply = timeout_reply
        self.typing = typing
        self.retry_window = retry_window
        self.sessions = sessions
        self.session_ttl = session_ttl
        self.background_limit = background_limit
        self.shutdown_grace = shutdown_grace
        self._namespace = self.settings.appid or sign(self.settings.token)[:12]
        self._api = api
        self._api_base = api_base
        self._runtime: _Runtime | None = None
        self.stats: Counter[str] = Counter()
        """Counters of the reply window: ``coalesced`` retries, ``deadline_passed``, late replies ``delivered``
        through the API and ``delivery_failed``."""

    @property
    def api(self) -> Client:
        """The API client for this account, sharing the bot's store for its access token."""
        if self._api is None:
            self._api = Client(self.settings.appid, self.settings.secret, store=self.store, api_base=self._api_base)
        return self._api

    @api.setter
    def api(self, client: Client) -> None:
        """Point the bot at another API client (a ``FakeWeChat``'s, in tests and the dev console) before it
        serves; the one it replaces is left open for its owner to close."""
        self._api = client

    def _loop_runtime(self) -> _Runtime:
        """Per-event-loop machinery, created on first use so a bot can be built at import time."""
        loop = asyncio.get_running_loop()
        runtime = self._runtime
        if runtime is None or runtime.loop is not loop:
            background = Background(self.background_limit)
            window = Window(self, self.store, background, self.stats, namespace=self._namespace,
                            retention=self.retry_window, timeout_reply=self.timeout_reply, typing=self.typing)
            runtime = self._runtime = _Runtime(loop, background, window)
        return runtime

    def _background(self) -> Background:
        return self._loop_runtime().background

    def _window(self) -> Window:
        return self._loop_runtime().window

    # registration -------------------------------------------------------------------------------------

    def middleware(self, func: M) -> M:
        """Wrap dispatch: ``async def mw(msg, call_next)`` (or ``(msg, ctx, call_next)``).

        ``await call_next(msg)`` runs the rest of the chain and returns the Reply (or None); a middleware may
        return early (a blocklist), change the message, or replace the reply. The first registered is outermost.
        """
        if not is_async(func):
            raise TypeError(f"middleware {func.__qualname__} must be an async function: async def mw(msg, call_next)")
        self._middleware.append((func, positional_arity(func) >= 3))
        return func

    def on_error(self, func: E) -> E:
        """Turn a handler's exception into a reply: ``def oops(exc, msg)`` (or ``(exc, msg, ctx)``).

        Without one, the exception is logged with its traceback and the follower gets no reply ("success").
        """
        self._error_handlers.append((func, is_async(func), positional_arity(func) >= 3))
        return func

    # ASGI -----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            raise RuntimeError(f"wxhook serves HTTP only, not {kind!r}")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    raise
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        """Called on ASGI lifespan startup (or by ``lifespan()`` when the bot is mounted).

        Touches the store once, so a store that cannot be opened stops the server now, not at the first message.
        """
        self._loop_runtime()
        await self.store.get(f"wxhook:{self._namespace}:startup")

    async def shutdown(self) -> None:
        """Called on ASGI lifespan shutdown: lets pending work finish within ``shutdown_grace``, then closes
        the API client and the store. Work that cannot finish in time is logged by name."""
        if self._runtime is not None:
            await self._runtime.background.drain(self.shutdown_grace)
            self._runtime = None
        if self._api is not None:
            await self._api.aclose()
        await self.store.close()

    @asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """For a bot mounted inside another app, whose lifespan events do not reach mounted apps:
        ``Starlette(routes=[Mount("/wechat", bot)], lifespan=bot.lifespan)``."""
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        try:
            if method == "POST":
                status, body, content_type = await self._post(scope, receive, asyncio.get_running_loop().time())
            elif method == "GET":
                status, body, content_type = 200, self._handshake(scope), _TEXT
            else:
                await _respond(send, 405, b"method not allowed: WeChat uses GET and POST\n",
                               extra=((b"allow", b"GET, POST"),))
                return
        except Rejected as exc:
            logger.warning("rejected %s request: %s", method, exc.reason)
            await _respond(send, exc.status, exc.reason.encode() + b"\n")
            return
        except Exception:
            # A failing store or a wxhook bug: a 500 would show the follower "该公众号暂时无法提供服务".
            logger.exception("could not process a %s request; answered success", method)
            status, body, content_type = 200, _SUCCESS, _TEXT
        await _respond(send, status, body, content_type)

    # request pipeline ------------------------------------------------------------------------------------

    def _query(self, scope: Scope, *names: str) -> dict[str, str]:
        text = scope["query_string"].decode("latin-1")
        if "%" in text or "+" in text:
            query = dict(parse_qsl(text))
        else:  # WeChat's parameters are hex and digits: skip unquoting, which costs more than the rest
            query = dict(pair.partition("=")[::2] for pair in text.split("&") if pair)
        missing = [name for name in names if not query.get(name)]
        if missing:
            raise Rejected(400, f"missing query parameter(s): {', '.join(missing)}")
        return query

    def _verify(self, query: dict[str, str]) -> None:
        if not signature_matches(query["signature"], self.settings.token, query["timestamp"], query["nonce"]):
            raise Rejected(403, "signature mismatch: the request is not from WeChat, or WXHOOK_TOKEN differs "
                                "from the Token in the Official Account's server configuration")

    def _handshake(self, scope: Scope) -> bytes:
        query = self._query(scope, "signature", "timestamp", "nonce", "echostr")
        self._verify(query)
        return query["echostr"].encode()

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.settings.max_body_size
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    raise Rejected(413, f"body of {int(value)} bytes exceeds the {limit}-byte limit (max_body_size)")
                break
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Rejected(400, "client disconnected before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Rejected(413, f"body exceeds the {limit}-byte limit (max_body_size)")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _open(self, query: dict[str, str], document: dict[str, Any]) -> dict[str, Any]:
        """The plaintext fields of a safe-mode or compatibility-mode body."""
        if self._envelope is None:
            raise Rejected(400, "encrypted message, but no EncodingAESKey is configured: set WXHOOK_AES_KEY "
                                "(Bot(aes_key=...)) and WXHOOK_APPID")
        encrypted = document.get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise Rejected(400, "encrypt_type=aes but the body has no Encrypt element")
        msg_signature = query.get("msg_signature")
        if not msg_signature:
            raise Rejected(400, "missing query parameter(s): msg_signature")
        if not signature_matches(msg_signature, self.settings.token, query["timestamp"], query["nonce"], encrypted):
            raise Rejected(403, "msg_signature mismatch: the request is not from WeChat, or WXHOOK_TOKEN differs")
        try:
            inner = self._envelope.open(encrypted)
        except AppIdMismatch as exc:
            raise Rejected(403, str(exc)) from None
        except EnvelopeError as exc:
            raise Rejected(400, str(exc)) from None
        try:
            return parse_xml(inner)
        except XMLError as exc:
            raise Rejected(400, f"decrypted message: {exc}") from None

    async def _post(self, scope: Scope, receive: Receive, arrived: float) -> tuple[int, bytes, bytes]:
        # ``signature`` is always sent and always checked when present; a sealed message is authenticated by
        # its msg_signature alone, so a sender that leaves the plain signature off is still served.
        query = self._query(scope, "timestamp", "nonce")
        signed = bool(query.get("signature"))
        if signed:
            self._verify(query)
        elif not query.get("msg_signature"):
            raise Rejected(400, "missing query parameter(s): signature")
        encrypt_type = query.get("encrypt_type", "raw").lower()
        if encrypt_type not in ("raw", "aes"):
            raise Rejected(400, f"unknown encrypt_type {encrypt_type!r}: WeChat sends 'raw' or 'aes'")
        body = await self._read_body(scope, receive)
        try:
            document = parse_xml(body)
        except XMLError as exc:
            raise Rejected(400, str(exc)) from None
        encrypted = encrypt_type == "aes" or ("Encrypt" in document and "MsgType" not in document)
        if encrypted:
            document = self._open(query, document)
        elif not signed:
            raise Rejected(400, "missing query parameter(s): signature (a plaintext message is checked by it)")
        missing = [tag for tag in _REQUIRED if not isinstance(document.get(tag), str) or not document[tag]]
        if missing:
            raise Rejected(400, f"message lacks {', '.join(missing)}")
        msg = parse_message(document)
        found = self.resolve(msg)
        route = found[0] if found is not None else None
        deadline = route.deadline if route is not None and route.deadline is not None else self.deadline
        name = job_name(route.func) if route is not None else "no handler"
        xml = await self._window().answer(msg, Context(msg, self), arrived + deadline, name)
        if xml is None:
            return 200, _SUCCESS, _TEXT
        return 200, self._seal(xml.encode()) if encrypted else xml.encode(), _XML

    def _seal(self, xml: bytes) -> bytes:
        assert self._envelope is not None
        encrypted = self._envelope.seal(xml)
        timestamp = str(int(time.time()))
        nonce = str(int.from_bytes(os.urandom(4), "big"))
        signature = sign(self.settings.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        ).encode()

    # dispatch ----------------------------------------------------------------------------------------------

    async def handle(self, msg: Message, ctx: Context | None = None) -> Reply | None:
        """Run middleware and the matching handler for one message, with its session; never raises.

        A handler's exception goes to the ``on_error`` handlers, then to the log; the follower then gets no
        reply. Called without a context (as tests may), background jobs start when it returns.
        """
        own = ctx is None
        if ctx is None:
            ctx = Context(msg, self)
        if self.sessions and ctx._session is None:
            ctx._session = await load_session(self.store, f"wxhook:{self._namespace}:session:{msg.from_user_name}")
        try:
            if not self._middleware:
                reply = await self._call_handler(msg, ctx)
            else:
                reply = coerce_reply(await self._chain(0, ctx)(msg))
        except Exception as exc:
            reply = await self._recover(exc, msg, ctx)
        if ctx._session is not None:
            try:
                await ctx._session.save(self.store, self.session_ttl)
            except Exception:
                logger.exception("session of %s not saved", msg.from_user_name)
        if own:
            ctx.release()
        return reply

    def _chain(self, position: int, ctx: Context) -> CallNext:
        if position == len(self._middleware):
            return lambda msg: self._call_handler(msg, ctx)
        func, wants_ctx = self._middleware[position]
        call_next = self._chain(position + 1, ctx)

        async def step(msg: Message) -> Reply | None:
            ctx.message = msg
            result = await (func(msg, ctx, call_next) if wants_ctx else func(msg, call_next))
            return coerce_reply(result)

        return step

    async def _call_handler(self, msg: Message, ctx: Context) -> Reply | None:
        found = self.resolve(msg)
        if found is None:
            logger.debug("no handler for %s from %s", msg.msg_type, msg.from_user_name)
            return None
        route, ctx.match = found
        args = (msg, ctx) if route.wants_context else (msg,)
        if route.is_async:
            result = await route.func(*args)
        else:
            result = await run_in_threadpool(route.func, *args)
        return coerce_reply(result)

    async def _recover(self, exc: Exception, msg: Message, ctx: Context) -> Reply | None:
        logger.error("handler failed for %s from %s", msg.msg_type, msg.from_user_name, exc_info=exc)
        for func, run_async, wants_ctx in self._error_handlers:
            args = (exc, msg, ctx) if wants_ctx else (exc, msg)
            try:
                result = await func(*args) if run_async else await run_in_threadpool(func, *args)
                return coerce_reply(result)
            except Exception:
                logger.exception("on_error handler %s failed", getattr(func, "__qualname__", func))
        return None
