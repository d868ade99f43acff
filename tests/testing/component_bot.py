"""A minimal third-party platform bot for testing FakeWeChat's open platform over real HTTP: it checks and opens
every push with the component's credentials (as a real one must), keeps what arrived, and answers the 全网发布
messages rightly or in one of the classic wrong ways."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wxhook.crypto import Envelope, decode_aes_key, sign
from wxhook.protocol import render_message, seal_reply
from wxhook.testing import FakePlatform
from wxhook.xml import parse_xml

COMPONENT = "/cgi-bin/component/"


class ComponentBot:
    """``release`` is how it answers ``QUERY_AUTH_CODE:``: "right" (empty now, then exchange and send),
    "passive" (a passive reply: the classic mistake) or "refreshed" (sends with a token from api_authorizer_token
    instead of the one the exchange returned)."""

    def __init__(self, fake_url: str, platform: FakePlatform, *, release: str = "right") -> None:
        self.fake_url = fake_url
        self.platform = platform
        self.release = release
        self.event_answer = b"success"
        self.envelope = Envelope(decode_aes_key(platform.aes_key), platform.appid)
        self.events: list[dict[str, Any]] = []
        self.outer: list[dict[str, Any]] = []
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.redirects: list[dict[str, str]] = []
        self.errors: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = Starlette(routes=[
            Route("/events", self._event, methods=["POST"]),
            Route("/wechat/{appid}", self._message, methods=["POST"]),
            Route("/authorized", self._authorized, methods=["GET"]),
        ])

    def _open(self, request: Request, body: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
        """The outer XML and the opened fields; AssertionError when the signatures do not hold."""
        query = request.query_params
        token = self.platform.token
        assert query["encrypt_type"] == "aes"
        assert query["signature"] == sign(token, query["timestamp"], query["nonce"])
        outer = parse_xml(body)
        assert query["msg_signature"] == sign(token, query["timestamp"], query["nonce"], outer["Encrypt"])
        return outer, parse_xml(self.envelope.open(outer["Encrypt"]))

    async def _event(self, request: Request) -> Response:
        outer, fields = self._open(request, await request.body())
        self.outer.append(outer)
        self.events.append(fields)
        return Response(self.event_answer)

    async def _authorized(self, request: Request) -> Response:
        self.redirects.append(dict(request.query_params))
        return Response(b"authorized")

    async def _message(self, request: Request) -> Response:
        outer, fields = self._open(request, await request.body())
        assert outer["ToUserName"] == fields["ToUserName"]
        self.messages.append((request.path_params["appid"], fields))
        content = fields.get("Content", "")
        if fields["MsgType"] == "event":
            return self._reply(fields, f"{fields['Event']}from_callback")
        if content.startswith("QUERY_AUTH_CODE:"):
            code = content.split(":", 1)[1]
            if self.release == "passive":
                return self._reply(fields, f"{code}_from_api")
            task = asyncio.get_running_loop().create_task(self._answer_by_api(code, fields["FromUserName"]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return Response(b"")
        return self._reply(fields, f"{content}_callback")

    def _reply(self, fields: dict[str, Any], content: str) -> Response:
        xml = render_message({"ToUserName": fields["FromUserName"], "FromUserName": fields["ToUserName"],
                              "CreateTime": int(time.time()), "MsgType": "text", "Content": content}).encode()
        return Response(seal_reply(self.envelope, self.platform.token, xml), media_type="application/xml")

    async def call(self, http: httpx.AsyncClient, name: str, body: dict[str, Any], token: str | None) -> Any:
        params = {"component_access_token": token} if token else {}
        return (await http.post(f"{self.fake_url}{COMPONENT}{name}", params=params, json=body)).json()

    async def component_token(self, http: httpx.AsyncClient) -> str:
        ticket = next(e["ComponentVerifyTicket"] for e in reversed(self.events)
                      if e["InfoType"] == "component_verify_ticket")
        body = {"component_appid": self.platform.appid, "component_appsecret": self.platform.secret,
                "component_verify_ticket": ticket}
        return str((await self.call(http, "api_component_token", body, None))["component_access_token"])

    async def _answer_by_api(self, code: str, openid: str) -> None:
        try:
            async with httpx.AsyncClient() as http:
                token = await self.component_token(http)
                body = {"component_appid": self.platform.appid, "authorization_code": code}
                info = (await self.call(http, "api_query_auth", body, token))["authorization_info"]
                access = info["authorizer_access_token"]
                if self.release == "refreshed":
                    body = {"component_appid": self.platform.appid, "authorizer_appid": info["authorizer_appid"],
                            "authorizer_refresh_token": info["authorizer_refresh_token"]}
                    access = (await self.call(http, "api_authorizer_token", body, token))["authorizer_access_token"]
                send = {"touser": openid, "msgtype": "text", "text": {"content": f"{code}_from_api"}}
                answer = await http.post(f"{self.fake_url}/cgi-bin/message/custom/send",
                                         params={"access_token": access}, json=send)
                assert answer.json()["errcode"] == 0, answer.text
        except Exception as exc:  # the test reads what went wrong
            self.errors.append(repr(exc))
