"""The dev console: a page that plays a follower's phone against a bot, with a FakeWeChat as the bot's API.

One app serves three things: the bot itself at ``/wechat/``, the page at ``/`` (static files shipped in the
package), and the page's backend under ``/api/``. The backend turns a follower's action into the message WeChat
would push, posts it to ``/wechat/`` over real HTTP with ``BotClient`` (signed; sealed in safe mode) and answers
with the decoded reply and the raw XML both ways. Whatever the bot sends through the fake API (a reply past its
deadline, a typing indicator, a new menu) reaches the page live as server-sent events.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
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
from ..testing import BotClient, DeferredReply, FakeWeChat, RecordedCall, ReplyError
from ..xml import XMLError
from ._actions import PICTURES, ActionError, bubble, follower_message, media_type
from ._guard import ConsoleGuard, allowed_host

STATIC = Path(__file__).parent / "static"
BOT_PATH = "/wechat/"
_MENU_CREATE = "/cgi-bin/menu/create"
_TYPING = "/cgi-bin/message/custom/typing"
_KEEPALIVE = 15.0
_PLAYABLE = ("audio/", "video/")
_MEDIA_HEADERS = {
    "x-content-type-options": "nosniff",
    # Opened by itself, as a page of the console's origin, media still runs nothing: no script, no plugin.
    "content-security-policy": "sandbox; default-src 'none'",
}
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


def _self_url(request: Request) -> str:
    """Where this server listens, as seen from itself (a wildcard bind answers on loopback)."""
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
        self._listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

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

    # -- live events ------------------------------------------------------------------------------------

    def _on_call(self, call: RecordedCall) -> None:
        event = self._event(call)
        if event is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._publish, event)

    def _event(self, call: RecordedCall) -> dict[str, Any] | None:
        body = call.json if isinstance(call.json, dict) else {}
        deferred = DeferredReply.from_call(call)
        if deferred is not None:
            return {"type": "deferred", "openid": deferred.openid,
                    "bubble": bubble(deferred.msg_type, deferred.reply, deferred.payload),
                    "raw": json.dumps(call.json, ensure_ascii=False, indent=2)}
        if call.path == _TYPING:
            return {"type": "typing", "openid": body.get("touser"), "on": body.get("command") == "Typing"}
        if call.path == _MENU_CREATE and self.fixed_menu is None:
            return {"type": "menu", "buttons": self._menu()}
        return None

    def _publish(self, event: dict[str, Any]) -> None:
        for queue in self._listeners:
            queue.put_nowait(event)

    def _menu(self) -> list[dict[str, Any]]:
        if self.fixed_menu is not None:
            return self.fixed_menu
        pushed = self.fake.menu
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
        settings = self.bot.settings
        return JSONResponse({
            "safe_mode": settings.aes_key is not None and bool(settings.appid),
            "appid": settings.appid,
            "bot_path": BOT_PATH,
            "deadline": self.bot.deadline,
            "menu": self._menu(),
            "menu_source": "file" if self.fixed_menu is not None else "bot",
        })

    async def send(self, request: Request) -> Response:
        if media_type(request.headers.get("content-type", "")) != "application/json":
            # A form or a text/plain fetch from another page needs no CORS preflight; JSON does.
            return JSONResponse({"error": "POST /api/send takes a JSON body with Content-Type: application/json"},
                                status_code=415)
        try:
            action = await request.json()
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(action, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        settings = self.bot.settings
        safe = action.get("mode") == "safe"
        if safe and settings.aes_key is None:
            return JSONResponse({"error": "safe mode needs the bot's aes_key (WXHOOK_AES_KEY) and appid"},
                                status_code=400)
        aes_key = base64.b64encode(settings.aes_key).decode().rstrip("=") if safe and settings.aes_key else None
        async with BotClient(_self_url(request), token=settings.token, appid=settings.appid,
                             aes_key=aes_key) as client:
            try:
                fields = follower_message(client, action, self._add_image,
                                          lambda media_id: f"{request.base_url}media/{media_id}")
            except ActionError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            started = time.monotonic()
            try:
                reply = await client.post(fields)
            except (XMLError, ReplyError) as exc:
                return JSONResponse({"error": f"the bot's reply is not what WeChat accepts: {exc}"}, status_code=502)
        return JSONResponse({
            "request": {"xml": render_message(fields), "wire": _text(reply.request), "encrypted": safe},
            "reply": {
                "status": reply.status,
                "empty": reply.is_empty,
                "encrypted": reply.encrypted,
                "bubble": None if reply.is_empty or reply.status != 200 else bubble(reply.msg_type or "", reply.reply,
                                                                                    reply.fields),
                "xml": _text(reply.xml),
                "wire": _text(reply.body),
                "seconds": round(time.monotonic() - started, 3),
            },
        })

    def _add_image(self, content: bytes, content_type: str) -> str:
        return self.fake.add_media("image", content, content_type)

    async def media(self, request: Request) -> Response:
        found = self.fake.media(request.path_params["media_id"])
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


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def create_console(bot: Bot, menu_file: str | Path | None = None, *, allowed_hosts: Iterable[str] = ()) -> Starlette:
    """The console as an ASGI app: the page at ``/``, the bot at ``/wechat/``, a FakeWeChat as the bot's API.

    ``menu_file`` is a menu JSON (as ``menu/create`` takes it) to draw under the chat; without one, the page
    shows the menu the bot creates through the API, if it does. Serve it with any ASGI server (one process:
    the page's live events come from this process's fake).

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
        Route("/api/events", console.events),
        Route("/media/{media_id}", console.media),
        Mount("/static", StaticFiles(directory=STATIC)),
        Mount(BOT_PATH.rstrip("/"), bot),
    ]
    app = Starlette(routes=routes, lifespan=console.lifespan, middleware=[Middleware(ConsoleGuard, allowed=allowed)])
    app.state.console = console
    return app
