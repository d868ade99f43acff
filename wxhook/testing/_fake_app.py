"""The fake's ASGI app: record every call, apply scripted failures, check the token, run the endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import email.parser
import email.policy
import json
import secrets
import time
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import (
    _fake_articles,
    _fake_assets,
    _fake_auth,
    _fake_card,
    _fake_card_code,
    _fake_comments,
    _fake_component_api,
    _fake_component_web,
    _fake_invoice,
    _fake_kf,
    _fake_mass,
    _fake_member_card,
    _fake_menus,
    _fake_messages,
    _fake_ocr,
    _fake_ops,
    _fake_stats,
    _fake_subscription,
    _fake_users,
)
from ._fake_state import FakeRequest, FakeState, Fault, RecordedCall, Rule, collect

# Every module whose endpoints the fake serves: a new API group's fake is a module and a name here.
ENDPOINTS = collect(
    _fake_articles, _fake_assets, _fake_auth, _fake_card, _fake_card_code, _fake_comments, _fake_component_api,
    _fake_component_web, _fake_invoice, _fake_kf, _fake_mass, _fake_member_card, _fake_menus, _fake_messages, _fake_ocr,
    _fake_ops, _fake_stats, _fake_subscription, _fake_users,
)

_ESCAPED = (40033, "invalid charset. please check your request, if include \\uxxxx will create fail!")


def _json_response(data: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type="application/json; encoding=utf-8")


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _parse_files(content_type: str, body: bytes) -> dict[str, tuple[str, str, bytes]]:
    """multipart/form-data via the stdlib e-mail parser: no extra dependency for the fake."""
    if not content_type.startswith("multipart/form-data"):
        return {}
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    files = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            files[name] = (part.get_filename() or "", part.get_content_type(), payload)
    return files


class FakeApp:
    """Shared between the server's loop and the test's thread; ``lock`` guards every piece of state.

    ``state`` is the default account's data; each call is answered with the data of the account it is for
    (``RecordedCall.appid``), or the default account's when it is for no account the fake knows.
    """

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.shared = state.shared
        self.shared.paths = frozenset(ENDPOINTS)
        self.lock = self.shared.lock
        self.calls: list[RecordedCall] = []
        self.rules: list[Rule] = []
        self.listeners: list[Callable[[RecordedCall], None]] = []
        self.background: set[asyncio.Task[object]] = set()
        self.asgi = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        files = _parse_files(request.headers.get("content-type", ""), body)
        query = dict(request.query_params)
        data = None if files else _parse_json(body)
        with self.lock:
            appid = self.shared.owner(query, data)
            call = RecordedCall(request.method, request.url.path, query, data, body, dict(request.headers), appid)
            st = self.shared.accounts.get(appid or "", self.state)
            self.calls.append(call)
            if appid in (None, st.appid):
                st.counts[call.path] = st.counts.get(call.path, 0) + 1
            rule = next((r for r in self.rules if r.matches(call)), None)
            if rule is not None and rule.times is not None:
                rule.times -= 1
        if rule is not None and rule.delay:
            await asyncio.sleep(rule.delay)
        client_ip = request.client.host if request.client else "127.0.0.1"
        fake_request = FakeRequest(call, client_ip, str(request.base_url).rstrip("/"), files)
        with self.lock:
            try:
                response = self._answer(st, fake_request, rule)
            except Fault as fault:
                response = self._error(st, fault, fake_request)
            call = self._answered(call, response)
            listeners = list(self.listeners)
        for work, wait in fake_request.after:
            if wait:
                await work()
            else:
                self.spawn(work())
        for listener in listeners:
            listener(call)
        return response

    def _answered(self, call: RecordedCall, response: Response) -> RecordedCall:
        """The call with the fake's answer, recorded in place of the call as it arrived (under the lock)."""
        answered = dataclasses.replace(call, status=response.status_code, response=bytes(response.body))
        for index in range(len(self.calls) - 1, -1, -1):  # it is near the end, unless reset_calls emptied the list
            if self.calls[index] is call:
                self.calls[index] = answered
                break
        return answered

    def spawn(self, work: Coroutine[Any, Any, object]) -> None:
        """Run ``work`` in the background on the server's loop; the server's shutdown ends what is left."""
        task = asyncio.get_running_loop().create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def settle(self, steps: int, step: float) -> None:
        """Give background work (pushes to a bot) ``steps`` × ``step`` seconds to finish, then cancel the rest."""
        for _ in range(steps):
            if not self.background:
                return
            await asyncio.sleep(step)
        for task in list(self.background):
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)

    def _answer(self, st: FakeState, req: FakeRequest, rule: Rule | None) -> Response:
        call = req.call
        if rule is not None and rule.status is not None:
            return Response(f"scripted HTTP {rule.status}".encode(), status_code=rule.status)
        if rule is not None and rule.errcode is not None:
            raise Fault(rule.errcode, rule.errmsg or _default_errmsg(rule.errcode, req.client_ip))
        found = ENDPOINTS.get(call.path)
        if found is None:
            return Response(b"<html>404 Not Found</html>", status_code=404, media_type="text/html")
        if found.method != call.method:
            raise Fault(43002 if found.method == "POST" else 43001, f"require {found.method} method")
        if call.json is not None and b"\\u" in call.body:
            raise Fault(*_ESCAPED)
        if found.needs_token:
            st.check_token(call.query.get("access_token"))
        result = found.handler(st, req)
        return result if isinstance(result, Response) else _json_response(result)

    def _error(self, st: FakeState, fault: Fault, req: FakeRequest) -> Response:
        rid = "-".join(secrets.token_hex(4) for _ in range(3))
        answer = {"errcode": fault.errcode, "errmsg": f"{fault.errmsg} rid: {rid}"}
        st.rids[rid] = {
            "invoke_time": int(time.time()),
            "cost_in_ms": 1,
            "request_url": f"{req.call.path}?{'&'.join(f'{k}={v}' for k, v in req.query.items())}",
            "request_body": req.call.body.decode(errors="replace"),
            "response_body": json.dumps(answer, ensure_ascii=False),
            "client_ip": req.client_ip,
        }
        return _json_response(answer)


def _default_errmsg(errcode: int, client_ip: str) -> str:
    known = {
        -1: "system error",
        40001: "invalid credential, access_token is invalid or not latest",
        40014: "invalid access_token",
        42001: "access_token expired",
        40164: f"invalid ip {client_ip} ipv6 ::ffff:{client_ip}, not in whitelist",
        43004: "require subscribe",
        43101: "user refuse to accept the msg",
        45009: "reach max api daily quota limit",
        45011: "api minute-quota reach limit  mustslower  retry next minute",
        45015: "response out of time limit or subscription is canceled",
        45047: "out of response count limit",
        45065: "clientmsgid exist",
        48001: "api unauthorized",
        48002: "api forbidden for the user has not subscribed or has blocked",
    }
    return known.get(errcode, "scripted failure")
