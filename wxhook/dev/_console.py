"""The dev console: a page that plays a follower's phone against a bot, with a FakeWeChat as the bot's API.

One app serves three things: the bot itself at ``/wechat/``, the page at ``/`` (static files shipped in the
package), and the page's backend under ``/api/``. The backend turns a follower's action into the message WeChat
would push, posts it to the picked account's URL (``/wechat/``, or ``/wechat/{appid}`` for a bot serving many)
over real HTTP with ``BotClient`` (signed with that account's token, or its platform's; sealed in safe mode) and
answers with the decoded reply and the raw XML both ways. What a follower can send is the composer's table
(``_kinds``): every message and event type wxhook parses. Every call the bot makes to the fake API reaches the page
live as server-sent events, tagged with the account (the API panel), and so does what some of them mean: a reply
past its deadline (or its failure), a typing indicator, a new menu; the page arms the fake's faults
(``/api/fail``) to see how the bot copes. For a bot with a third-party platform the fake plays the open platform
too: accounts authorize it and revoke it from the page (``/api/authorize``, ``/api/revoke``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..app import Bot
from ..protocol import render_message
from ..testing import DeferredReply, FakeWeChat, RecordedCall, ReplyError
from ..xml import XMLError
from ._accounts import MODES, ConsoleAccount, Mode, authorizers, own_accounts
from ._actions import PICTURES, ActionError, Media, bubble, follower_message, media_type
from ._calls import KEPT, Fault, shown
from ._guard import ConsoleGuard, allowed_host
from ._kinds import describe as composer
from ._platform import ConsolePlatform, refusal

STATIC = Path(__file__).parent / "static"
BOT_PATH = "/wechat/"
_MENU_CREATE = "/cgi-bin/menu/create"
_TYPING = "/cgi-bin/message/custom/typing"
_KEEPALIVE = 15.0
_CLOSE = 0.8  # a handler's passive reply after this share of the deadline is flagged: a slower day misses it
_PLAYABLE = ("audio/", "video/")
_MEDIA_HEADERS = {
    "x-content-type-options": "nosniff",
    # Opened by itself, as a page of the console's origin, media still runs nothing: no script, no plugin.
    "content-security-policy": "sandbox; default-src 'none'",
}
_NAME_LENGTH = 30  # an official account's name: 4 to 30 characters
_NO_PLATFORM = "this bot has no third-party platform to authorize: Bot(platform=Platform(...)) has one"
_PAGE_HEADERS = {"cache-control": "no-store", "x-frame-options": "DENY",
                 "content-security-policy": "frame-ancestors 'none'"}  # no other page can frame it and steer clicks


def load_menu(path: str | Path) -> list[dict[str, Any]]:
    """The ``button`` list of a menu JSON file, written as for ``menu/create`` (``{"button": [...]}``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the menu file {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ValueError(f"the menu file {path} is not JSON: {exc}") from None
    buttons = data.get("button") if isinstance(data, dict) else None
    if not isinstance(buttons, list) or not all(isinstance(b, dict) for b in buttons):
        raise ValueError(f'the menu file {path} needs a "button" list, as menu/create takes: {{"button": [...]}}')
    return buttons


def _bot_url(request: Request) -> str:
    """Where this server serves the bot, as seen from itself (a wildcard bind answers on loopback)."""
    server = request.scope.get("server") or (request.url.hostname, request.url.port)
    host, port = str(server[0] or ""), server[1]
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{BOT_PATH}"


class Console:
    """The console's state: the bot, the FakeWeChat it calls, and the pages listening for events."""

    def __init__(self, bot: Bot, menu: list[dict[str, Any]] | None = None) -> None:
        self.bot = bot
        self.fake = FakeWeChat()
        self.fixed_menu = menu  # from --menu; None: the menu the bot creates through the fake
        self.platform = ConsolePlatform(self.fake, bot.platform.config) if bot.platform is not None else None
        self._own = own_accounts(bot, self.fake)
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._calls: deque[dict[str, Any]] = deque(maxlen=KEPT)
        """The latest calls to the fake, as the API panel shows them."""
        self._seq = 0

    @asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        """The fake first, the bot's API client on it, then the bot's own startup; the reverse on the way out."""
        self._loop = asyncio.get_running_loop()
        async with self.fake:
            previous, self.bot.api = self.bot.api, self.fake.client()
            unsubscribe = self.fake.subscribe(self._on_call)
            try:
                async with self.bot.lifespan():
                    yield
            finally:
                unsubscribe()
                self.bot.api = previous

    # -- accounts ---------------------------------------------------------------------------------------

    def accounts(self) -> list[ConsoleAccount]:
        """Every account the page can pick: the bot's own, then the platform's authorizers (revoked ones too)."""
        if self.platform is None:
            return list(self._own)
        return [*self._own, *authorizers(self.platform.play, self.fake)]

    def _account(self, appid: object) -> ConsoleAccount | None:
        """The account the page names; None for none (the only account when there is just one)."""
        accounts = self.accounts()
        if appid is None:
            return accounts[0] if len(accounts) == 1 else None
        return next((account for account in accounts if account.appid == appid), None)

    def _account_of(self, call: RecordedCall) -> ConsoleAccount | None:
        """The account a call to the fake was made for."""
        return next((account for account in self.accounts() if account.data.appid == call.appid), None)

    def _describe(self, account: ConsoleAccount) -> dict[str, Any]:
        return {"appid": account.appid, "name": account.name, "source": account.source,
                "path": BOT_PATH + account.path, "modes": list(account.modes), "revoked": account.revoked,
                "menu": self._menu(account)}

    async def _ready(self, request: Request) -> None:
        """The platform's first ticket, pushed once the console knows where it listens (see ConsolePlatform)."""
        if self.platform is not None:
            await self.platform.ready(_bot_url(request))

    # -- live events ------------------------------------------------------------------------------------

    def _on_call(self, call: RecordedCall) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._publish, call)

    def _events(self, call: RecordedCall) -> list[dict[str, Any]]:
        """The call for the API panel, then what it means to the chat, if anything (on the console's loop, so the
        panel's order is the calls' order)."""
        account = self._account_of(call)
        self._seq += 1
        self._calls.append(shown(self._seq, call, account.appid if account is not None else call.appid))
        events: list[dict[str, Any]] = [{"type": "call", "call": self._calls[-1]}]
        if account is None:  # the platform's own calls, and calls for no account the fake knows
            return events
        body = call.json if isinstance(call.json, dict) else {}
        deferred = DeferredReply.from_call(call)
        if deferred is not None:
            events.append({"type": "deferred", "account": account.appid, "openid": deferred.openid,
                           "bubble": bubble(deferred.msg_type, deferred.reply, deferred.payload),
                           "raw": json.dumps(call.json, ensure_ascii=False, indent=2), "failure": call.failure})
        elif call.path == _TYPING and call.failure is None:
            events.append({"type": "typing", "account": account.appid, "openid": body.get("touser"),
                           "on": body.get("command") == "Typing"})
        elif call.path == _MENU_CREATE and self.fixed_menu is None:
            events.append({"type": "menu", "account": account.appid, "buttons": self._menu(account)})
        return events

    def _publish(self, call: RecordedCall) -> None:
        for event in self._events(call):
            for queue in self._listeners:
                queue.put_nowait(event)

    def _menu(self, account: ConsoleAccount | None) -> list[dict[str, Any]]:
        if self.fixed_menu is not None:
            return self.fixed_menu
        pushed = account.data.menu if account is not None else None
        return list(pushed.get("button", [])) if pushed else []

    async def events(self, request: Request) -> Response:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._listeners.add(queue)

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": connected\n\n"
                while True:
                    try:
                        event = await asyncio.wait_for(queue.get(), _KEEPALIVE)
                    except asyncio.TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
            finally:
                self._listeners.discard(queue)

        headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    # -- the page's backend -----------------------------------------------------------------------------------

    async def info(self, request: Request) -> Response:
        """The bot, the accounts the page can pick, and the platform (or None). ``appid``, ``safe_mode`` and
        ``menu`` are the first account's: what they said of a one-account bot's only account."""
        await self._ready(request)
        accounts = self.accounts()
        first = accounts[0] if accounts else None
        return JSONResponse({
            "safe_mode": first is not None and "safe" in first.modes,
            "appid": (first.appid or None) if first is not None else None,
            "bot_path": BOT_PATH,
            "deadline": self.bot.deadline,
            "menu": self._menu(first),
            "menu_source": "file" if self.fixed_menu is not None else "bot",
            "accounts": [self._describe(account) for account in accounts],
            "platform": self.platform.describe() if self.platform is not None else None,
            "composer": composer(),
        })

    async def calls(self, request: Request) -> Response:
        """The latest calls to the fake API (``KEPT``), oldest first, as the events stream shows new ones."""
        return JSONResponse({"calls": list(self._calls)})

    async def _addressed(self, request: Request, purpose: str) -> tuple[dict[str, Any], ConsoleAccount] | Response:
        """The request's JSON object and the account its ``account`` names, or the answer refusing it."""
        body = await _json_object(request)
        if isinstance(body, Response):
            return body
        account = self._account(body.get("account"))
        if account is None:
            return _error(f"no account {_shown(body.get('account'))} to {purpose}: 'account' names one of the appids "
                          "/api/info lists (authorize one first, for a platform)", 400)
        return body, account

    async def fail(self, request: Request) -> Response:
        """Arm a fault in the fake for the account: ``{"account", "path", "errcode", "times", "openid"}``."""
        addressed = await self._addressed(request, "fail calls for")
        if isinstance(addressed, Response):
            return addressed
        body, account = addressed
        try:
            fault = Fault.read(body)
        except ValueError as exc:
            return _error(str(exc), 400)
        self.fake.fail(fault.path, fault.errcode, times=fault.times, openid=fault.openid, appid=account.data.appid)
        return JSONResponse({"armed": fault.describe(account.appid)})

    async def send(self, request: Request) -> Response:
        addressed = await self._addressed(request, "push to")
        if isinstance(addressed, Response):
            return addressed
        action, account = addressed
        if account.revoked:
            return _error(f"account {account.appid} revoked its authorization of the platform: WeChat pushes nothing "
                          "for it any more; authorize a new account", 400)
        mode = action.get("mode", "plain")
        refused = _refused(account, mode)
        if refused is not None:
            return _error(refused, 400)
        media = Media(account.data.add_media, lambda media_id: f"{request.base_url}media/{media_id}")
        async with account.client(_bot_url(request), mode) as client:
            try:
                fields = follower_message(client, action, media)
            except ActionError as exc:
                return _error(str(exc), 400)
            started = time.monotonic()
            try:
                reply = await client.post(fields)
            except (XMLError, ReplyError) as exc:
                return _error(f"the bot's reply is not what WeChat accepts: {exc}", 502)
        seconds = time.monotonic() - started
        answered = not reply.is_empty and reply.status == 200
        return JSONResponse({
            "request": {"xml": render_message(fields), "wire": _text(reply.request), "mode": mode,
                        "encrypted": mode != "plain", "fields": fields},
            "reply": {
                "status": reply.status,
                "empty": reply.is_empty,
                "encrypted": reply.encrypted,
                "bubble": None if reply.is_empty or reply.status != 200 else bubble(reply.msg_type or "", reply.reply,
                                                                                    reply.fields),
                "xml": _text(reply.xml),
                "wire": _text(reply.body),
                "seconds": round(seconds, 3),
                "deadline": self.bot.deadline,
                "close_to_deadline": answered and _CLOSE * self.bot.deadline <= seconds < self.bot.deadline,
                "past_deadline": seconds >= self.bot.deadline,
            },
        })

    async def authorize(self, request: Request) -> Response:
        """A new account authorizes the bot's platform (``{"name": ...}``, optional): its description, and the
        bot's answer to the ``authorized`` push."""
        body = await _json_object(request)
        if isinstance(body, Response):
            return body
        if self.platform is None:
            return _error(_NO_PLATFORM, 404)
        name = body.get("name", "")
        if not isinstance(name, str) or len(name.strip()) > _NAME_LENGTH:
            return _error(f"'name' is the new account's name: text of at most {_NAME_LENGTH} characters", 400)
        await self._ready(request)
        granted = await self.platform.authorize(name.strip())
        return self._changed(granted.appid, refusal(granted.push))

    async def revoke(self, request: Request) -> Response:
        """An authorizer (``{"account": appid}``) revokes its authorization of the bot's platform."""
        body = await _json_object(request)
        if isinstance(body, Response):
            return body
        if self.platform is None:
            return _error(_NO_PLATFORM, 404)
        account = self._account(body.get("account"))
        if account is None or account.source != "authorizer" or account.revoked:
            return _error(f"'account' names an authorizer of the platform that has not revoked its authorization, "
                          f"not {_shown(body.get('account'))}", 400)
        # Nothing is awaited between the check and the fake marking it revoked (before it pushes): a second
        # page's request finds it revoked.
        return self._changed(account.appid, refusal(await self.platform.revoke(account.appid)))

    def _changed(self, appid: str, error: str | None) -> Response:
        """The account an authorization changed, or (502) how the bot failed to take the push."""
        if error is not None:
            return _error(error, 502)
        account = self._account(appid)
        assert account is not None  # the fake keeps every authorization it made
        return JSONResponse({"account": self._describe(account)})

    async def media(self, request: Request) -> Response:
        media_id = request.path_params["media_id"]
        found = next(filter(None, (account.data.media(media_id) for account in self.accounts())), None)
        if found is None:
            return Response(b"no such media_id in the FakeWeChat", status_code=404, media_type="text/plain")
        declared, content = found
        content_type, disposition = media_type(declared), "inline"
        if content_type not in PICTURES and not content_type.startswith(_PLAYABLE):
            # Anything else (an SVG or HTML page the bot uploaded through the fake API) may carry script: bytes.
            content_type, disposition = "application/octet-stream", "attachment"
        return Response(content, media_type=content_type,
                        headers={**_MEDIA_HEADERS, "content-disposition": disposition})

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)


def _refused(account: ConsoleAccount, mode: object) -> str | None:
    """Why the account's pushes cannot come in ``mode``, and what to do; None when they can."""
    if mode not in MODES:
        return f"'mode' is how WeChat pushes: {', '.join(MODES)}; not {_shown(mode)}"
    if mode in account.modes:
        return None
    if account.source == "authorizer":
        return (f"account {account.appid} is an authorizer of the platform: WeChat seals its pushes with the "
                "platform's key, always; send mode 'safe'")
    if mode != "plain":
        return (f"{_MODE_NAMES[mode]} needs the account's aes_key and appid: Bot(aes_key=...) (WXHOOK_AES_KEY) and "
                "appid, or Account(aes_key=...)")
    return (f"the bot refuses plaintext for {account.appid or 'its account'}: it has an EncodingAESKey, so WeChat "
            "pushes sealed (safe mode) or both ways (compatibility mode); send mode 'safe' or 'compat', or serve "
            "plaintext too with Bot(allow_plaintext=True) while switching the account's mode")


_MODE_NAMES: dict[Mode, str] = {"plain": "plaintext", "compat": "compatibility mode", "safe": "safe mode"}


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _shown(value: object) -> str:
    """A value the page sent, quoted in an error: no longer than an appid needs."""
    return repr(value)[:40]


def _error(message: str, status: int) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request) -> dict[str, Any] | Response:
    """The request's JSON object, or the answer refusing it."""
    if media_type(request.headers.get("content-type", "")) != "application/json":
        # A form or a text/plain fetch from another page needs no CORS preflight; JSON does.
        return _error(f"POST {request.url.path} takes a JSON body with Content-Type: application/json", 415)
    try:
        body = await request.json()
    except ValueError:
        return _error("the body is not JSON", 400)
    if not isinstance(body, dict):
        return _error("the body must be a JSON object", 400)
    return body


def create_console(bot: Bot, menu_file: str | Path | None = None, *, allowed_hosts: Iterable[str] = ()) -> Starlette:
    """The console as an ASGI app: the page at ``/``, the bot at ``/wechat/``, a FakeWeChat as the bot's API.

    A bot serving many accounts (``accounts=``, ``platform=``) is served as in production, each account at
    ``/wechat/{appid}`` and the platform's notifications at ``/wechat/events``; the fake serves each configured
    account and plays the open platform for the bot's platform.

    ``menu_file`` is a menu JSON (as ``menu/create`` takes it) to draw under the chat, for every account; without
    one, the page shows the menu the bot creates through the API for the account picked, if it does. Serve it with
    any ASGI server (one process: the page's live events come from this process's fake).

    Every route answers only requests to the address the server listens on, or ``localhost``, ``127.0.0.1``,
    ``[::1]`` on its port, and the ``allowed_hosts`` (``NAME`` on any port, ``NAME:PORT``), and only from the
    console's own page: see ``wxhook.dev._guard``.
    """
    allowed = [allowed_host(entry) for entry in allowed_hosts]
    console = Console(bot, load_menu(menu_file) if menu_file is not None else None)
    routes = [
        Route("/", console.index),
        Route("/api/info", console.info),
        Route("/api/send", console.send, methods=["POST"]),
        Route("/api/authorize", console.authorize, methods=["POST"]),
        Route("/api/revoke", console.revoke, methods=["POST"]),
        Route("/api/calls", console.calls),
        Route("/api/fail", console.fail, methods=["POST"]),
        Route("/api/events", console.events),
        Route("/media/{media_id}", console.media),
        Mount("/static", StaticFiles(directory=STATIC)),
        Mount(BOT_PATH.rstrip("/"), bot),
    ]
    app = Starlette(routes=routes, lifespan=console.lifespan, middleware=[Middleware(ConsoleGuard, allowed=allowed)])
    app.state.console = console
    return app
