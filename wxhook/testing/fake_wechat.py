"""``FakeWeChat``: a fake api.weixin.qq.com on loopback, for testing code that calls the WeChat API."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Generator
from types import TracebackType

import uvicorn

from ..crypto import decode_aes_key
from ._fake_account import AccountData, FakeAccount
from ._fake_app import ENDPOINTS, FakeApp
from ._fake_assets import PNG
from ._fake_component import Component
from ._fake_platform import FakePlatform
from ._fake_state import FakeState, RecordedCall, Rule, random_id

__all__ = ["SAMPLE_PNG", "SERVED_PATHS", "FakeWeChat"]

SERVED_PATHS: frozenset[str] = frozenset(ENDPOINTS)
"""Every API path a FakeWeChat answers (what ``fake.fail(path, …)`` can script)."""
SAMPLE_PNG: bytes = PNG
"""A one-pixel PNG, the picture the fake hands out where WeChat would hand out an image (QR codes, media)."""

DEFAULT_APPID = "wxf4ce0000000fa4e0"
DEFAULT_SECRET = "fa4e5ec2e7000000000000000000fa4e"
COMPONENT_APPID = "wxc0c0000000c0c0c0"
COMPONENT_SECRET = "c0c05ec2e7000000000000000000c0c0"
COMPONENT_TOKEN = "wxhookcomponent"
COMPONENT_AES_KEY = "c0mp0nentEncodingAESKeyOfTheFakeWeChat00000"
_START_TIMEOUT = 10.0
_DRAIN_STEPS = 400  # 2 s for in-flight answers (a scripted delay) and background pushes to finish


class _Server(uvicorn.Server):
    """Leaves the test runner's signal handlers alone (Ctrl-C must still stop pytest) and stops at once.

    uvicorn polls ``should_exit`` and drains connections in 0.1 s steps; waiting on an event and polling
    finer keeps a suite that starts a fake per test from spending most of its time in teardown.
    """

    _loop: asyncio.AbstractEventLoop | None = None
    _stopping: asyncio.Event | None = None

    def __init__(self, config: uvicorn.Config, app: FakeApp) -> None:
        super().__init__(config)
        self._app = app

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        self._loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
        await self.on_tick(0)
        if not self.should_exit:
            await self._stopping.wait()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        for _ in range(_DRAIN_STEPS):
            if not self.server_state.connections and not self.server_state.tasks:
                break
            await asyncio.sleep(0.005)
        for task in self.server_state.tasks:
            task.cancel()
        await self._app.settle(_DRAIN_STEPS, 0.005)
        for server in self.servers:
            await server.wait_closed()

    def stop(self) -> None:
        """Callable from any thread."""
        self.should_exit = True
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)


class FakeWeChat(AccountData):
    """A fake WeChat API server: real HTTP on 127.0.0.1, real tokens, documented validation and errcodes.

    Start it inside a test's event loop with ``async with FakeWeChat() as fake:``, or from synchronous
    code (and for other processes to call) with ``with FakeWeChat() as fake:``, which serves it from a
    background thread. Point a client at ``fake.url`` (``fake.client()`` does it), then assert on
    ``fake.calls(path)`` and script trouble with ``fake.fail(...)``. It serves the mp host's
    ``/cgi-bin/showqrcode`` and one-time subscription page (``/mp/subscribemsg``), and the open host's OAuth
    consent page (``/connect/oauth2/authorize``, see :meth:`sign_in`) too, so use ``fake.url`` as ``mp_base`` and
    ``open_base`` as well.

    It serves one official account (``appid``/``secret``, whose data the helpers below seed) and any more added
    with :meth:`add_account`; every call is recorded with the account it was for (``RecordedCall.appid``). With
    :meth:`platform` it plays the open platform for a third-party platform too (:class:`FakePlatform`).
    """

    def __init__(
        self,
        *,
        appid: str = DEFAULT_APPID,
        secret: str = DEFAULT_SECRET,
        token_ttl: int = 7200,
        overlap: int = 300,
        page_size: int = 10_000,
        port: int = 0,
    ) -> None:
        self.state = FakeState(appid, secret, token_ttl=token_ttl, overlap=overlap, page_size=page_size)
        self._port = port
        """The loopback port to serve on (0: any free one; ``url`` says which)."""
        self._app = FakeApp(self.state)
        self._lock = self._app.lock
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321``."""
        if self._url is None:
            raise RuntimeError(
                "FakeWeChat is not running; use `async with FakeWeChat()` or `with FakeWeChat()`"
            )
        return self._url

    # -- lifecycle -------------------------------------------------------------------------------------

    def _new_server(self) -> _Server:
        config = uvicorn.Config(
            self._app.asgi,
            host="127.0.0.1",
            port=self._port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config, self._app)
        return self._server

    def _not_started(self) -> RuntimeError:
        where = f"127.0.0.1:{self._port} (taken?)" if self._port else "127.0.0.1"
        return RuntimeError(f"FakeWeChat did not start: uvicorn could not bind {where}")

    def _bound(self, server: _Server) -> None:
        port = server.servers[0].sockets[0].getsockname()[1]
        self._url = f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> FakeWeChat:
        server = self._new_server()
        self._task = asyncio.create_task(server.serve())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT
        while not server.started:
            if self._task.done() or loop.time() > deadline:
                await self.__aexit__(None, None, None)
                raise self._not_started()
            await asyncio.sleep(0.005)
        self._bound(server)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.stop()
        if self._task is not None:
            with contextlib.suppress(Exception, SystemExit):
                await self._task
        self._server, self._task, self._url = None, None, None

    def __enter__(self) -> FakeWeChat:
        server = self._new_server()
        self._thread = threading.Thread(
            target=asyncio.run, args=(server.serve(),), name="FakeWeChat", daemon=True
        )
        self._thread.start()
        stopped = threading.Event()
        for _ in range(int(_START_TIMEOUT / 0.005)):
            if server.started or not self._thread.is_alive():
                break
            stopped.wait(0.005)
        if not server.started:
            self.__exit__(None, None, None)
            raise self._not_started()
        self._bound(server)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.stop()
        if self._thread is not None:
            self._thread.join(_START_TIMEOUT)
        self._server, self._thread, self._url = None, None, None

    # -- what happened ---------------------------------------------------------------------------------

    def calls(self, path: str | None = None, *, appid: str | None = None) -> list[RecordedCall]:
        """Every request received (or those to ``path``, those for the account ``appid``), oldest first."""
        with self._app.lock:
            return [c for c in self._app.calls
                    if (path is None or c.path == path) and (appid is None or c.appid == appid)]

    def count(self, path: str, *, appid: str | None = None) -> int:
        """How many requests ``path`` received (for the account ``appid``)."""
        return len(self.calls(path, appid=appid))

    @property
    def counts(self) -> dict[str, int]:
        """Requests received per path."""
        with self._app.lock:
            counts: dict[str, int] = {}
            for call in self._app.calls:
                counts[call.path] = counts.get(call.path, 0) + 1
            return counts

    def reset_calls(self) -> None:
        with self._app.lock:
            self._app.calls.clear()

    def subscribe(self, listener: Callable[[RecordedCall], None]) -> Callable[[], None]:
        """Call ``listener(call)`` after each request from now on is answered, to follow the fake live (the dev
        console shows deferred replies this way). It runs on the fake's server loop, so it must not block;
        from another loop, hand the call over with ``loop.call_soon_threadsafe``. Returns the unsubscribe."""
        with self._app.lock:
            self._app.listeners.append(listener)

        def unsubscribe() -> None:
            with self._app.lock, contextlib.suppress(ValueError):
                self._app.listeners.remove(listener)

        return unsubscribe

    # -- scripted trouble ------------------------------------------------------------------------------

    def fail(
        self,
        path: str,
        errcode: int | None = None,
        *,
        times: int | None = 1,
        status: int | None = None,
        delay: float | None = None,
        errmsg: str | None = None,
        openid: str | None = None,
        appid: str | None = None,
    ) -> None:
        """Make the next ``times`` calls to ``path`` (``None``: all of them) misbehave.

        ``errcode`` answers ``{"errcode": …}`` (40164's errmsg names the caller's IP as WeChat does),
        ``status`` answers that HTTP status instead, ``delay`` waits that many seconds first (alone, it
        only slows the normal answer). ``openid`` limits the rule to calls about that user (``touser`` or
        ``openid`` in the body or query), ``appid`` to calls for that account. Earlier rules win while they last.
        """
        if errcode is None and status is None and delay is None:
            raise ValueError("fail() needs errcode=, status= or delay=")
        with self._app.lock:
            self._app.rules.append(Rule(path, errcode, status, delay, times, openid, errmsg, appid))

    def clear_failures(self) -> None:
        with self._app.lock:
            self._app.rules.clear()

    # -- accounts ------------------------------------------------------------------------------------------

    def add_account(
        self, appid: str, secret: str | None = None, *, original_id: str | None = None, name: str | None = None
    ) -> FakeAccount:
        """Another official account served by this fake, with tokens and data of its own: its token endpoints
        answer for its appid and secret (a random one unless given), and calls made with its tokens are recorded
        with its ``appid``. ``original_id`` is its gh_ id (derived from the appid unless given)."""
        with self._app.lock:
            state = self.state.sibling(appid, secret or random_id(32, "0123456789abcdef"), original_id, name)
        return FakeAccount(self, state, self._app.lock)

    def account(self, appid: str) -> FakeAccount:
        """The account ``appid`` — the default one, one added with :meth:`add_account`, or a platform's
        authorizer — to seed or read its data."""
        with self._app.lock:
            state = self.state.shared.accounts.get(appid)
        if state is None:
            raise KeyError(f"FakeWeChat has no account {appid}: add it with fake.add_account(appid) (or authorize it "
                           "with a platform)")
        return FakeAccount(self, state, self._app.lock)

    def platform(self, appid: str = COMPONENT_APPID, secret: str | None = None, token: str | None = None,
                 aes_key: str | None = None) -> FakePlatform:
        """Play the open platform for the third-party platform (component) ``appid``, with these credentials (a
        test component's unless given): the same platform again when it exists and the credentials given match."""
        with self._app.lock:
            shared = self.state.shared
            component = shared.platforms.get(appid)
            if component is None:
                if appid in shared.accounts:
                    raise ValueError(f"{appid} is an official account of this fake; a platform needs an appid of "
                                     "its own")
                decode_aes_key(aes_key or COMPONENT_AES_KEY)  # a ValueError saying what is wrong with it
                component = Component(appid, secret or COMPONENT_SECRET, token or COMPONENT_TOKEN,
                                      aes_key or COMPONENT_AES_KEY, self.state)
                shared.platforms[appid] = component
            elif any(given not in (None, held) for given, held in
                     ((secret, component.secret), (token, component.token), (aes_key, component.aes_key))):
                raise ValueError(f"platform {appid} exists with other credentials")
        return FakePlatform(self, component, self._app.lock)

    def sign_in(self, openid: str, *, consent: bool = True) -> None:
        """Who is using WeChat when a browser opens the authorize URL (``open_base`` = ``fake.url``) or a one-time
        subscription's consent URL (``mp_base`` = ``fake.url``).

        The fake's consent page then redirects at once to the redirect_uri with ``code`` and ``state``,
        or, with ``consent=False`` (the user declined), with the ``state`` alone; the one-time page with
        ``action=confirm`` and the openid (the consent allows one send), or ``action=cancel``.
        """
        with self._app.lock:
            self.state.shared.browser_user = (openid, consent)

    def revoke_tokens(self) -> None:
        """Revoke every access token issued (every account's, and the platforms' component and authorizer tokens), as
        a force refresh elsewhere would: calls get 40001."""
        with self._app.lock:
            shared = self.state.shared
            for tokens in [a.tokens for a in shared.accounts.values()] + [p.tokens for p in shared.platforms.values()]:
                for issued in tokens.values():
                    issued.revoked = True

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: tokens, tickets and codes expire (42001, 61005…) without the test
        sleeping."""
        with self._app.lock:
            self.state.shared.clock_offset += seconds
