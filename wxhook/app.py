"""The Bot: an ASGI application assembled from the parts that each do one step of a WeChat push.

One request, top to bottom: ``protocol`` reads and verifies it (signature, body cap, safe-mode envelope) →
``messages`` types it → ``window`` races WeChat's deadline and coalesces retries → ``dispatch`` runs middleware
and the handler → ``replies`` renders the answer → ``protocol`` seals it. Everything a follower could send or an
attacker could forge is answered with a 4xx and a one-line reason; a failing handler is answered "success" so
followers never see "该公众号暂时无法提供服务".
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import multiprocessing
import os
import random
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .accounts import APPID, Account, AccountLookup, Load, Registry, ServedAccount
from .admission import DEFAULT, Default, Gate, Shedding, overload_settings
from .api import Client
from .background import Background
from .config import ConfigError, Settings, check_deadline, load_settings, setting
from .context import Context
from .crypto import Envelope, sign
from .delivery import Delivery
from .dispatch import Dispatcher
from .handover import Entry, Handover
from .logs import Throttle, write_held_lines
from .loops import LoopBound
from .messages import Message, parse_message
from .metrics import CONTENT_TYPE as METRICS_TYPE
from .metrics import metrics_exposition
from .observe import STORE_ERRORS, Observer, show_info_logs
from .platform import PLATFORM_STORE, Platform, PlatformService
from .protocol import (
    JSON,
    PLATFORM_NAMING,
    TEXT,
    Inbound,
    Naming,
    Receive,
    Rejected,
    Scope,
    Send,
    from_verify,
    respond,
)
from .replay import ReplayGuard, Stale
from .replies import Reply
from .routing import Found, Router
from .stores import MemoryStore, Store, StoreUnavailable, open_store
from .stores.keys import BotKeys
from .window import ANSWERED, Window

if TYPE_CHECKING:
    from .queue import JobQueue

__all__ = ["Bot"]

logger = logging.getLogger("wxhook")

P = TypeVar("P", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class _Runtime:
    background: Background
    window: Window
    gate: Gate


class Bot(Router):
    """A WeChat Official Account webhook; serve it with ``uvicorn module:bot`` or mount it in any ASGI app.

    Every parameter is keyword-only but the first four; docs/configuration.md has each with its variable and default.

    One account (each falls back to its variable; none is read for a bot serving many):

    - ``token`` (WXHOOK_TOKEN): the Token that signs every push. Required.
    - ``appid`` (WXHOOK_APPID): the AppID; required for safe mode and the API.
    - ``secret`` (WXHOOK_SECRET): the AppSecret; only the API client needs it.
    - ``aes_key`` (WXHOOK_AES_KEY): the 43-character EncodingAESKey, for safe mode.

    Many accounts (docs/accounts.md), each served at ``/{appid}``:

    - ``accounts``: a list of ``Account``, or an async lookup appid → ``Account | None``.
    - ``platform``: a third-party platform (``wxhook.platform.Platform``): its authorizers at ``/{appid}``, its
      notifications at ``/events``.
    - ``name``: this bot's name in the store (its job queue, its handover ledger): two such bots sharing a store
      need two.

    State and the API:

    - ``store`` (WXHOOK_STORE): a ``Store`` or a URL: ``memory://`` (default), ``sqlite:///path.db`` for the
      workers of one host (a platform's default: ``sqlite:///wxhook-platform.db``), ``redis://…``.
    - ``fail_closed``: answer 503 while a Redis or SQLite store is out, instead of riding the outage on process-local
      state (``bot.store_healthy`` says which); also ``?fail_closed=true`` in the URL.
    - ``queue`` (WXHOOK_QUEUE): a job queue (``redis://…``) for ``queue=True`` handlers and ``ctx.enqueue``, run by
      ``wxhook worker module:bot`` (docs/scaling.md).
    - ``job_key`` (WXHOOK_JOB_KEY): signs every job; a worker with the key runs only jobs signed with it.
    - ``api``: the one account's ``Client``, instead of one built from the settings.
    - ``api_base`` (WXHOOK_API_BASE): one base URL for every API call (a proxy, a fake).

    The reply window (docs/five-seconds.md):

    - ``deadline``: seconds a handler has from the request's arrival (4.5; per handler with the decorators'
      ``deadline=``); past it the request is answered, and the handler's reply goes out later through the
      customer-service API.
    - ``timeout_reply``: the text answered at the deadline instead of "success".
    - ``typing``: show "typing…" while a deferred handler runs.
    - ``retry_window``: seconds WeChat's retries of one message share its handler's run (60; and for as long as its
      timestamp stays in ``timestamp_window``, so a replay runs nothing).
    - ``sessions``, ``session_ttl``: ``ctx.session`` per follower, kept that many seconds (on; 3600).
    - ``background_limit``: background jobs running at once (100).
    - ``shutdown_grace``: seconds pending work gets on shutdown (10).

    Security (docs/security.md):

    - ``max_body_size``: the largest body accepted (1 MiB; 413 above it).
    - ``timestamp_window``: seconds a push's ``timestamp`` may be from this server's clock; a plaintext push's nonce
      that comes back with another body within it is refused (300; None turns both off).
    - ``allow_plaintext``: serve plaintext pushes although an EncodingAESKey is set (while switching the account's
      mode).
    - ``body_timeout``: seconds to receive the whole body (10; 408 after).

    Faults (docs/reliability.md):

    - ``claim_lease``: seconds a message's claim lives unless its running handler renews it, so a retry runs the
      message again once the worker running it died (2). A message answered before its handler finished is handed
      over in the store, and another worker finishes it should this one die.
    - ``handler_timeout``: seconds after which a handler still running is cancelled (300).
    - ``shed_after`` (WXHOOK_SHED_AFTER): a push that waited longer than this many seconds before the bot could
      start it (the event loop's lag) is refused with 503, and WeChat sends it again (1.0; None: never).
    - ``max_in_flight`` (WXHOOK_MAX_IN_FLIGHT): pushes in this process at once; past it a push is refused with 503
      (1000; None: no limit).
    - ``shed_after_overloaded`` (WXHOOK_SHED_AFTER_OVERLOADED): once the loop has stayed behind for half a second,
      the shorter wait that replaces ``shed_after`` until it catches up, so turns of the loop stay short and new
      connections keep being accepted (0.1; None: ``shed_after`` throughout). Load shedding: admission.py,
      docs/reliability.md "Overload".

    Operations (docs/deployment.md; one INFO line per message on ``wxhook.messages``):

    - ``health_path`` (WXHOOK_HEALTH_PATH): a GET route answering ``{"status":"ok"}`` (``wxhook run``: ``/healthz``).
    - ``metrics_path`` (WXHOOK_METRICS_PATH): a GET route answering Prometheus metrics (``wxhook-mp[metrics]``).
    """

    def __init__(
        self,
        token: str | None = None,
        appid: str | None = None,
        secret: str | None = None,
        aes_key: str | None = None,
        *,
        accounts: Sequence[Account] | AccountLookup | Load | None = None,
        platform: Platform | None = None,
        name: str | None = None,
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
        claim_lease: float = 2.0,
        handler_timeout: float = 300.0,
        shed_after: float | Default | None = DEFAULT,
        max_in_flight: int | Default | None = DEFAULT,
        shed_after_overloaded: float | Default | None = DEFAULT,
        health_path: str | None = None,
        metrics_path: str | None = None,
    ) -> None:
        super().__init__()
        check_deadline("deadline", deadline)
        positive = (("retry_window", retry_window), ("session_ttl", session_ttl),
                    ("timestamp_window", timestamp_window), ("body_timeout", body_timeout),
                    ("claim_lease", claim_lease), ("handler_timeout", handler_timeout))
        for option, value in positive:
            if value is not None and value <= 0:
                raise ConfigError(f"{option} must be a positive number of seconds, got {value}")
        if shutdown_grace < 0:
            raise ConfigError(f"shutdown_grace must be zero or more seconds, got {shutdown_grace}")
        if max_body_size < 1:
            raise ConfigError(f"max_body_size must be a positive number of bytes, got {max_body_size}")
        many = accounts is not None or platform is not None
        if many and (token, appid, secret, aes_key) != (None, None, None, None):
            raise ConfigError("Bot(accounts=... or platform=...) serves each account at /{appid} on its own "
                              "credentials: give them to Account(...) (or Platform(...)), not token=, appid=, "
                              "secret=, aes_key=")
        if many and api is not None:
            raise ConfigError("Bot(api=...) is the one account's client; a bot serving many accounts makes one per "
                              "account: use api_base= to point them all elsewhere")
        store_url = store if store is not None else os.environ.get("WXHOOK_STORE")
        if store_url is None and platform is not None:
            store_url = PLATFORM_STORE  # a lost refresh token means every merchant must authorize again
        self.store = open_store(store_url, fail_closed=fail_closed)
        self.deadline = deadline
        self.timeout_reply = timeout_reply
        self.typing = typing
        self.retry_window = retry_window
        self.background_limit = background_limit
        self.shutdown_grace = shutdown_grace
        self.claim_lease = claim_lease
        self.handler_timeout = handler_timeout
        shedding = overload_settings(shed_after, max_in_flight, shed_after_overloaded)
        self.shed_after, self.max_in_flight = shedding.shed_after, shedding.max_in_flight
        self.shed_after_overloaded = shedding.shed_after_overloaded
        self._max_body_size = max_body_size
        self._timestamp_window = timestamp_window
        self._allow_plaintext = allow_plaintext
        self._body_timeout = body_timeout
        self._api_base = api_base
        self._single: ServedAccount | None = None
        self._settings: Settings | None = None
        if many:
            self.keys = BotKeys(name or (platform.component_appid if platform is not None else "accounts"))
            """The names of this bot's keys in its store."""
        else:
            self._settings = load_settings(token, appid, secret, aes_key, max_body_size)
            self.keys = BotKeys(self._settings.appid or sign(self._settings.token)[:12])
        self._base_api: Client | None = None
        """Many accounts: the client whose connections theirs share (``api`` is the one account's own)."""
        self.platform: PlatformService | None = None
        """The third-party platform's tokens, authorizers and APIs (``Bot(platform=...)``), else None."""
        if platform is not None:
            self.platform = PlatformService(platform, self.store, self._base_client, self._background,
                                            functools.partial(self._new_inbound, names=PLATFORM_NAMING))
            if isinstance(self.store, MemoryStore) and store_url is not None:
                logger.warning("this platform keeps its ticket and its authorizers' refresh tokens in memory "
                               "(store=%r): a restart loses them and every merchant must authorize again; use "
                               "sqlite:///… or redis://… outside tests", store_url)
        if many:
            lookup = accounts if isinstance(accounts, AccountLookup) else (
                AccountLookup(accounts) if callable(accounts) else None)
            configured: Sequence[Account] = accounts if isinstance(accounts, Sequence) else ()
            if accounts is not None and lookup is None and not isinstance(accounts, Sequence):
                raise ConfigError("accounts= takes a list of Account(...), or an async lookup appid -> Account | None")
            self._registry: Registry | None = Registry(
                self._served, configured, lookup,
                authorizer=self.platform.authorizer if self.platform is not None else None)
        else:
            assert self._settings is not None
            self._registry = None
            self._single = self._served(_settings_account(self._settings), self.keys)
            self._single.client = api
        queue_url = queue if queue is not None else os.environ.get("WXHOOK_QUEUE")
        self.queue: JobQueue | None = None
        """The job queue of ``queue=True`` handlers and ``ctx.enqueue`` (None: they run in-process)."""
        if queue_url:
            from .queue import JobQueue  # taskiq is an optional dependency

            self.queue = JobQueue(queue_url, self.keys, setting(job_key, "WXHOOK_JOB_KEY"))
        self._dispatcher = Dispatcher(self, self.store, sessions=sessions, session_ttl=session_ttl,
                                      in_thread=self._in_thread)
        # A handed-over message may be finished until its handler could have run out (handler_timeout), its
        # claim lapsed, and its outcome (kept for the retry and replay windows) expired.
        horizon = handler_timeout + claim_lease + max(retry_window, 2 * (timestamp_window or 0))
        self._handover = Handover(self.store, self.keys.handover(), horizon)
        self._runtime = LoopBound(self._new_runtime)
        self._sweeping: asyncio.Task[None] | None = None
        self._rejections = Throttle()
        self.observer = Observer()
        """Outcome counters and the latency histogram behind the message log and ``metrics_path``."""
        self.health_path = health_path or setting(None, "WXHOOK_HEALTH_PATH")
        """GET here answers ``{"status":"ok"}`` (for load balancers and HEALTHCHECK); None: no health route."""
        self.metrics_path = metrics_path or setting(None, "WXHOOK_METRICS_PATH")
        """GET here answers Prometheus metrics (``wxhook-mp[metrics]``); None: no metrics route."""
        self._started = False

    @property
    def stats(self) -> Counter[str]:
        """What this process counted: messages by outcome (``passive``, ``deferred``, ``coalesced``, ``error``,
        ``rejected``: one each per message line) and the reply window's events (``deadline_passed``, ``queued``,
        late replies ``delivered`` through the API and ``delivery_failed``, messages ``taken_over`` from a dead
        worker, ``handler_timeout``, ``store_errors``). One counter, the observer's, behind the metrics too."""
        return self.observer.counts

    # accounts -------------------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The one account's settings (a bot serving many accounts has none: see ``account``)."""
        if self._settings is None:
            raise ConfigError("this bot serves many accounts and has no one-account settings: use "
                              "`await bot.account(appid)` (or ctx.account in a handler)")
        return self._settings

    @property
    def serves_many(self) -> bool:
        """Whether accounts are served at ``/{appid}`` (``accounts=`` or ``platform=``)."""
        return self._single is None

    def _new_inbound(self, token: str, envelope: Envelope | None, keys: BotKeys, names: Naming) -> Inbound:
        """The checks of one crypto identity (an account's, or a platform's: sealed only), on this bot's settings."""
        platform = names is PLATFORM_NAMING
        return Inbound(token, envelope, self._max_body_size, ReplayGuard(keys, self._timestamp_window),
                       allow_plaintext=self._allow_plaintext and not platform, body_timeout=self._body_timeout,
                       sealed_by_default=platform, names=names)

    def _served(self, account: Account, keys: BotKeys | None = None) -> ServedAccount:
        """An account served on its own credentials (configured or looked up)."""
        keys = keys if keys is not None else BotKeys(account.appid)
        key = account.key
        assert account.token is not None  # Account.checked() made sure
        envelope = Envelope(key, account.appid) if key is not None else None
        one = self._settings is not None
        names = Naming() if one else Naming.account(account.appid)  # WXHOOK_* or Account()
        return ServedAccount(account, keys, self._new_inbound(account.token, envelope, keys, names),
                             self._account_client, "" if one else account.appid)

    def _base_client(self) -> Client:
        """The client whose connection pool and API domains every account's client shares."""
        if self._base_api is None:
            # "" and not None: the base client of many accounts reads no WXHOOK_APPID or WXHOOK_SECRET
            self._base_api = Client("", "", store=self.store, api_base=self._api_base)
        return self._base_api

    def _account_client(self, account: Account) -> Client:
        """An account's API client: the one account's own, or one sharing the base client's connections."""
        if self._settings is not None:
            return Client(self._settings.appid, self._settings.secret, store=self.store, api_base=self._api_base)
        return self._base_client().sibling(account.appid, account.secret, store=self.store)

    async def account(self, appid: str | None = None) -> ServedAccount:
        """The account ``appid`` as this bot serves it, for its API client outside a push:
        ``(await bot.account("wx…")).api``. A one-account bot's account needs no appid. LookupError when this
        bot serves no such account (an unknown appid, a lookup that finds none, no platform)."""
        if self._single is not None:
            if appid is not None and appid != self._single.account.appid:
                raise LookupError(f"this bot serves the one account {self._single.account.appid or '(no appid)'}, "
                                  f"not {appid}")
            return self._single
        if appid is None:
            raise LookupError("this bot serves many accounts: name one, bot.account('wx…')")
        assert self._registry is not None
        served = await self._registry.resolve(appid)
        if served is None:
            raise LookupError(f"this bot serves no account {appid}: not in accounts=, not found by the lookup, and "
                              "no platform= whose authorizer it could be")
        return served

    def configured_account(self, appid: str) -> ServedAccount | None:
        """A configured account (``accounts=[...]``, or the one account), without a lookup; None otherwise."""
        if self._single is not None:
            return self._single if appid == self._single.account.appid else None
        assert self._registry is not None
        return self._registry.configured.get(appid)

    @property
    def configured_accounts(self) -> list[ServedAccount]:
        """The accounts this bot serves on credentials given up front (the one account, or ``accounts=[...]``)."""
        if self._single is not None:
            return [self._single]
        assert self._registry is not None
        return list(self._registry.configured.values())

    def _served_accounts(self) -> list[ServedAccount]:
        if self._single is not None:
            return [self._single]
        assert self._registry is not None
        return self._registry.known()

    @property
    def sessions(self) -> bool:
        """Whether ``ctx.session`` is kept (the dispatcher, which loads and saves it, holds the setting)."""
        return self._dispatcher.sessions

    @property
    def session_ttl(self) -> float:
        return self._dispatcher.session_ttl

    @property
    def api(self) -> Client:
        """The one account's API client, sharing the bot's store for its access token. For a bot serving many
        accounts, the client whose connections and API domains theirs share (use ``ctx.api`` or
        ``(await bot.account(appid)).api`` for an account's own)."""
        if self._single is not None:
            return self._single.api
        return self._base_client()

    @api.setter
    def api(self, client: Client) -> None:
        """Point the bot at another API client (a ``FakeWeChat``'s, in tests and the dev console) before it
        serves; the one it replaces is left open for its owner to close. Many accounts: their clients, and the
        platform's own, are made again from this one, sharing its connections and API domains."""
        if self._single is not None:
            self._single.client = client
            return
        self._base_api = client
        for served in self._served_accounts():
            served.client = None
        if self.platform is not None:
            self.platform.rebase()

    def _store_state(self) -> bytes:
        """The health answer's word for the store: ``memory`` (this process's own, whatever the other workers
        have), ``shared``, or ``local`` while the shared store is out and this process serves on local state."""
        if isinstance(self.store, MemoryStore):
            return b"memory"
        return b"shared" if self.store_healthy else b"local"

    @property
    def store_healthy(self) -> bool:
        """False while the shared store (Redis, SQLite) is out and this process serves on local state."""
        return self.store.healthy

    def _new_runtime(self) -> _Runtime:
        """Per-event-loop machinery, created on first use so a bot can be built at import time."""
        background = Background(self.background_limit)
        window = Window(self._dispatcher.run, self.store, background, self.observer.counts, handover=self._handover,
                        retention=self.retry_window, timeout_reply=self.timeout_reply, typing=self.typing,
                        lease=self.claim_lease, handler_timeout=self.handler_timeout,
                        enqueue=self._enqueue_message if self.queue else None)
        shedding = Shedding(self.shed_after, self.max_in_flight, self.shed_after_overloaded)
        return _Runtime(background, window, Gate(self.observer.counts, shedding))

    async def _in_thread(self, func: Callable[..., Any], *args: Any) -> Any:
        """A sync handler's call in the thread pool, its wait for a thread seen by this loop's load shedding."""
        return await self._runtime.get().gate.in_thread(func, *args)

    def _background(self) -> Background:
        return self._runtime.get().background

    async def _enqueue_message(self, msg: Message, ctx: Context, handler: str) -> bool:
        """A queued handler's message on the queue, with the appid of its account (never its credentials)."""
        assert self.queue is not None
        return await self.queue.enqueue_message(msg, handler, ctx.served.label)

    async def _enqueue_call(self, name: str, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """``ctx.enqueue``: on the queue, or here when there is none or it cannot be reached."""
        if self.queue is None or not await self.queue.enqueue_call(name, args, kwargs):
            self._runtime.get().background.submit(func, *args, **kwargs)

    def context(self, msg: Message, account: ServedAccount | None = None) -> Context:
        """A handler's context for ``msg`` pushed to ``account`` (``await bot.account(appid)``; a one-account bot's
        by default): what the webhook builds per message, and what a worker that runs handlers outside an HTTP
        request (a job queue) builds too."""
        if account is None:
            if self._single is None:
                raise LookupError("this bot serves many accounts: pass the message's account, "
                                  "bot.context(msg, await bot.account(appid))")
            account = self._single
        return Context(msg, self, self._runtime.get().background, account, enqueue=self._enqueue_call)

    async def _resume(self, entry: Entry, msg: Message) -> tuple[Context, Found] | None:
        """The context and route of a handed-over message for its account (None: not one this bot serves)."""
        try:
            served = await self.account(entry.appid or None)
        except LookupError:
            return None
        return self.context(msg, served), self.resolve(msg, served.account.appid)

    # registration -------------------------------------------------------------------------------------

    def on_platform(self, info_type: str | None = None) -> Callable[[P], P]:
        """Observe the third-party platform's notifications: ``@bot.on_platform("authorized")`` (or
        ``unauthorized``, ``updateauthorized``, ``component_verify_ticket``…; no name: every one). The handler
        gets the typed notification (``def h(event)``, or ``(event, bot)``), after wxhook stored what it carries
        (the ticket, the authorizer's record); WeChat is answered ``success`` whatever it does."""
        if self.platform is None:
            raise ConfigError("on_platform needs a third-party platform: Bot(platform=Platform(...))")
        return self.platform.on(info_type)

    # ASGI -----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if not self._started:
                self._started = True
                logger.warning("a request arrived before the bot's startup ran: mounted in another app without "
                               "lifespan=bot.lifespan? Then deferred replies and background work are lost at "
                               "shutdown; see docs/deployment.md, 'Mounted in Starlette or FastAPI'")
            single = self._single
            if single is None:
                await self._route(scope, receive, send)
            elif scope["method"] == "POST":  # a push: straight on, the one path that counts
                await self._push(scope, receive, Delivery(send, asyncio.get_running_loop(), single, self.observer))
            else:
                await self._other(scope, send, single)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            raise RuntimeError(f"wxhook serves HTTP only, not {kind!r}")

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Many accounts: ``/{appid}`` is an account's push URL, ``/events`` and the pages the platform's."""
        path = _relative(scope)
        appid = path[1:].rstrip("/") if path.startswith("/") else ""
        served = self._registry.cached(appid) if self._registry is not None else None
        if served is None and self._registry is not None and APPID.fullmatch(appid):
            try:
                served = await self._registry.resolve(appid)
            except Exception:
                logger.exception("the account lookup for %s failed; answered 503 (WeChat retries)", appid)
                await respond(send, 503, b"account lookup failed\n")
                return
        if served is not None:
            if scope["method"] == "POST":
                await self._push(scope, receive, Delivery(send, asyncio.get_running_loop(), served, self.observer))
            else:
                await self._other(scope, send, served)
        elif self.platform is not None and await self.platform.serve(path, scope, receive, send):
            return
        elif scope["method"] == "GET" and path in (self.health_path, self.metrics_path):
            await self._other(scope, send, None)
        else:
            await respond(send, 404, b"not found: this bot serves its accounts at /{appid}\n")

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
        file, an unreachable Redis) stops the server now, not at the first message. Starts the sweep that
        finishes what a dead worker handed over.
        """
        runtime = self._runtime.get()
        self._started = True
        show_info_logs()
        await self.store.check(self.keys.probe())
        if self.queue is not None:
            await self.queue.probe()
        self._warn_about_setup()
        if self._sweeping is None or self._sweeping.done():
            self._sweeping = asyncio.ensure_future(self._sweep(runtime.window))

    async def _sweep(self, window: Window) -> None:
        interval = max(2 * self.claim_lease, 1.0)
        while True:
            await asyncio.sleep(interval * random.uniform(0.75, 1.25))
            try:
                await window.sweep(self._resume)
            except Exception as exc:  # the store is out: the next sweep tries again
                logger.warning("could not read the handover ledger: %s", exc)

    def _warn_about_setup(self) -> None:
        if isinstance(self.store, MemoryStore) and (multiprocessing.parent_process() or "gunicorn" in sys.modules):
            logger.warning("this worker is one of several on the memory store: a WeChat retry that reaches another "
                           "worker runs its handler again; set WXHOOK_STORE=sqlite:///wxhook.db (one host) or "
                           "redis://… (several)")
        if not self._counts_on_late_replies():
            return  # a late reply that cannot go out for want of an AppSecret is an error line when it happens
        if self._single is not None and self._single.client is None and self.settings.secret is None:
            logger.warning("no AppSecret: a handler that misses the %gs deadline cannot send its reply late through "
                           "the customer-service API; set WXHOOK_SECRET (Bot(secret=...))", self.deadline)
        secretless = [served.account.appid for served in self.configured_accounts if served.account.secret is None]
        if self._single is None and secretless:
            logger.warning("%d account(s) have no AppSecret (%s%s): a handler that misses the %gs deadline cannot "
                           "send its reply late for them; give Account(secret=...)", len(secretless),
                           ", ".join(secretless[:5]), ", …" if len(secretless) > 5 else "", self.deadline)

    def _counts_on_late_replies(self) -> bool:
        """Whether this bot is set up to reply through the API: an interim ``timeout_reply`` promising the real
        one, ``typing``, or a ``queue=True`` handler (always answered that way). Any handler may miss its deadline;
        these are the setups where one is expected to, and a missing AppSecret is worth a warning at start-up."""
        return self.timeout_reply is not None or self.typing or any(route.queue for route in self._all_routes())

    @property
    def token_fetches(self) -> int:
        """Access tokens this bot's API clients fetched from WeChat (0 before they make a call)."""
        return sum(served.client.token_fetches for served in self._served_accounts() if served.client is not None)

    async def shutdown(self) -> None:
        """Called on ASGI lifespan shutdown: lets pending work finish within ``shutdown_grace``, then closes
        the API clients and the store. Work that cannot finish in time is logged by name."""
        self._started = False
        try:
            if self._sweeping is not None:
                self._sweeping.cancel()
                self._sweeping = None
            runtime = self._runtime.take()
            if runtime is not None:
                await runtime.background.drain(self.shutdown_grace)
            owner = self._single.client if self._single is not None else self._base_api
            if owner is not None:  # the clients of many accounts share its connections: it closes them
                await owner.aclose()
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

    async def _other(self, scope: Scope, send: Send, served: ServedAccount | None) -> None:
        """A GET (the handshake, health, metrics) or a method WeChat never uses."""
        method = scope["method"]
        if method != "GET":
            await respond(send, 405, b"method not allowed: WeChat uses GET and POST\n",
                          extra=((b"allow", b"GET, POST"),))
            return
        try:
            status, body, content_type = self._get(scope, served)
        except Rejected as exc:
            await self._reject(scope, method, exc, send)
            return
        await respond(send, status, body, content_type)

    async def _reject(self, scope: Scope, method: str, exc: Rejected, send: Send) -> None:
        self.observer.rejected()
        self._log_rejection(scope, method, exc)
        await respond(send, exc.status, exc.reason.encode() + b"\n")

    def _get(self, scope: Scope, served: ServedAccount | None) -> tuple[int, bytes, bytes]:
        """The handshake, or the health or metrics answer when the path is one of theirs."""
        if self.health_path or self.metrics_path:
            path = _relative(scope)
            if path == self.health_path:  # still 200 on local state: this process answers followers either way
                return 200, b'{"status":"ok","store":"%s"}' % self._store_state(), JSON
            if path == self.metrics_path:
                return 200, metrics_exposition(self), METRICS_TYPE
        if served is None:
            return 404, b"not found\n", TEXT
        return 200, served.inbound.handshake(scope), TEXT

    def _log_rejection(self, scope: Scope, method: str, exc: Rejected) -> None:
        """Once per source and kind of rejection a minute: junk from the internet must not fill the disk.

        ``wxhook verify``'s requests (its forged-signature probe) are counted apart and logged at INFO: a check
        that passed must not use up the warning of the next real rejection from that source."""
        source = (scope.get("client") or ("?",))[0]
        probe = from_verify(scope)
        kind = f"{source} {exc.status} {exc.reason[:24]}"
        allowed, held_back = self._rejections.allow(kind + " verify" if probe else kind)
        if allowed:
            more = f" (and {held_back} more like it from there since the last line)" if held_back else ""
            if probe:
                logger.info("rejected %s request from %s by wxhook verify, as it expects of a forged signature: "
                            "%s%s", method, source, exc.reason, more)
            else:
                logger.warning("rejected %s request from %s: %s%s", method, source, exc.reason, more)

    # request pipeline ------------------------------------------------------------------------------------

    async def _push(self, scope: Scope, receive: Receive, delivery: Delivery) -> None:
        """A push: admitted (``admission.py``: refused with 503 when it cannot be answered in time), read and checked
        (``Inbound``), typed, routed once (``Delivery.route``), answered in the window."""
        runtime = self._runtime.get(delivery.loop)
        gate = runtime.gate
        if not gate.admit(delivery):
            await gate.refuse(delivery.send)
            return
        served = delivery.served
        try:
            document, delivery.sealed, nonce = await served.inbound.read(scope, receive, delivery.arrived)
            msg = parse_message(document)
            if gate.too_late(scope, msg):  # shedding, and past its time: fresh pushes first
                await gate.refuse(delivery.send)
                return
            if self.platform is not None and served.account.source == "authorizer":
                release = await self.platform.release_test(msg, served)
                if release is not None:
                    delivery.msg = msg
                    await (delivery.reply(release) if release else delivery.reply_empty())
                    return
            delivery.route(self, msg, self.deadline)
            ctx = Context(msg, self, runtime.background, served, enqueue=self._enqueue_call)
            answer = await runtime.window.answer(msg, ctx, delivery, nonce)
            if answer is ANSWERED:
                return
            xml, outcome = answer
            delivery.log(outcome)
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
            self.stats[STORE_ERRORS] += 1
            logger.exception("could not process a POST request; answered success")
            xml = None
        finally:
            gate.leave()
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

    async def wait_background(self, timeout: float = 5.0) -> list[str]:
        """Wait up to ``timeout`` seconds for the work this event loop runs after answering (``ctx.background``
        jobs, late replies on their way), cancelling nothing; the names of what still runs. For tests, after
        ``handle`` or a push (``BotClient.wait_background`` waits for deferred handlers too)."""
        return await self._runtime.get().background.wait(timeout)

    async def recover(self, exc: Exception, msg: Message, ctx: Context) -> Reply | None:
        """What ``handle`` does with a handler's exception: log it, then the ``on_error`` handlers' reply."""
        return await self._dispatcher.recover(exc, msg, ctx)


def _relative(scope: Scope) -> str:
    """The request's path below the bot's mount point."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def _settings_account(settings: Settings) -> Account:
    """The one account a bot built from one-account settings serves."""
    key = settings.aes_key
    return Account(settings.appid or "", settings.token,
                   base64.b64encode(key).decode().rstrip("=") if key is not None else None, settings.secret)
