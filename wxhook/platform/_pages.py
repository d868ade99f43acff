"""The merchant's way in: ``GET /authorize`` shows the authorization links, ``GET /authorized`` is where WeChat
sends the browser back with the authorization code.

A page, not a redirect: WeChat checks that the link is followed from a page on the platform's authorization
domain (the Referer). The app decides who may authorize (``Platform(authorize=...)``) and passes its own
``state`` (which tenant is authorizing); it travels inside the ``redirect_uri``, signed with a key derived from
the platform's secret and valid for an hour, so the app gets back exactly what it put in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import json
import logging
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..accounts import APPID
from ..api import WeChatError
from ..protocol import Receive, Scope, Send

if TYPE_CHECKING:
    from ._service import PlatformService

logger = logging.getLogger("wxhook")

_STATE_LIFETIME = 3600
_NO_STORE = {"cache-control": "no-store", "referrer-policy": "strict-origin-when-cross-origin"}


class Pages:
    """The two pages of one platform; both answer 404 unless ``Platform(authorize=...)`` is set."""

    def __init__(self, service: PlatformService) -> None:
        self._service = service
        secret = service.config.component_secret.encode()
        self._key = hmac.new(secret, b"wxhook:platform-state", hashlib.sha256).digest()

    async def serve(self, path: str, scope: Scope, receive: Receive, send: Send) -> bool:
        config = self._service.config
        if config.authorize is None or path not in ("/authorize", "/authorized") or scope["method"] != "GET":
            return False
        request = Request(scope, receive)
        response = await (self._authorize(request) if path == "/authorize" else self._authorized(request))
        await response(scope, receive, send)
        return True

    async def _authorize(self, request: Request) -> Response:
        config = self._service.config
        assert config.authorize is not None
        state = await config.authorize(request)
        if state is None:
            return _page("Not allowed", "You may not authorize an account here.", 403)
        biz_appid = request.query_params.get("biz_appid")
        if biz_appid is not None and not APPID.fullmatch(biz_appid):
            return _page("Bad request", "biz_appid must be an AppID ('wx' and 16 hex digits).", 400)
        redirect_uri = f"{self._base(request)}/authorized?{urlencode({'state': self.sign(state)})}"
        try:
            code, _ = await self._service.api.pre_auth_code()
        except WeChatError as exc:
            logger.error("authorization page of platform %s: no pre_auth_code: %s", self._service.appid, exc)
            return _page("Try again later", "WeChat did not hand out an authorization code; try again shortly.", 503)
        api = self._service.api
        auth_type = None if biz_appid else 3
        pc = api.authorize_url(code, redirect_uri, auth_type=auth_type, biz_appid=biz_appid)
        mobile = api.authorize_url(code, redirect_uri, auth_type=auth_type, biz_appid=biz_appid, mobile=True)
        body = (f'<p><a id="pc" href="{html.escape(pc)}">Authorize with a QR code (on a computer)</a></p>'
                f'<p><a id="mobile" href="{html.escape(mobile)}">Authorize inside WeChat (on a phone)</a></p>')
        return _page("Authorize your official account", body, 200, markup=True)

    async def _authorized(self, request: Request) -> Response:
        state = self.verify(request.query_params.get("state", ""))
        if state is None:
            return _page("Authorization failed", "The link is not one this site made, or it is older than an hour: "
                         "start again from the authorization page.", 400)
        code = request.query_params.get("auth_code", "")
        if not code:
            return _page("Not authorized", "WeChat sent no authorization code: the authorization was cancelled.", 400)
        try:
            authorizer = await self._service.exchange(code)
        except WeChatError as exc:
            logger.error("platform %s could not exchange the code of a returning merchant: %s",
                         self._service.appid, exc)
            return _page("Authorization failed", "WeChat did not accept the authorization (it may have expired): "
                         "start again from the authorization page.", 502)
        hook = self._service.config.on_authorized
        if hook is not None:
            response = await hook(request, authorizer, state)
            if response is not None:
                return response
        name = authorizer.name or authorizer.appid
        return _page("Authorized", f"{name} is now authorized. You can close this page.", 200)

    def _base(self, request: Request) -> str:
        """Where the bot is mounted, as the world sees it."""
        public = self._service.config.public_url
        if public is not None:
            return public.rstrip("/")
        return str(request.url.replace(path=request.scope.get("root_path", ""), query="", fragment="")).rstrip("/")

    def sign(self, state: str) -> str:
        """The app's state with an expiry and a MAC, fit for a query parameter."""
        payload = base64.urlsafe_b64encode(json.dumps([state, int(time.time()) + _STATE_LIFETIME]).encode())
        text = payload.decode().rstrip("=")
        return f"{text}.{hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()}"

    def verify(self, signed: str) -> str | None:
        """The app's state, if this platform signed it within the hour; None otherwise."""
        text, _, mac = signed.partition(".")
        expected = hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac.encode(), expected.encode()):
            return None
        try:
            state, expires = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (binascii.Error, ValueError, TypeError):
            return None
        if not isinstance(state, str) or not isinstance(expires, int) or expires < time.time():
            return None
        return state


def _page(title: str, body: str, status: int, *, markup: bool = False) -> HTMLResponse:
    content = body if markup else f"<p>{html.escape(body)}</p>"
    return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
                        f"<h1>{html.escape(title)}</h1>{content}", status_code=status, headers=_NO_STORE)
