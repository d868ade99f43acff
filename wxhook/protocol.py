"""The wire protocol of a WeChat push: query parameters, signatures, the body, and the safe-mode envelope XML.

Everything here is about bytes on the wire and whether they came from WeChat; nothing here knows handlers.
A request WeChat would never send raises ``Rejected`` with the status and one-line reason to answer.
The WeChat side of the same exchange (``render_message``, ``seal_request``, ``open_reply``) lives here too,
so the bot and the tools that play WeChat against it (``wxhook.testing.BotClient``, the CLI) share one
definition of each form.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from .crypto import Envelope, EnvelopeError, random_bytes, sign, signature_matches
from .replay import Nonce, ReplayGuard, Stale
from .timeouts import await_by
from .xml import XMLError, cdata, parse_xml

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

SUCCESS = b"success"
TEXT = b"text/plain; charset=utf-8"
XML = b"application/xml; charset=utf-8"
JSON = b"application/json"
MESSAGE_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
"""What every message and event carries."""
VERIFY_AGENT = b"wxhook-verify"
"""The User-Agent of ``wxhook verify``'s requests: the bot logs what it refuses of them as the check it is."""


class Rejected(Exception):
    """A request WeChat would never send; answered with ``status`` and the one-line ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def respond(send: Send, status: int, body: bytes, content_type: bytes = TEXT,
                  extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# A name and its value; a parameter without "=" names nothing WeChat sends, and is left out.
_PARAMETER = re.compile(r"([^&=]*)=([^&]*)")


def from_verify(scope: Scope) -> bool:
    """Whether a request says it is ``wxhook verify``'s (anyone can say so: only how it is logged depends on it)."""
    return any(name == b"user-agent" and value.startswith(VERIFY_AGENT) for name, value in scope.get("headers", ()))


def parse_query(scope: Scope, *required: str) -> dict[str, str]:
    text = scope["query_string"].decode("latin-1")
    # WeChat's parameters are hex and digits, each with its "=": split, unless unquoting or a bare name
    # (which the regex leaves out) asks for the slow path.
    query: dict[str, str]
    if "%" in text or "+" in text:
        query = {unquote_plus(name): unquote_plus(value) for name, value in _PARAMETER.findall(text)}
    else:
        try:
            query = dict([part.split("=", 1) for part in text.split("&")])
        except ValueError:  # a part without "="
            query = dict(_PARAMETER.findall(text))
    missing = ""  # built only when one is: no list per request
    for name in required:
        if not query.get(name):
            missing = f"{missing}, {name}" if missing else name
    if missing:
        raise Rejected(400, f"missing query parameter(s): {missing}")
    return query


# One linear scan: a base64 run cannot contain "<", so no start position is scanned twice; and no two
# whitespace runs are adjacent (the CDATA markers own the whitespace after them), or a long run would be split
# between them every possible way before the match fails: quadratic, minutes for 64 KB.
_ENCRYPT = re.compile(rb"<Encrypt>\s*(?:<!\[CDATA\[\s*)?([A-Za-z0-9+/=]+)\s*(?:\]\]>\s*)?</Encrypt>")
log = logging.getLogger("wxhook")


@dataclass(frozen=True, slots=True)
class Naming:
    """Where the credentials an ``Inbound`` checks with are set, for its refusals to name the fix."""

    token: str = "WXHOOK_TOKEN"
    key: str = "WXHOOK_AES_KEY"
    appid: str = "WXHOOK_APPID"
    admin: str = "the Official Account's server configuration"

    @classmethod
    def account(cls, appid: str) -> Naming:
        return cls(f"the token of Account({appid!r})", f"the aes_key of Account({appid!r})", "its appid",
                   "the account's server configuration")


PLATFORM_NAMING = Naming("the platform's token (Platform(token=...), WXHOOK_PLATFORM_TOKEN)",
                         "the platform's aes_key (WXHOOK_PLATFORM_AES_KEY)", "its appid (WXHOOK_PLATFORM_APPID)",
                         "the third-party platform's settings (开发资料)")


class Inbound:
    """Checks and opens what WeChat pushes to one account: the GET handshake and POSTed messages.

    The order is the point: everything the query proves (the signature, a fresh timestamp) is checked before
    the body is read; in safe mode the ``Encrypt`` value is found and its ``msg_signature`` checked before
    any XML is parsed, so an unauthenticated request costs a few hashes, never a parse. Every failure to open
    a correctly signed envelope answers the same, so the answers say nothing about the plaintext.
    """

    __slots__ = ("_allow_plaintext", "_body_timeout", "_envelope", "_max_body_size", "_names", "_replay",
                 "_sealed_by_default", "_token")

    def __init__(self, token: str, envelope: Envelope | None, max_body_size: int, replay: ReplayGuard,
                 *, allow_plaintext: bool = False, body_timeout: float = 10.0, sealed_by_default: bool = False,
                 names: Naming = Naming()) -> None:
        self._token = token
        self._names = names
        self._envelope = envelope
        self._max_body_size = max_body_size
        self._replay = replay
        self._body_timeout = body_timeout
        self._allow_plaintext = allow_plaintext or envelope is None
        # A third-party platform's pushes are always sealed; a query without encrypt_type is read as aes.
        self._sealed_by_default = sealed_by_default

    @property
    def plaintext_allowed(self) -> bool:
        """Whether a push without ``encrypt_type=aes`` is served: always without an EncodingAESKey, with one only
        under ``allow_plaintext`` (never for a platform's pushes)."""
        return self._allow_plaintext

    def handshake(self, scope: Scope) -> bytes:
        """The ``echostr`` to answer the verification WeChat does when the server URL is saved."""
        query = parse_query(scope, "signature", "timestamp", "nonce", "echostr")
        self._verify(query)
        return query["echostr"].encode()

    def _verify(self, query: dict[str, str]) -> None:
        if not signature_matches(query["signature"], self._token, query["timestamp"], query["nonce"]):
            raise Rejected(403, f"signature mismatch: the request is not from WeChat, or {self._names.token} "
                                f"differs from the Token in {self._names.admin}")

    async def read(self, scope: Scope, receive: Receive, arrived: float,
                   required: tuple[str, ...] = MESSAGE_FIELDS) -> tuple[dict[str, Any], bool, Nonce | None]:
        """The message's fields, verified and opened; whether it came sealed (the reply must be too); and the
        replay record the reply window keeps with its claim (a different body under the same nonce is refused).
        ``arrived`` (loop time) starts the ``body_timeout``; ``required`` are the fields a push without them is
        refused for (a third-party platform's notifications carry others than messages)."""
        query = parse_query(scope, "signature", "timestamp", "nonce")
        self._verify(query)
        try:
            keep = self._replay.check_time(query["timestamp"])
        except Stale as exc:
            raise Rejected(403, str(exc)) from None
        encrypt_type = query.get("encrypt_type", "aes" if self._sealed_by_default else "raw").lower()
        if encrypt_type not in ("raw", "aes"):
            raise Rejected(400, f"unknown encrypt_type {encrypt_type!r}: WeChat sends 'raw' or 'aes'")
        if encrypt_type == "raw" and not self._allow_plaintext:
            raise Rejected(403, f"plaintext message refused: safe mode is configured ({self._names.key}), so WeChat "
                                "sends encrypt_type=aes; while switching the account's mode, Bot(allow_plaintext=True)")
        body = await self._read_body(scope, receive, arrived + self._body_timeout)
        if encrypt_type == "aes":
            encrypted = self._encrypted_part(body)
            document = self._open(query, encrypted)
            nonce = self._replay.sealed_nonce(query["timestamp"], query["nonce"], keep,
                                              plaintext_allowed=self._allow_plaintext)
        else:
            nonce = self._replay.nonce(query["timestamp"], query["nonce"], keep, body)
            try:
                document = parse_xml(body)
            except XMLError as exc:
                raise Rejected(400, str(exc)) from None
        missing = ""
        for tag in required:
            value = document.get(tag)
            if not value or not isinstance(value, str):
                missing = f"{missing}, {tag}" if missing else tag
        if missing:
            raise Rejected(400, f"message lacks {missing}")
        return document, encrypt_type == "aes", nonce

    async def _read_body(self, scope: Scope, receive: Receive, give_up: float) -> bytes:
        limit = self._max_body_size
        for name, value in scope["headers"]:
            if name == b"content-length":
                digits = value.lstrip(b"0")  # int() refuses more than 4300 digits: compare lengths first
                if value.isdigit() and (len(digits) > 18 or int(digits or b"0") > limit):
                    raise Rejected(413, f"Content-Length exceeds the {limit}-byte limit (max_body_size)")
                break
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await await_by(receive(), give_up)
            except asyncio.TimeoutError:
                raise Rejected(408, f"body not received within {self._body_timeout:g}s (Bot(body_timeout=...)): a "
                                    "stalled or deliberately slow client") from None
            if message["type"] == "http.disconnect":
                raise Rejected(400, "client disconnected before sending the whole body")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise Rejected(413, f"body exceeds the {limit}-byte limit (max_body_size)")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _encrypted_part(self, body: bytes) -> str:
        """The ``Encrypt`` value, found without parsing: nothing is parsed before ``msg_signature`` holds."""
        if self._envelope is None:
            where = "WXHOOK_AES_KEY (Bot(aes_key=...))" if self._names.key == "WXHOOK_AES_KEY" else self._names.key
            raise Rejected(400, f"encrypted message, but no EncodingAESKey is configured: set {where} and "
                                f"{self._names.appid}")
        found = _ENCRYPT.search(body)
        if found is None:
            raise Rejected(400, "encrypt_type=aes but the body has no Encrypt element")
        return found.group(1).decode("ascii")

    def _open(self, query: dict[str, str], encrypted: str) -> dict[str, Any]:
        """The plaintext fields of a safe-mode or compatibility-mode body."""
        assert self._envelope is not None
        msg_signature = query.get("msg_signature")
        if not msg_signature:
            raise Rejected(400, "missing query parameter(s): msg_signature")
        if not signature_matches(msg_signature, self._token, query["timestamp"], query["nonce"], encrypted):
            raise Rejected(403, f"msg_signature mismatch: the request is not from WeChat, or {self._names.token} "
                                "differs")
        try:
            return parse_xml(self._envelope.open(encrypted))
        except (EnvelopeError, XMLError) as exc:
            log.debug("decryption failed: %s", exc)
            names = self._names
            raise Rejected(400, f"could not decrypt the message: check that {names.key} and {names.appid} match "
                                f"the EncodingAESKey and AppID of {names.admin}") from None

    def seal(self, xml: bytes) -> bytes:
        """A reply in safe mode: the envelope XML around the encrypted reply."""
        assert self._envelope is not None
        return seal_reply(self._envelope, self._token, xml)


def seal_reply(envelope: Envelope, token: str, xml: bytes, timestamp: str | None = None,
               nonce: str | None = None) -> bytes:
    """The XML a bot answers a sealed message with: ``Encrypt``, ``MsgSignature``, ``TimeStamp``, ``Nonce``."""
    random = random_bytes.take(20)  # the envelope's prefix and the nonce, in one draw
    encrypted = envelope.seal(xml, random[:16])
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(int.from_bytes(random[16:], "big"))
    signature = sign(token, timestamp, nonce, encrypted)
    return (
        f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{signature}]]></MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
    ).encode()


def open_reply(envelope: Envelope, token: str, body: bytes) -> bytes:
    """The reply XML inside a bot's sealed answer, its signature checked; ValueError says what is wrong."""
    outer = parse_xml(body)
    for tag in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce"):
        if not outer.get(tag):
            raise ValueError(f"encrypted reply lacks {tag}: {body!r}")
    if not signature_matches(outer["MsgSignature"], token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]):
        raise ValueError("the reply's MsgSignature does not match its Encrypt, TimeStamp and Nonce")
    return envelope.open(outer["Encrypt"])


def render_message(fields: Mapping[str, Any]) -> str:
    """Message fields as WeChat renders them: strings in CDATA, numbers bare, dicts and lists nested."""

    def render(tag: str, value: Any) -> str:
        if isinstance(value, Mapping):
            return f"<{tag}>{''.join(render(k, v) for k, v in value.items())}</{tag}>"
        if isinstance(value, list):
            return "".join(render(tag, item) for item in value)
        if isinstance(value, (int, float)):
            return f"<{tag}>{value}</{tag}>"
        return f"<{tag}>{cdata(str(value))}</{tag}>"

    return "<xml>" + "".join(render(k, v) for k, v in fields.items()) + "</xml>"


def sign_query(token: str, encrypted: str | None = None, timestamp: str | None = None,
               nonce: str | None = None) -> dict[str, str]:
    """The query WeChat puts on a push: timestamp, nonce, signature, and for a sealed body msg_signature."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(int.from_bytes(os.urandom(4), "big"))
    query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    if encrypted is not None:
        query.update(encrypt_type="aes", msg_signature=sign(token, timestamp, nonce, encrypted))
    return query


def seal_request(envelope: Envelope, to_user: str, xml: bytes,
                 clear: Mapping[str, Any] | None = None) -> tuple[str, bytes]:
    """A message as WeChat pushes it in safe mode: the ``Encrypt`` value and the outer body carrying it. In
    compatibility mode the body carries ``clear``, the message's fields in the clear, beside ``Encrypt``."""
    encrypted = envelope.seal(xml)
    outer = {"ToUserName": to_user} if clear is None else dict(clear)
    return encrypted, render_message({**outer, "Encrypt": encrypted}).encode()
