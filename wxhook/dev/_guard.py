"""Who may use the console: requests to its own address, from its own page.

The console drives a bot and reads its replies without authentication, and it runs where the developer's
browser runs, so any page that browser opens could try to use it. A DNS-rebinding page (a hostile name that
resolves to 127.0.0.1) shows up as a foreign ``Host``; a cross-origin fetch or form as a foreign ``Origin`` or
``Sec-Fetch-Site: cross-site``. Each is refused before any route runs, the bot's under ``/wechat/`` included
(each account's ``/wechat/{appid}``, the platform's ``/wechat/events``): the console's own pushes, and its fake
platform's, go to the address the request came in on, which always passes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

Address = tuple[str, int | None]
"""A host name in lower case (an IPv6 address in brackets) and a port; None: any port."""

_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_HOST = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::([0-9]{1,5}))?")
_DEFAULT_PORT = {"http": 80, "https": 443}
_FIX = "start the console with --allow-host NAME[:PORT] (create_console(..., allowed_hosts=[...]))"
_HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


def parse_host(value: str, default_port: int | None) -> Address | None:
    """``NAME`` or ``NAME:PORT`` as a Host header writes it, or None for anything else."""
    match = _HOST.fullmatch(value.lower())
    if match is None:
        return None
    name, port = match.groups()
    return name, int(port) if port else default_port


def allowed_host(entry: str) -> Address:
    """An ``allowed_hosts`` entry: ``NAME`` allows the name on any port, ``NAME:PORT`` on that port only."""
    address = parse_host(entry, None)
    if address is None or (address[1] is not None and not 0 < address[1] < 65536):
        raise ValueError(f"allowed host {entry!r} is not NAME or NAME:PORT (e.g. devbox.lan, devbox.lan:8000, "
                         "[fd00::1]:8000): the name a browser puts in the Host header, without a scheme or path")
    return address


class ConsoleGuard:
    """ASGI middleware answering 403 (400 without a Host), with a one-line reason, to requests that do not come
    to the console's own address from its own page.

    Own addresses: the one the connection came in on (the bound address, or with a wildcard bind the interface's)
    and ``localhost``, ``127.0.0.1`` and ``[::1]``, each on the console's port, plus ``allowed`` (see
    :func:`allowed_host`).
    """

    def __init__(self, app: ASGIApp, allowed: Sequence[Address] = ()) -> None:
        self.app = app
        self.allowed = tuple(allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, reason = refusal
        await PlainTextResponse(f"wxhook dev: {reason}\n", status, headers=_HEADERS)(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """The status and reason to refuse the request with, or None to let it through."""
        headers = Headers(scope=scope)
        host = headers.get("host")
        if host is None:
            return 400, "the request has no Host header"
        if not self._own(parse_host(host, _DEFAULT_PORT.get(scope.get("scheme", "http"))), scope):
            return 403, f"Host {host[:100]!r} is not this console's address; to open it by that name, {_FIX}"
        origin = headers.get("origin")
        if origin is not None and not self._own(_origin(origin), scope):
            return 403, f"a page at Origin {origin[:100]!r} may not use the console; to open it from there, {_FIX}"
        if headers.get("sec-fetch-site") == "cross-site" and not _opened(scope, headers):
            return 403, ("a cross-site request (Sec-Fetch-Site: cross-site) may not use the console: only its own "
                         "page may, a link may only open it")
        return None

    def _own(self, address: Address | None, scope: Scope) -> bool:
        if address is None:
            return False
        name, port = address
        server = scope.get("server")
        if server:
            bound = str(server[0])
            own = {*_LOOPBACK, f"[{bound}]" if ":" in bound else bound}
            if name in own and port == server[1]:
                return True
        return any(name == allowed and allowed_port in (None, port) for allowed, allowed_port in self.allowed)


def _origin(value: str) -> Address | None:
    """The host and port of an ``Origin`` header (``scheme://host[:port]``); None for ``null`` and the like."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORT or parts.path or parts.query or parts.fragment:
        return None
    return parse_host(parts.netloc, _DEFAULT_PORT[parts.scheme])


def _opened(scope: Scope, headers: Headers) -> bool:
    """A link followed to the console in a tab: it reads nothing back and changes nothing (framing is refused)."""
    return (scope["method"] in ("GET", "HEAD") and headers.get("sec-fetch-mode") == "navigate"
            and headers.get("sec-fetch-dest") == "document")
