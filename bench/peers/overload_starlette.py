"""Starlette + wechatpy for bench/overload.py: starlette_wechatpy.py with the same 2 ms burn (burn.py) in its
async endpoint before the reply, and GET /__runs__."""

import os

from burn import burn, runs_asgi
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
    burn(msg.content)
    xml = create_reply(msg.content, msg).render()
    if sealed:
        xml = crypto.encrypt_message(xml, nonce, timestamp)
    return Response(xml, media_type="application/xml")


app = runs_asgi(Starlette(routes=[Route("/", wechat, methods=["GET", "POST"])]))
