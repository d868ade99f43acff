"""Talk to a bot the way the WeChat server does: signed, optionally sealed, XML in and out.

Used by wxhook's own end-to-end tests and by users' tests, so a bot can be exercised without a real account.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..crypto import Envelope, EnvelopeError, decode_aes_key
from ..protocol import open_reply, render_message, seal_request, sign_query
from ..xml import parse_xml


class ReplyError(AssertionError):
    """The bot answered something WeChat would not accept."""


@dataclass(frozen=True, slots=True)
class BotReply:
    """What the bot answered: ``fields`` holds the reply XML as nested dicts (empty for "success")."""

    status: int
    body: bytes
    fields: Mapping[str, Any]
    encrypted: bool
    headers: Mapping[str, str]

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


class BotClient:
    """A stand-in for the WeChat server, pointed at a bot's URL (or, with ``transport=``, an ASGI app).

    With ``aes_key`` set, messages go out in safe mode and replies are checked and opened, so a test sees
    exactly the bytes a follower's WeChat would.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str,
        appid: str | None = None,
        aes_key: str | None = None,
        account: str = "gh_wxhook_test",
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.token = token
        self.appid = appid
        self.account = account
        self._envelope = Envelope(decode_aes_key(aes_key), appid or "") if aes_key else None
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._msg_ids = iter(range(int(time.time() * 1000) << 8, 1 << 63))

    async def __aenter__(self) -> BotClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

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
        encrypted, body = seal_request(self._envelope, fields.get("ToUserName", self.account), xml)
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
            return BotReply(response.status_code, body, {}, False, response.headers)
        if self._envelope is None:
            return BotReply(200, body, parse_xml(body), False, response.headers)
        try:
            inner = open_reply(self._envelope, self.token, body)
        except (ValueError, EnvelopeError) as exc:
            raise ReplyError(str(exc)) from None
        return BotReply(200, body, parse_xml(inner), True, response.headers)
