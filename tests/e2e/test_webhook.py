"""The webhook over real HTTP: a real uvicorn on 127.0.0.1, requests shaped the way the WeChat server sends them."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from Crypto.Cipher import AES
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from tests.conftest import AES_KEY, APPID, TOKEN, serve
from wxhook import Article, Bot, MemoryStore, Message, News
from wxhook.crypto import Envelope, decode_aes_key
from wxhook.stores import Admission
from wxhook.testing import BotClient, message_xml


def make_bot(**options: Any) -> Bot:
    # A bot switching its account to safe mode: sealed and plaintext pushes both served.
    bot = Bot(token=TOKEN, appid=APPID, aes_key=AES_KEY, max_body_size=4096, allow_plaintext=True, **options)

    @bot.on_text("news")
    def news(msg: Message) -> News:
        return News([Article("Welcome", "…", "https://example.com", "https://example.com/a.png")])

    @bot.on_text("quiet")
    def quiet(msg: Message) -> None:
        return None

    @bot.on_text("boom")
    def boom(msg: Message) -> str:
        raise RuntimeError("handler exploded")

    @bot.on_text
    async def echo(msg: Message) -> str:
        return msg.content  # type: ignore[attr-defined, no-any-return]

    return bot


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(make_bot()) as base:
        yield base


@pytest.fixture
async def plain(url: str) -> AsyncIterator[BotClient]:
    async with BotClient(url, token=TOKEN) as client:
        yield client


@pytest.fixture
async def safe(url: str) -> AsyncIterator[BotClient]:
    async with BotClient(url, token=TOKEN, appid=APPID, aes_key=AES_KEY) as client:
        yield client


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def test_handshake(plain: BotClient, http: httpx.AsyncClient, url: str) -> None:
    response = await plain.handshake("echo-123")
    assert response.status_code == 200
    assert response.text == "echo-123"
    assert response.headers["content-type"].startswith("text/plain")
    query = plain.signed_query()
    query["signature"] = "0" * 40
    forged = await http.get(url, params={**query, "echostr": "x"})
    assert forged.status_code == 403 and "signature" in forged.text
    missing = await http.get(url, params={"signature": "x", "timestamp": "1", "nonce": "2"})
    assert missing.status_code == 400 and "echostr" in missing.text


async def test_plaintext_echo_swaps_the_addresses(plain: BotClient) -> None:
    reply = await plain.send_text("你好 ]]> world", openid="o_alice")
    assert reply.status == 200 and not reply.encrypted
    assert reply.content == "你好 ]]> world"
    assert reply.fields["ToUserName"] == "o_alice"
    assert reply.fields["FromUserName"] == plain.account
    assert reply.msg_type == "text"


async def test_safe_mode_echo_is_encrypted_and_signed(safe: BotClient) -> None:
    reply = await safe.send_text("secret hello", openid="o_bob")
    assert reply.encrypted
    assert reply.content == "secret hello"
    assert reply.fields["ToUserName"] == "o_bob"
    assert b"secret hello" not in reply.body


async def test_safe_mode_replies_use_fresh_nonce_and_prefix(safe: BotClient) -> None:
    first = await safe.send_text("same")
    second = await safe.send_text("same")
    assert first.body != second.body


async def test_safe_mode_news_reply(safe: BotClient) -> None:
    reply = await safe.send_text("news")
    assert reply.msg_type == "news"
    assert reply.fields["Articles"]["item"]["Title"] == "Welcome"


async def test_no_reply_is_plain_success_even_in_safe_mode(safe: BotClient) -> None:
    reply = await safe.send_text("quiet")
    assert (reply.status, reply.body, reply.encrypted) == (200, b"success", False)


async def test_failing_handler_answers_success(safe: BotClient, caplog: pytest.LogCaptureFixture) -> None:
    reply = await safe.send_text("boom")
    assert (reply.status, reply.body) == (200, b"success")


async def test_compatibility_mode_uses_the_encrypted_part(url: str, http: httpx.AsyncClient) -> None:
    client = BotClient(url, token=TOKEN, appid=APPID, aes_key=AES_KEY)
    inner = message_xml(client.message("text", "o_real", Content="from the encrypted part"))
    encrypted = Envelope(decode_aes_key(AES_KEY), APPID).seal(inner.encode())
    outer = client.message("text", "o_fake", Content="plaintext copy", Encrypt=encrypted)
    response = await http.post(url, params=client.signed_query(encrypted), content=message_xml(outer))
    await client.aclose()
    assert response.status_code == 200
    assert b"<Encrypt>" in response.content and b"from the encrypted part" not in response.content
    fields = BotClient(url, token=TOKEN, appid=APPID, aes_key=AES_KEY).read_reply(response).fields
    assert fields["Content"] == "from the encrypted part" and fields["ToUserName"] == "o_real"


async def test_official_vector_a_over_http(http: httpx.AsyncClient) -> None:
    from tests.test_crypto import VECTOR_A_ENCRYPT

    query = {
        "signature": "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a",
        "timestamp": "1409735669",
        "nonce": "1320562132",
        "encrypt_type": "aes",
        "msg_signature": "5d197aaffba7e9b25a30732f161a50dee96bd5fa",
    }
    body = message_xml({"ToUserName": "gh_10f6c3c3ac5a", "Encrypt": VECTOR_A_ENCRYPT})
    with serve(make_bot()) as url:  # the vector's timestamp is from 2014: refused by the default window
        assert (await http.post(url, params=query, content=body)).status_code == 403
    with serve(make_bot(timestamp_window=None)) as url:
        response = await http.post(url, params=query, content=body)
    assert response.status_code == 200
    client = BotClient(url, token=TOKEN, appid=APPID, aes_key=AES_KEY)
    fields = client.read_reply(response).fields
    await client.aclose()
    assert fields["Content"] == "abcdteT"
    assert fields["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert fields["FromUserName"] == "gh_10f6c3c3ac5a"


def _raw_seal(plain: bytes) -> str:
    key = decode_aes_key(AES_KEY)
    return base64.b64encode(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(plain)).decode()


def _bad_padding() -> str:
    return _raw_seal(b"\x00" * 16 + b"\x00\x00\x00\x01" + b"x" + b"\x40" * 11)


UNREADABLE = [
    base64.b64encode(b"123").decode(),
    _bad_padding(),
    Envelope(decode_aes_key(AES_KEY), "wxb11529c136998cb6").seal(b"<xml><a>1</a></xml>"),
    Envelope(decode_aes_key(AES_KEY), APPID).seal(b"<xml><a>"),
]


async def test_every_undecryptable_envelope_answers_alike(
    safe: BotClient, http: httpx.AsyncClient, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A correctly signed envelope that does not open: one answer for every cause (no decryption oracle),
    nothing decrypted in the answer or the log, the cause at DEBUG for the operator."""
    answers = set()
    with caplog.at_level(logging.DEBUG, logger="wxhook"):
        for encrypt in UNREADABLE:
            body = message_xml({"ToUserName": "gh", "Encrypt": encrypt})
            response = await http.post(url, params=safe.signed_query(encrypt), content=body)
            answers.add((response.status_code, response.text))
    assert answers == {(400, "could not decrypt the message: check that WXHOOK_AES_KEY and WXHOOK_APPID match "
                             "the EncodingAESKey and AppID of the Official Account's server configuration\n")}
    logged = caplog.text
    assert "padding" in logged and "another appid" in logged and "malformed" in logged
    assert "wxb11529c136998cb6" not in logged


async def test_an_encrypt_that_is_not_base64_is_not_found(safe: BotClient, http: httpx.AsyncClient, url: str) -> None:
    body = message_xml({"ToUserName": "gh", "Encrypt": "%%%not-base64%%%"})
    response = await http.post(url, params=safe.signed_query("%%%not-base64%%%"), content=body)
    assert response.status_code == 400 and "no Encrypt element" in response.text


async def test_forged_msg_signature(safe: BotClient, http: httpx.AsyncClient, url: str) -> None:
    encrypt = Envelope(decode_aes_key(AES_KEY), APPID).seal(message_xml(safe.message("text", Content="x")).encode())
    query = {**safe.signed_query(encrypt), "msg_signature": "f" * 40}
    response = await http.post(url, params=query, content=message_xml({"ToUserName": "gh", "Encrypt": encrypt}))
    assert response.status_code == 403 and "msg_signature" in response.text
    del query["msg_signature"]
    response = await http.post(url, params=query, content=message_xml({"ToUserName": "gh", "Encrypt": encrypt}))
    assert response.status_code == 400 and "msg_signature" in response.text


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"<xml><ToUserName>", 400, "malformed"),
        (b"not xml at all", 400, "malformed"),
        (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>', 400, "DOCTYPE"),
        (b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName></xml>", 400, "CreateTime, MsgType"),
    ],
)
async def test_bad_bodies(plain: BotClient, http: httpx.AsyncClient, url: str, body: bytes, status: int,
                          reason: str) -> None:
    response = await http.post(url, params=plain.signed_query(), content=body)
    assert response.status_code == status
    assert reason in response.text


async def test_the_plain_signature_is_required_even_when_sealed(
    safe: BotClient, http: httpx.AsyncClient, url: str
) -> None:
    inner = message_xml(safe.message("text", "o_sig", Content="only msg_signature"))
    encrypt = Envelope(decode_aes_key(AES_KEY), APPID).seal(inner.encode())
    query = safe.signed_query(encrypt)
    del query["signature"]
    response = await http.post(url, params=query, content=message_xml({"ToUserName": "gh", "Encrypt": encrypt}))
    assert response.status_code == 400 and "missing query parameter(s): signature" in response.text


async def test_bad_queries(plain: BotClient, http: httpx.AsyncClient, url: str) -> None:
    body = message_xml(plain.message("text", Content="x"))
    forged = {**plain.signed_query(), "signature": "0" * 40}
    assert (await http.post(url, params=forged, content=body)).status_code == 403
    assert (await http.post(url, params={"timestamp": "1"}, content=body)).status_code == 400
    odd = {**plain.signed_query(), "encrypt_type": "rsa"}
    response = await http.post(url, params=odd, content=body)
    assert response.status_code == 400 and "encrypt_type" in response.text


async def test_body_limit(plain: BotClient, http: httpx.AsyncClient, url: str) -> None:
    big = b"<xml>" + b"x" * 5000 + b"</xml>"
    response = await http.post(url, params=plain.signed_query(), content=big)
    assert response.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the cap applies while reading
        for _ in range(100):
            yield b"x" * 1000

    response = await http.post(url, params=plain.signed_query(), content=chunks())
    assert response.status_code == 413 and "max_body_size" in response.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_other_methods(http: httpx.AsyncClient, url: str, method: str) -> None:
    response = await http.request(method, url)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_encrypted_message_to_a_bot_without_a_key(http: httpx.AsyncClient) -> None:
    bot = Bot(token=TOKEN)
    with serve(bot) as base:
        client = BotClient(base, token=TOKEN, appid=APPID, aes_key=AES_KEY)
        reply = await client.send_text("x")
        await client.aclose()
    assert reply.status == 400


async def test_mounted_in_starlette(caplog: pytest.LogCaptureFixture) -> None:
    bot = Bot(token=TOKEN)
    started: list[str] = []

    async def startup() -> None:
        started.append("bot")

    bot.startup = startup  # type: ignore[method-assign]
    bot.on_text(lambda m: f"mounted: {m.content}")
    app = Starlette(routes=[Mount("/wechat", app=bot), Route("/exact", bot)], lifespan=bot.lifespan)
    with serve(app) as base:
        async with BotClient(base + "wechat/", token=TOKEN) as client:
            reply = await client.send_text("hi")
            handshake = await client.handshake("ok")
        async with BotClient(base + "exact", token=TOKEN) as client:
            exact = await client.send_text("there")
    assert reply.content == "mounted: hi"
    assert handshake.text == "ok"
    assert exact.content == "mounted: there"
    assert started == ["bot"]


def test_rejections_are_logged_once_per_source_and_kind(caplog: pytest.LogCaptureFixture) -> None:
    forged = {"signature": "0" * 40, "timestamp": "1", "nonce": "2", "echostr": "e"}
    with caplog.at_level(logging.WARNING, logger="wxhook"), serve(make_bot()) as url:
        for _ in range(20):
            assert httpx.get(url, params=forged).status_code == 403
        assert httpx.post(url, params={"timestamp": "1"}).status_code == 400
        assert httpx.put(url).status_code == 405
    lines = [r.getMessage() for r in caplog.records if r.name == "wxhook"]
    assert sum("signature mismatch" in line for line in lines) == 1
    assert sum("missing query parameter" in line for line in lines) == 1
    assert all("from 127.0.0.1" in line for line in lines if line.startswith("rejected"))


def test_a_store_that_cannot_open_stops_startup(tmp_path: Path) -> None:
    (tmp_path / "state.db").mkdir()  # a directory where the database file should be
    bot = Bot(token=TOKEN, store=f"sqlite:///{tmp_path}/state.db")
    with pytest.raises(RuntimeError, match="did not start"), serve(bot):
        pass


async def test_a_failing_store_is_answered_success_not_500(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenStore(MemoryStore):
        async def admit(self, *args: Any) -> Admission:  # the first write a message makes
            raise OSError("disk full")

    bot = Bot(token=TOKEN, store=BrokenStore())
    bot.on_text(lambda m: "never")
    with caplog.at_level(logging.ERROR, logger="wxhook"), serve(bot) as base:
        async with BotClient(base, token=TOKEN) as client:
            reply = await client.send_text("x")
    assert (reply.status, reply.body) == (200, b"success")
    assert "disk full" in caplog.text


async def test_encrypt_type_is_read_case_insensitively(safe: BotClient, http: httpx.AsyncClient, url: str) -> None:
    encrypt = Envelope(decode_aes_key(AES_KEY), APPID).seal(message_xml(safe.message("text", Content="AES")).encode())
    query = {**safe.signed_query(encrypt), "encrypt_type": "AES"}
    response = await http.post(url, params=query, content=message_xml({"ToUserName": "gh", "Encrypt": encrypt}))
    assert safe.read_reply(response).content == "AES"
