"""Web-page login (网页授权) for a site served beside the bot: two routes and a signed, browser-bound state.

``/login`` sends the browser to WeChat's consent page; ``/callback`` checks that the state WeChat brings
back was issued by this app, to this browser, recently, and never used before, then trades the code for the user
and hands it to the application's own function, whose response ends the login. Whatever goes wrong ends on the
login's error page, with the state's cookie cleared.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, NamedTuple, TypeVar, overload
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from .api import (
    Client,
    OAuthToken,
    OAuthUserInfo,
    ResponseTooLargeError,
    UnexpectedAnswerError,
    WeChatAPIError,
    WeChatError,
    WeChatNetworkError,
)
from .stores import Store, StoreUnavailable
from .stores.keys import login_state_key

__all__ = ["WebLogin"]

U = TypeVar("U", OAuthUserInfo, OAuthToken)
Scopes = Literal["snsapi_base", "snsapi_userinfo"]

COOKIE_PREFIX = "wxhook_login_"
_PURPOSE = "weblogin-state"
_NONCE_HEX = 32
_MAC_HEX = 64
# nonce, expiry as 10 decimal digits, HMAC-SHA256: 106 characters of a-z0-9, inside WeChat's 128 a-zA-Z0-9.
_STATE = re.compile(rf"([0-9a-f]{{{_NONCE_HEX}}})([0-9]{{10}})([0-9a-f]{{{_MAC_HEX}}})")
_MAX_NEXT = 1024
_NO_STORE = {"cache-control": "no-store"}
logger = logging.getLogger("wxhook")


class LoginRefused(Exception):
    """Why a login cannot go on; the message is shown to the browser on the error page, with ``status``: 400 for
    what the browser brought, 502 when WeChat failed, 503 when the store did."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.status = status


class VerifiedState(NamedTuple):
    """A state that checked out: its nonce, when it expires (epoch seconds) and the ``next`` path it carries."""

    nonce: str
    expires: int
    next_path: str

    @property
    def cookie(self) -> str:
        return COOKIE_PREFIX + self.nonce


def safe_next(value: str) -> str:
    """``value`` if it is a path on this site; anything a browser could read as another host is refused.

    A single leading ``/`` rules out a scheme and a host. Browsers treat ``\\`` like ``/`` and drop tabs and
    newlines, so ``/\\evil.example`` or ``/<tab>/evil.example`` would become ``//evil.example``: backslashes
    and control characters are refused outright.
    """
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value)
    ):
        raise LoginRefused(
            f"next={value!r} is not allowed: it must be a path on this site starting with a single '/', "
            f"such as /profile?tab=orders"
        )
    if len(value) > _MAX_NEXT:
        raise LoginRefused(f"next is {len(value)} characters long; keep it to {_MAX_NEXT}")
    return value


@dataclass(frozen=True)
class StateSigner:
    """Issues and checks login states: HMAC-SHA256 over a nonce, an expiry and the ``next`` path.

    The nonce also names a cookie set on the browser that started the login, and that cookie carries the
    ``next`` path, so a state copied into another browser finds no cookie and fails.
    """

    key: bytes = field(repr=False)
    ttl: int

    def _mac(self, nonce: str, expires: str, next_path: str) -> str:
        message = f"{nonce}.{expires}.{next_path}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def issue(self, next_path: str, now: float) -> tuple[str, str, str]:
        """A new ``(state, cookie name, cookie value)``."""
        nonce = secrets.token_hex(_NONCE_HEX // 2)
        expires = f"{int(now) + self.ttl:010d}"
        state = nonce + expires + self._mac(nonce, expires, next_path)
        return state, COOKIE_PREFIX + nonce, base64.urlsafe_b64encode(next_path.encode()).decode().rstrip("=")

    def verify(self, state: str, cookies: dict[str, str], now: float) -> VerifiedState:
        """A valid state's nonce, expiry and ``next`` path; :class:`LoginRefused` says what is wrong."""
        match = _STATE.fullmatch(state)
        if match is None:
            raise LoginRefused("the login state is missing or malformed: start the login again")
        nonce, expires, mac = match.groups()
        cookie = COOKIE_PREFIX + nonce
        if cookie not in cookies:
            raise LoginRefused(
                "this login was not started in this browser (or its cookie expired or was blocked): "
                "start the login again from this browser"
            )
        try:
            encoded = cookies[cookie]
            next_path = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            next_path = ""
        if not hmac.compare_digest(mac, self._mac(nonce, expires, next_path)):
            raise LoginRefused("the login state does not match its signature (it was altered): start again")
        if int(expires) <= now:
            raise LoginRefused(f"the login expired (it has to finish within {self.ttl} seconds): start again")
        return VerifiedState(nonce, int(expires), next_path)


class WebLogin(Generic[U]):
    """WeChat web-page login as two routes, ``/login`` and ``/callback``, to mount beside the bot.

    ``app.mount("/auth", login)`` (or ``Mount("/auth", routes=login.routes)``), then link to
    ``/auth/login?next=/profile``. After the callback checks the state and exchanges the code,
    ``await on_login(request, user)`` makes the response: ``user`` is the :class:`OAuthUserInfo` with
    ``scope="snsapi_userinfo"`` (the default) or the :class:`OAuthToken` with ``scope="snsapi_base"``.
    ``request.state.next`` holds the checked ``next`` path and ``request.state.oauth_token`` the user's token.

    ``redirect_uri`` defaults to this app's own ``/callback`` as the request reached it (scheme and host
    from the ASGI scope, so behind a proxy run uvicorn with ``--proxy-headers``); its domain must be the
    account's web-authorisation domain (网页授权域名). States are signed with ``secret`` or, without one,
    a key derived from the AppSecret, and expire after ``ttl`` seconds. A state works once: the callback records
    it in the client's store (``client.store``) for the rest of its lifetime, so give every process the same
    shared store (SQLite, Redis) and a state spent on one is spent on all.
    """

    @overload
    def __init__(
        self: WebLogin[OAuthUserInfo],
        client: Client,
        on_login: Callable[[Request, OAuthUserInfo], Awaitable[Response]],
        *,
        scope: Literal["snsapi_userinfo"] = ...,
        redirect_uri: str | None = ...,
        secret: str | bytes | None = ...,
        ttl: int = ...,
        lang: str = ...,
    ) -> None: ...

    @overload
    def __init__(
        self: WebLogin[OAuthToken],
        client: Client,
        on_login: Callable[[Request, OAuthToken], Awaitable[Response]],
        *,
        scope: Literal["snsapi_base"],
        redirect_uri: str | None = ...,
        secret: str | bytes | None = ...,
        ttl: int = ...,
        lang: str = ...,
    ) -> None: ...

    def __init__(
        self,
        client: Client,
        on_login: Callable[[Request, Any], Awaitable[Response]],
        *,
        scope: Scopes = "snsapi_userinfo",
        redirect_uri: str | None = None,
        secret: str | bytes | None = None,
        ttl: int = 600,
        lang: str = "zh_CN",
    ) -> None:
        if scope not in ("snsapi_base", "snsapi_userinfo"):
            raise ValueError(
                f"scope must be 'snsapi_userinfo' (the profile) or 'snsapi_base' (the openid only), got {scope!r}"
            )
        if ttl <= 0:
            raise ValueError(f"ttl must be a positive number of seconds, got {ttl}")
        if redirect_uri is not None and not redirect_uri.startswith(("http://", "https://")):
            raise ValueError(
                f"redirect_uri must be the callback's full URL (https://…/callback), or None, got {redirect_uri!r}"
            )
        self.client = client
        self.on_login = on_login
        self.scope = scope
        self.redirect_uri = redirect_uri
        self.ttl = ttl
        self.lang = lang
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self._signer: StateSigner | None = None
        self.routes: list[BaseRoute] = [
            Route("/login", self.login, methods=["GET"], name="wxhook_login"),
            Route("/callback", self.callback, methods=["GET"], name="wxhook_login_callback"),
        ]
        self._router = Router(routes=self.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._router(scope, receive, send)

    def _state_signer(self) -> StateSigner:
        """Built on first use: the AppSecret may come from the environment after this object is created."""
        if self._signer is None:
            key = self._secret if self._secret else self.client.oauth.signing_key(_PURPOSE)
            self._signer = StateSigner(key, self.ttl)
        return self._signer

    def _callback_url(self, request: Request) -> str:
        if self.redirect_uri is not None:
            return self.redirect_uri
        path = request.scope.get("root_path", "") + "/callback"
        return str(request.url.replace(path=path, query="", fragment=""))

    async def login(self, request: Request) -> Response:
        """Send the browser to WeChat's consent page, with a fresh state and its cookie."""
        try:
            next_path = safe_next(request.query_params.get("next", "/"))
        except LoginRefused as refused:
            return _refused(refused)
        state, cookie, value = self._state_signer().issue(next_path, time.time())
        callback_url = self._callback_url(request)
        callback = urlsplit(callback_url)
        target = self.client.oauth.authorize_url(callback_url, self.scope, state)
        response = RedirectResponse(target, status_code=302, headers=_NO_STORE)
        response.set_cookie(
            cookie,
            value,
            max_age=self.ttl,
            path=callback.path or "/",
            secure=callback.scheme == "https",
            httponly=True,
            samesite="lax",
        )
        return response

    async def callback(self, request: Request) -> Response:
        """Check the state and spend it, then log the user in; the state's cookie is cleared either way."""
        again = request.scope.get("root_path", "") + "/login"
        try:
            state = request.query_params.get("state", "")
            verified = self._state_signer().verify(state, dict(request.cookies), time.time())
        except LoginRefused as refused:
            return _refused(refused, again)
        try:
            await self._spend(verified)
            response = await self._log_in(request, request.query_params.get("code"), verified.next_path)
        except LoginRefused as refused:
            response = _refused(refused, f"{again}?{urlencode({'next': verified.next_path})}")
        cookie_path = urlsplit(self._callback_url(request)).path or "/"
        response.delete_cookie(verified.cookie, path=cookie_path, httponly=True, samesite="lax")
        return response

    async def _spend(self, state: VerifiedState) -> None:
        """Record the state as used until it expires: the same state and cookie again (both captured, with a new
        code) is refused, on every process sharing the store."""
        store: Store = self.client.store
        outage: tuple[type[Exception], ...] = (StoreUnavailable, *store.outage_errors)
        try:
            first = await store.set_if_absent(login_state_key(state.nonce), "used", max(state.expires - time.time(), 1))
        except outage as exc:
            logger.warning("web login: the store could not record a login state: %s", exc)
            raise LoginRefused("the login cannot be checked right now (its store is unavailable): try again shortly",
                               status=503) from None
        if not first:
            raise LoginRefused("this login was already used (each login link works once): start the login again")

    async def _log_in(self, request: Request, code: str | None, next_path: str) -> Response:
        if not code:
            raise LoginRefused("WeChat sent no code: the user declined the authorisation (or the link was cut)")
        try:
            token = await self.client.oauth.exchange(code)
        except WeChatError as exc:
            if isinstance(exc, WeChatAPIError) and not exc.transient:
                raise LoginRefused(
                    f"WeChat refused the login code (errcode {exc.errcode}: {exc.errmsg}); a code works once, "
                    f"within 5 minutes"
                ) from exc
            raise _upstream(exc) from exc
        request.state.next = next_path
        request.state.oauth_token = token
        user: OAuthUserInfo | OAuthToken = token
        if self.scope == "snsapi_userinfo":
            try:
                user = await self.client.oauth.user_info(token.access_token, token.openid, self.lang)
            except WeChatError as exc:
                raise _upstream(exc) from exc
        return await self.on_login(request, user)


def _upstream(exc: WeChatError) -> LoginRefused:
    """A call WeChat (or the way to it) failed: 502, naming the call and what came back; the detail an operator
    acts on (which domain, which setting) goes to the log, not to the browser."""
    logger.warning("web login failed: %s", exc)
    if isinstance(exc, WeChatAPIError):
        what = f"errcode {exc.errcode}: {exc.errmsg}"
    elif isinstance(exc, UnexpectedAnswerError):
        what = "an unexpected answer"
    elif isinstance(exc, ResponseTooLargeError):
        what = "an answer too large"
    elif isinstance(exc, WeChatNetworkError) and exc.status is not None:
        what = f"HTTP {exc.status}"
    else:
        what = "no answer"
    call = getattr(exc, "path", "a call")
    return LoginRefused(f"WeChat's {call} failed ({what}), so the login could not finish: try again", status=502)


def _refused(refused: LoginRefused, again: str | None = None) -> HTMLResponse:
    link = f'<p><a href="{html.escape(again)}">Log in again</a></p>' if again else ""
    body = (
        "<!doctype html><meta charset=utf-8><title>Login failed</title>"
        f"<h1>Login failed</h1><p>{html.escape(str(refused))}</p>{link}"
    )
    return HTMLResponse(body, status_code=refused.status, headers=_NO_STORE)
