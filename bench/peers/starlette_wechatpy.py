"""A hand-written Starlette endpoint on wechatpy, as its documentation suggests: check the signature, open the
safe-mode envelope when one is sent, parse, echo a text, render and seal the reply. Credentials from the same
WXHOOK_* variables; safe mode when WXHOOK_AES_KEY is set."""

import os
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

TOKEN = os.environ["WXHOOK_TOKEN"]
AES_KEY = os.environ.get("WXHOOK_AES_KEY")
crypto = WeChatCrypto(TOKEN, AES_KEY, os.environ["WXHOOK_APPID"]) if AES_KEY else None
before_reply: Callable[[str], None] | None = None
"""The handler's own work on the text, run before the reply (the overload bench's burn: overload_starlette.py)."""


async def wechat(request: Request) -> Response:
    query = request.query_params
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    try:
        check_signature(TOKEN, query.get("signature", ""), timestamp, nonce)
    except InvalidSignatureException:
        return Response("signature mismatch", status_code=403)
    if request.method == "GET":
        return Response(query.get("echostr", ""))
    body = await request.body()
    sealed = crypto is not None and query.get("encrypt_type") == "aes"
    if sealed:
        body = crypto.decrypt_message(body, query.get("msg_signature", ""), timestamp, nonce)
    msg = parse_message(body)
    if msg.type != "text":
        return Response("success")
    if before_reply is not None:
        before_reply(msg.content)
    xml = create_reply(msg.content, msg).render()
    if sealed:
        xml = crypto.encrypt_message(xml, nonce, timestamp)
    return Response(xml, media_type="application/xml")


app = Starlette(routes=[Route("/", wechat, methods=["GET", "POST"])])
