"""The floor for doing WeChat's work at all: a raw ASGI app that checks the signature, reads the body, opens it in
safe mode (wxhook's envelope: one ECB cipher, one long-lived CBC cipher), parses it with lxml and renders the
echo, and nothing else: no timestamp window, no replay record, no retry coalescing, no deadline, no typed
message, no routing, no log line. Credentials from the WXHOOK_* variables, as the other contenders."""

from __future__ import annotations

import hashlib
import os
import re
import time
from typing import Any

from lxml import etree

from wxhook.crypto import Envelope, decode_aes_key

TOKEN = os.environ["WXHOOK_TOKEN"]
KEY = os.environ.get("WXHOOK_AES_KEY")
ENVELOPE = Envelope(decode_aes_key(KEY), os.environ["WXHOOK_APPID"]) if KEY else None
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
ENCRYPT = re.compile(rb"<Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]></Encrypt>")


def _sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/xml"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    query = dict(pair.partition("=")[::2] for pair in scope["query_string"].decode().split("&"))
    if _sign(TOKEN, query.get("timestamp", ""), query.get("nonce", "")) != query.get("signature"):
        await _answer(send, 403, b"signature mismatch")
        return
    if scope["method"] != "POST":
        await _answer(send, 200, query.get("echostr", "").encode())
        return
    body = (await receive())["body"]
    if ENVELOPE is not None:
        encrypted = ENCRYPT.search(body).group(1).decode()  # type: ignore[union-attr]
        if _sign(TOKEN, query["timestamp"], query["nonce"], encrypted) != query.get("msg_signature"):
            await _answer(send, 403, b"msg_signature mismatch")
            return
        body = ENVELOPE.open(encrypted)
    fields = {child.tag: child.text for child in etree.fromstring(body, PARSER)}
    reply = echo(fields)
    await _answer(send, 200, seal(reply) if ENVELOPE is not None else reply.encode())


def echo(fields: dict[str, Any]) -> str:
    """The text reply echoing a text push."""
    return (f"<xml><ToUserName><![CDATA[{fields['FromUserName']}]]></ToUserName><FromUserName><![CDATA["
            f"{fields['ToUserName']}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime><MsgType>"
            f"<![CDATA[text]]></MsgType><Content><![CDATA[{fields['Content']}]]></Content></xml>")


def seal(reply: str) -> bytes:
    """A reply in safe mode: the envelope XML around it, signed."""
    assert ENVELOPE is not None
    sealed = ENVELOPE.seal(reply.encode())
    stamp, nonce = str(int(time.time())), str(int.from_bytes(os.urandom(4), "big"))
    return (f"<xml><Encrypt><![CDATA[{sealed}]]></Encrypt><MsgSignature><![CDATA["
            f"{_sign(TOKEN, stamp, nonce, sealed)}]]></MsgSignature><TimeStamp>{stamp}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>").encode()
