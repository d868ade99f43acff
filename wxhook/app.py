"""The Bot: an ASGI application assembled from the parts that each do one step of a WeChat push.

One request, top to bottom: ``protocol`` reads and verifies it (signature, body cap, safe-mode envelope) →
``messages`` types it → ``window`` races WeChat's deadline and coalesces retries → ``dispatch`` runs middleware
and the handler → ``replies`` renders the answer → ``protocol`` seals it. Everything a follower could send or an
attacker could forge is answered with a 4xx and a one-line reason; a failing handler is answered "success" so
followers never see "该公众号暂时无法提供服务".
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ._util import LoopBound
from .api import Client
from .background import Background
from .config import ConfigError, load_settings, setting
from .context import Context
from .crypto import Envelope, sign
from .dispatch import Dispatcher, ErrorHandler, Middleware
from .logs import Throttle, write_held_lines
from .messages import Message, parse_message
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .metrics import metrics_exposition
from .observe import DEFERRED, Observer, show_info_logs
from .protocol import JSON, SUCCESS, TEXT, XML, Inbound, Receive, Rejected, Scope, Send, respond
from .replay import ReplayGuard, Stale
from .replies import Reply
from .routing import Router
from .stores import MemoryStore, Store, StoreUnavailable, open_store
from .stores.keys import BotKeys
from .window import ANSWERED, Window

if TYPE_CHECKING:
    from .queue import JobQueue

logger = logging.getLogger("wxhook")

M = TypeVar("M", bound=Middleware)
E = TypeVar("E", bound=ErrorHandler)


class _Delivery:
    """One POST's way back to WeChat, answered once: by the request, or past the deadline by the window's
    ``late`` while the handler carries on."""

    __slots__ = ("_bot", "answered", "arrived", "handler", "loop", "msg", "sealed", "send")

    def __init__(self, bot: Bot, send: Send, loop: asyncio.AbstractEventLoop) -> None:
        self._bot = bot
        self.send = send
        self.loop = loop
        self.arrived = loop.time()
        self.sealed = False
        self.answered = False
        self.handler = "no handler"
        self.msg: Message | None = None

    async def reply(self, xml: str | None) -> None:
        """Answer with the reply XML (sealed when the push was), or "success"."""
        if self.answered:
            return
        self.answered = True
        if xml is None:
            await respond(self.send, 200, SUCCESS, TEXT)
        else:
            body = xml.encode()
            await respond(self.send, 200, self._bot._inbound.seal(body) if self.sealed else body, XML)

    def log(self, outcome: str) -> None:
        msg = self.msg
        if msg is not None:
            self._bot.observer.message(msg.msg_type, msg.raw.get("Event", ""), msg.from_user_name, self.handler,
                                       outcome, self.loop.time() - self.arrived)

    async def late(self, xml: str | None) -> None:
        """The deadline passed: answer now (the interim reply or "success"); a lost connection is no error."""
        self.log(DEFERRED)
        try:
            await self.reply(xml)
        except Exception as exc:
            logger.debug("the deadline answer could not be sent: %s", exc)


@dataclass(frozen=True, slots=True)
class _Runtime:
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

    ``store`` is a ``Store`` or a URL; a Redis or SQLite store rides out an outage on process-local state
    (``bot.store_healthy`` says which) unless ``fail_closed`` (or ``?fail_closed=true`` in the URL), when the
    webhook answers 503 instead. ``queue`` → WXHOOK_QUEUE names a job queue (``redis://…``) for handlers
    marked ``queue=True`` and ``ctx.enqueue``; ``wxhook worker module:bot`` runs them. ``job_key`` →
    WXHOOK_JOB_KEY signs every job, and a worker with the key runs only jobs signed with it (docs/scaling.md).

    Security (docs/security.md): ``signature`` is required; a ``timestamp`` more than ``timestamp_window``
    seconds from this server's clock is refused, and so is a nonce that comes back with another body (None
    turns both off); with an EncodingAESKey, plaintext pushes are refused unless ``allow_plaintext`` (while
    switching the account's mode). A body not received within ``body_timeout`` seconds is answered 408.

    Operations (docs/deployment.md): one INFO line per message on ``wxhook.messages``; ``health_path`` (or
    WXHOOK_HEALTH_PATH; ``wxhook run`` sets ``/healthz``) and ``metrics_path`` (or WXHOOK_METRICS_PATH,
    ``wxhook[metrics]``) add GET routes.

    Faults: a message's claim is a lease of ``claim_lease`` seconds, renewed while its handler runs, so a
    retry runs a message again when the worker running it died; a handler still running after
    ``handler_timeout`` seconds is cancelled.
    """

    def __init__(
        self,
        token: str | None = None,
        appid: str | None = None,
        secret: str | None = None,
        aes_key: str | None = None,
        *,
        store: str | Store | None = None,
        fail_closed: bool | None = None,
        queue: str | None = None,
        job_key: str | None = None,
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
        timestamp_window: float | None = 300.0,
        allow_plaintext: bool = False,
        body_timeout: float = 10.0,
        claim_lease: float = 5.0,
        handler_timeout: float = 300.0,
        health_path: str | None = None,
        metrics_path: str | None = None,
    ) -> None:
        super().__init__()
        self.settings = load_settings(token, appid, secret, aes_key, max_body_size)
        positive = (("deadline", deadline), ("retry_window", retry_window), ("session_ttl", session_ttl),
                    ("timestamp_window", timestamp_window), ("body_timeout", body_timeout),
                    ("claim_lease", claim_lease), ("handler_timeout", handler_timeout))
        for name, value in positive:
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {value}")
        if shutdown_grace < 0:
            raise ConfigError(f"shutdown_grace must be zero or more seconds, got {shutdown_grace}")
        self.store = open_store(store if store is not None else os.environ.get("WXHOOK_STORE"),
                                fail_closed=fail_closed)
        self.deadline = deadline
        self.timeout_reply = timeout_reply
        self.typing = typing
        self.retry_window = retry_window
        self.background_limit = background_limit
        self.shutdown_grace = shutdown_grace
        self.keys = BotKeys(self.settings.appid or sign(self.settings.token)[:12])
        """The names of this bot's keys in its store."""
        key = self.settings.aes_key
        envelope = Envelope(key, self.settings.appid or "") if key is not None else None
        self._inbound = Inbound(self.settings.token, envelope, self.settings.max_body_size,
                                ReplayGuard(self.keys, timestamp_window), allow_plaintext=allow_plaintext,
                                body_timeout=body_timeout)
        self.claim_lease = claim_lease
        self.handler_timeout = handler_timeout
        queue_url = queue if queue is not None else os.environ.get("WXHOOK_QUEUE")
        self.queue: JobQueue | None = None
        """The job queue of ``queue=True`` handlers and ``ctx.enqueue`` (None: they run in-process)."""
        if queue_url:
            from .queue import JobQueue  # taskiq is an optional dependency

            self.queue = JobQueue(queue_url, self.keys, setting(job_key, "WXHOOK_JOB_KEY"))
        self._dispatcher = Dispatcher(self, self.store, self.keys, sessions=sessions, session_ttl=session_ttl)
        self._api = api
        self._api_base = api_base
        self._runtime = LoopBound(self._new_runtime)
        self._rejections = Throttle()
        self.observer = Observer()
        """Outcome counters and the latency histogram behind the message log and ``metrics_path``."""
        self.health_path = health_path or setting(None, "WXHOOK_HEALTH_PATH")
        """GET here answers ``{"status":"ok"}`` (for load balancers and HEALTHCHECK); None: no health route."""
        self.metrics_path = metrics_path or setting(None, "WXHOOK_METRICS_PATH")
        """GET here answers Prometheus metrics (``wxhook[metrics]``); None: no metrics route."""
        self._started = False
        self.stats: Counter[str] = Counter()
        """Counters of the reply window: ``coalesced`` retries, ``deadline_passed``, late replies ``delivered``
        through the API and ``delivery_failed``."""

    @property
    def sessions(self) -> bool:
        """Whether ``ctx.session`` is kept (the dispatcher, which loads and saves it, holds the setting)."""
        return self._dispatcher.sessions

    @property
    def session_ttl(self) -> float:
        return self._dispatcher.session_ttl

    @property
    def api(self) -> Client:
        """The API client for this account, sharing the bot's store for its access token."""
        return self._api_client()

    @api.setter
    def api(self, client: Client) -> None:
        """Point the bot at another API client (a ``FakeWeChat``'s, in tests and the dev console) before it
        serves; the one it replaces is left open for its owner to close."""
        self._api = client

    @property
    def store_healthy(self) -> bool:
        """False while the shared store (Redis, SQLite) is out and this process serves on local state."""
        return self.store.healthy

    def _api_client(self) -> Client:
        if self._api is None:
            self._api = Client(self.settings.appid, self.settings.secret, store=self.store, api_base=self._api_base)
        return self._api

    def _new_runtime(self) -> _Runtime:
        """Per-event-loop machinery, created on first use so a bot can be built at import time."""
        background = Background(self.background_limit)
        window = Window(self._dispatcher.handle, self._api_client, self.store, background, self.stats,
                        keys=self.keys, retention=self.retry_window, timeout_reply=self.timeout_reply,
                        typing=self.typing, lease=self.claim_lease, handler_timeout=self.handler_timeout,
                        enqueue=self.queue.enqueue_message if self.queue else None)
        return _Runtime(background, window)

    async def _enqueue_call(self, name: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """``ctx.enqueue``: on the queue, or here when there is none or it cannot be reached."""
        if self.queue is None or not await self.queue.enqueue_call(name, args, kwargs):
            self._runtime.get().background.submit(func, *args, **kwargs)

    def context(self, msg: Message) -> Context:
        """A handler's context for ``msg``, routed: what the webhook builds per message, and what a worker
        that runs handlers outside an HTTP request (a job queue) builds too."""
        return self._context(msg, self._runtime.get())

    def _context(self, msg: Message, runtime: _Runtime) -> Context:
        ctx = Context(msg, self, runtime.background, self._api_client, enqueue=self._enqueue_call)
        self._dispatcher.route(ctx, msg)
        return ctx

    # registration -------------------------------------------------------------------------------------

    def middleware(self, func: M) -> M:
        """Wrap dispatch: ``async def mw(msg, call_next)`` (or ``(msg, ctx, call_next)``).

        ``await call_next(msg)`` runs the rest of the chain and returns the Reply (or None); a middleware may
        return early (a blocklist), change the message, or replace the reply. The first registered is outermost.
        """
        self._dispatcher.add_middleware(func)
        return func

    def on_error(self, func: E) -> E:
        """Turn a handler's exception into a reply: ``def oops(exc, msg)`` (or ``(exc, msg, ctx)``).

        Without one, the exception is logged with its traceback and the follower gets no reply ("success").
        """
        self._dispatcher.add_error_handler(func)
        return func

    # ASGI -----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if not self._started:
                self._started = True
                logger.warning("a request arrived before the bot's startup ran: mounted in another app without "
                               "lifespan=bot.lifespan? Then deferred replies and background work are lost at "
                               "shutdown; see the README, 'Mounted in Starlette or FastAPI'")
            if scope["method"] == "POST":  # a push: straight on, the one path that counts
                await self._post(scope, receive, _Delivery(self, send, asyncio.get_running_loop()))
            else:
                await self._other(scope, send)
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

        Writes, reads back and deletes a key, so a store that cannot be opened or written (a read-only SQLite
        file, an unreachable Redis) stops the server now, not at the first message.
        """
        self._runtime.get()
        self._started = True
        show_info_logs()
        await self.store.check(self.keys.probe())
        self._warn_about_setup()

    def _warn_about_setup(self) -> None:
        if isinstance(self.store, MemoryStore) and (multiprocessing.parent_process() or "gunicorn" in sys.modules):
            logger.warning("this worker is one of several on the memory store: a WeChat retry that reaches another "
                           "worker runs its handler again; set WXHOOK_STORE=sqlite:///wxhook.db (one host) or "
                           "redis://… (several)")
        if self._api is None and self.settings.secret is None and next(iter(self._all_routes()), None):
            logger.warning("no AppSecret: a handler that misses the %gs deadline cannot send its reply late through "
                           "the customer-service API; set WXHOOK_SECRET (Bot(secret=...))", self.deadline)

    @property
    def token_fetches(self) -> int:
        """Access tokens this bot's API client fetched from WeChat (0 before it makes a call)."""
        return 0 if self._api is None else self._api.token_fetches

    async def shutdown(self) -> None:
        """Called on ASGI lifespan shutdown: lets pending work finish within ``shutdown_grace``, then closes
        the API client and the store. Work that cannot finish in time is logged by name."""
        self._started = False
        try:
            runtime = self._runtime.take()
            if runtime is not None:
                await runtime.background.drain(self.shutdown_grace)
            if self._api is not None:
                await self._api.aclose()
            if self.queue is not None:
                await self.queue.close()
            await self.store.close()
        finally:
            write_held_lines()  # uvicorn ends a stopped worker by signal, past logging's own exit hook

    @asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """For a bot mounted inside another app, whose lifespan events do not reach mounted apps:
        ``Starlette(routes=[Mount("/wechat", bot)], lifespan=bot.lifespan)``."""
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    async def _other(self, scope: Scope, send: Send) -> None:
        """A GET (the handshake, health, metrics) or a method WeChat never uses."""
        method = scope["method"]
        if method != "GET":
            await respond(send, 405, b"method not allowed: WeChat uses GET and POST\n",
                          extra=((b"allow", b"GET, POST"),))
            return
        try:
            status, body, content_type = self._get(scope)
        except Rejected as exc:
            await self._reject(scope, method, exc, send)
            return
        await respond(send, status, body, content_type)

    async def _reject(self, scope: Scope, method: str, exc: Rejected, send: Send) -> None:
        self.observer.rejected()
        self._log_rejection(scope, method, exc)
        await respond(send, exc.status, exc.reason.encode() + b"\n")

    def _get(self, scope: Scope) -> tuple[int, bytes, bytes]:
        """The handshake, or the health or metrics answer when the path is one of theirs."""
        if self.health_path or self.metrics_path:
            path, root = scope["path"], scope.get("root_path", "")
            path = path[len(root):] if root and path.startswith(root) else path
            if path == self.health_path:  # still 200 on local state: this process answers followers either way
                return 200, b'{"status":"ok","store":"%s"}' % (b"shared" if self.store_healthy else b"local"), JSON
            if path == self.metrics_path:
                return 200, metrics_exposition(self), METRICS_TYPE
        return 200, self._inbound.handshake(scope), TEXT

    def _log_rejection(self, scope: Scope, method: str, exc: Rejected) -> None:
        """Once per source and kind of rejection a minute: junk from the internet must not fill the disk."""
        source = (scope.get("client") or ("?",))[0]
        allowed, held_back = self._rejections.allow(f"{source} {exc.status} {exc.reason[:24]}")
        if allowed:
            more = f" (and {held_back} more like it from there since the last line)" if held_back else ""
            logger.warning("rejected %s request from %s: %s%s", method, source, exc.reason, more)

    # request pipeline ------------------------------------------------------------------------------------

    async def _post(self, scope: Scope, receive: Receive, delivery: _Delivery) -> None:
        try:
            document, delivery.sealed, nonce = await self._inbound.read(scope, receive, delivery.arrived)
            msg = delivery.msg = parse_message(document)
            runtime = self._runtime.get(delivery.loop)
            ctx = self._context(msg, runtime)
            route = ctx.route
            if route is not None:
                name, deadline = route.name, route.deadline if route.deadline is not None else self.deadline
            else:
                name, deadline = "no handler", self.deadline
            delivery.handler = name
            xml = await runtime.window.answer(msg, ctx, delivery.arrived + deadline, name, delivery.late, nonce)
            if xml is ANSWERED:
                return
            delivery.log(ctx.outcome)
        except Rejected as exc:
            await self._reject(scope, "POST", exc, delivery.send)
            return
        except Stale as exc:  # the nonce came back with another body
            await self._reject(scope, "POST", Rejected(403, str(exc)), delivery.send)
            return
        except StoreUnavailable as exc:  # a fail_closed store: WeChat retries the delivery
            logger.error("store unavailable, answered 503: %s", exc)
            if not delivery.answered:
                await respond(delivery.send, 503, b"store unavailable\n")
            return
        except Exception:
            # A failing store or a wxhook bug: a 500 would show the follower "该公众号暂时无法提供服务".
            self.stats["store_errors"] += 1
            logger.exception("could not process a POST request; answered success")
            xml = None
        await delivery.reply(xml)

    async def handle(self, msg: Message, ctx: Context | None = None, *, raise_errors: bool = False) -> Reply | None:
        """Run middleware and the matching handler for one message, with its session; never raises (unless
        ``raise_errors``).

        A handler's exception goes to the ``on_error`` handlers, then to the log; the follower then gets no
        reply. Called without a context (as tests and queue workers may), background jobs start when it returns.
        ``raise_errors`` lets the exception through instead (a queue worker retrying the job; see ``recover``).
        """
        if ctx is not None:
            return await self._dispatcher.handle(ctx, raise_errors=raise_errors)
        ctx = self.context(msg)
        try:
            return await self._dispatcher.handle(ctx, raise_errors=raise_errors)
        finally:
            ctx.release()

    async def recover(self, exc: Exception, msg: Message, ctx: Context) -> Reply | None:
        """What ``handle`` does with a handler's exception: log it, then the ``on_error`` handlers' reply."""
        return await self._dispatcher.recover(exc, msg, ctx)
