"""Talk to a bot the way the WeChat server does: signed, optionally sealed, XML in and out.

Used by wxhook's own end-to-end tests and by users' tests, so a bot can be exercised without a real account.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..crypto import Envelope, decode_aes_key, sign, signature_matches
from ..xml import cdata, parse_xml


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


def message_xml(fields: Mapping[str, Any]) -> str:
    """Render message fields as WeChat does: strings in CDATA, ints bare, dicts and lists nested."""

    def render(tag: str, value: Any) -> str:
        if isinstance(value, Mapping):
            return f"<{tag}>{''.join(render(k, v) for k, v in value.items())}</{tag}>"
        if isinstance(value, list):
            return "".join(render(tag, item) for item in value)
        if isinstance(value, (int, float)):
            return f"<{tag}>{value}</{tag}>"
        return f"<{tag}>{cdata(str(value))}</{tag}>"

    return "<xml>" + "".join(render(k, v) for k, v in fields.items()) + "</xml>"


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
        timestamp = str(int(time.time()))
        nonce = str(secrets.randbelow(10**10))
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        if encrypted is not None:
            query.update(encrypt_type="aes", msg_signature=sign(self.token, timestamp, nonce, encrypted))
        return query

    async def handshake(self, echostr: str = "wxhook-echo") -> httpx.Response:
        query = self.signed_query()
        query["echostr"] = echostr
        return await self._http.get(self.url, params=query)

    async def post(self, fields: Mapping[str, Any], *, query: Mapping[str, str] | None = None) -> BotReply:
        """Send one message (its fields as tag → value) and return the checked, opened reply."""
        xml = message_xml(fields).encode()
        if self._envelope is None:
            params = dict(query) if query is not None else self.signed_query()
            response = await self._http.post(self.url, params=params, content=xml)
            return self._plain_reply(response)
        encrypted = self._envelope.seal(xml)
        params = dict(query) if query is not None else self.signed_query(encrypted)
        body = message_xml({"ToUserName": fields.get("ToUserName", self.account), "Encrypt": encrypted})
        response = await self._http.post(self.url, params=params, content=body.encode())
        return self._sealed_reply(response)

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

    def _plain_reply(self, response: httpx.Response) -> BotReply:
        body = response.content
        if response.status_code != 200 or body in (b"", b"success"):
            return BotReply(response.status_code, body, {}, False, response.headers)
        return BotReply(200, body, parse_xml(body), False, response.headers)

    def _sealed_reply(self, response: httpx.Response) -> BotReply:
        body = response.content
        if response.status_code != 200 or body in (b"", b"success"):
            return BotReply(response.status_code, body, {}, False, response.headers)
        assert self._envelope is not None
        outer = parse_xml(body)
        for tag in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce"):
            if not outer.get(tag):
                raise ReplyError(f"encrypted reply lacks {tag}: {body!r}")
        if not signature_matches(outer["MsgSignature"], self.token, outer["TimeStamp"], outer["Nonce"],
                                 outer["Encrypt"]):
            raise ReplyError("the reply's MsgSignature does not match its Encrypt, TimeStamp and Nonce")
        return BotReply(200, body, parse_xml(self._envelope.open(outer["Encrypt"])), True, response.headers)
