"""Forged, replayed and unauthenticated pushes (issue D1, D2, D7): refused before they cost work.

The plaintext signature covers token, timestamp and nonce, never the body: these tests are what stops a URL
seen once in an access log from signing any body, for any follower, forever.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from wxhook import Bot, Message
from wxhook.crypto import Envelope, decode_aes_key, sign
from wxhook.protocol import seal_request, sign_query
from wxhook.testing import BotClient, message_xml, serve

TOKEN = "security-token"
APPID = "wx2c2769f8efd9abc2"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def counting_bot(runs: list[str], **options: Any) -> Bot:
    bot = Bot(token=TOKEN, appid=APPID, **options)

    @bot.on_text
    def echo(msg: Message) -> str:
        runs.append(msg.content)  # type: ignore[attr-defined]
        return msg.content  # type: ignore[attr-defined, no-any-return]

    return bot


@pytest.fixture
def served() -> Iterator[tuple[str, list[str]]]:
    runs: list[str] = []
    with serve(counting_bot(runs)) as url:
        yield url, runs


def query(timestamp: str, nonce: str = "12345") -> dict[str, str]:
    return {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def text(content: str, msg_id: int) -> bytes:
    return message_xml({"ToUserName": "gh", "FromUserName": "o_victim", "CreateTime": int(time.time()),
                        "MsgType": "text", "Content": content, "MsgId": msg_id}).encode()


@pytest.mark.parametrize("age", [365 * 86400, int(time.time()), -3600])
def test_stale_and_future_timestamps_are_refused(served: tuple[str, list[str]], age: int) -> None:
    url, runs = served
    stamp = str(int(time.time()) - age)  # a year old, 0 (1970), an hour in the future
    response = httpx.post(url, params=query(stamp), content=text("old", 1))
    assert response.status_code == 403 and "timestamp_window" in response.text
    assert runs == []


def test_a_nonce_reused_with_another_body_is_refused_but_a_retry_passes(served: tuple[str, list[str]]) -> None:
    url, runs = served
    signed = query(str(int(time.time())), "777")
    original = text("pay 10", 42)
    assert httpx.post(url, params=signed, content=original).text.count("pay 10") == 1
    assert httpx.post(url, params=signed, content=original).status_code == 200, "WeChat's retry: same body"
    forged = httpx.post(url, params=signed, content=text("pay 10000", 43))
    assert forged.status_code == 403 and "nonce already used" in forged.text
    assert runs == ["pay 10"], "the retry was coalesced, the forgery never ran"


def test_the_nonce_record_is_shared_by_every_server_on_the_store(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'state.db'}"
    runs: list[str] = []
    signed = query(str(int(time.time())), "31337")
    with serve(counting_bot(runs, store=store)) as a, serve(counting_bot(runs, store=store)) as b:
        assert httpx.post(a, params=signed, content=text("first", 1)).status_code == 200
        replay = httpx.post(b, params=signed, content=text("replayed elsewhere", 2))
    assert replay.status_code == 403 and runs == ["first"]


def sealed(content: str, msg_id: int, timestamp: str, nonce: str) -> tuple[dict[str, str], bytes]:
    """A safe-mode push as WeChat sends it: the query (msg_signature over this body) and the sealed body."""
    encrypted, body = seal_request(Envelope(decode_aes_key(AES_KEY), APPID), "gh", text(content, msg_id))
    return sign_query(TOKEN, encrypted, timestamp, nonce), body


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
def test_a_push_replayed_after_the_retry_window_runs_nothing(mode: str) -> None:
    runs: list[str] = []
    stamp = str(int(time.time()))
    signed, body = (query(stamp, "4242"), text("pay 10", 77)) if mode == "plaintext" else \
        sealed("pay 10", 77, stamp, "4242")
    with serve(counting_bot(runs, retry_window=0.5, aes_key=AES_KEY if mode == "safe" else None)) as url:
        first = httpx.post(url, params=signed, content=body)
        time.sleep(1.0)  # past the retry window, well inside the 300 s timestamp window
        replay = httpx.post(url, params=signed, content=body)
    assert first.status_code == replay.status_code == 200
    assert runs == ["pay 10"], "the replay found the outcome and ran nothing"


def test_two_sealed_pushes_sharing_a_nonce_are_both_served() -> None:
    """Two genuine pushes may share (timestamp, nonce) (a few a day at 1,000 pushes/s): in safe mode each carries
    its own msg_signature, which only the token's holder can make, so neither is refused."""
    runs: list[str] = []
    stamp = str(int(time.time()))
    with serve(counting_bot(runs, aes_key=AES_KEY)) as url:
        for content, msg_id in (("first", 1), ("second", 2)):
            signed, body = sealed(content, msg_id, stamp, "1234567890")
            assert httpx.post(url, params=signed, content=body).status_code == 200
    assert runs == ["first", "second"]


def test_a_plaintext_body_under_a_sealed_pushs_nonce_is_refused_while_switching() -> None:
    """With allow_plaintext, a sealed push's query (whose signature covers no body) could carry a forged plaintext
    body: the nonce record refuses it, while sealed pushes still share nonces freely."""
    runs: list[str] = []
    stamp = str(int(time.time()))
    with serve(counting_bot(runs, aes_key=AES_KEY, allow_plaintext=True)) as url:
        signed, body = sealed("genuine", 1, stamp, "99")
        assert httpx.post(url, params=signed, content=body).status_code == 200
        other, other_body = sealed("also genuine", 2, stamp, "99")
        assert httpx.post(url, params=other, content=other_body).status_code == 200
        forged = httpx.post(url, params={k: v for k, v in signed.items() if k in ("signature", "timestamp", "nonce")},
                            content=text("forged", 3))
    assert forged.status_code == 403 and "nonce already used" in forged.text
    assert runs == ["genuine", "also genuine"]


def test_timestamp_window_none_turns_the_checks_off() -> None:
    runs: list[str] = []
    with serve(counting_bot(runs, timestamp_window=None)) as url:
        signed = query("1409735669", "1320562132")
        assert httpx.post(url, params=signed, content=text("old but allowed", 1)).status_code == 200
        assert httpx.post(url, params=signed, content=text("again, another body", 2)).status_code == 200
    assert runs == ["old but allowed", "again, another body"]


async def test_plaintext_is_served_in_safe_mode_only_when_allowed() -> None:
    runs: list[str] = []
    strict = counting_bot(runs, aes_key=AES_KEY)
    switching = counting_bot(runs, aes_key=AES_KEY, allow_plaintext=True)
    with serve(strict) as url:
        async with BotClient(url, token=TOKEN, appid=APPID, aes_key=AES_KEY) as sealed:
            assert (await sealed.send_text("sealed")).content == "sealed"
        async with BotClient(url, token=TOKEN) as plain:
            refused = await plain.send_text("plain")
        assert refused.status == 403 and b"allow_plaintext" in refused.body
    with serve(switching) as url:
        async with BotClient(url, token=TOKEN) as plain:
            assert (await plain.send_text("while switching")).content == "while switching"
    assert runs == ["sealed", "while switching"]


class NoBody:
    """An ASGI receive that fails the test if the app reads the body."""

    read = False

    async def __call__(self) -> dict[str, Any]:
        self.read = True
        raise AssertionError("the body was read before the request was authenticated")


async def call(bot: Bot, query_string: str) -> int:
    statuses: list[int] = []

    async def send(event: dict[str, Any]) -> None:
        if event["type"] == "http.response.start":
            statuses.append(event["status"])

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": query_string.encode(),
             "headers": [(b"content-length", b"1048576")], "client": ("203.0.113.9", 4000)}
    await bot(scope, NoBody(), send)  # type: ignore[arg-type]
    return statuses[0]


async def test_nothing_unauthenticated_is_read() -> None:
    bot = Bot(token=TOKEN, appid=APPID, aes_key=AES_KEY)
    now = str(int(time.time()))
    good = query(now)
    cases = {
        "no signature, any msg_signature": f"timestamp={now}&nonce=1&encrypt_type=aes&msg_signature={'a' * 40}",
        "wrong signature": f"signature={'0' * 40}&timestamp={now}&nonce=1&encrypt_type=aes",
        "stale timestamp": "&".join(f"{k}={v}" for k, v in query("1000").items()) + "&encrypt_type=aes",
        "plaintext in safe mode": "&".join(f"{k}={v}" for k, v in good.items()),
    }
    for name, qs in cases.items():
        assert await call(bot, qs) in (400, 403), name


async def test_msg_signature_is_checked_before_any_parse() -> None:
    runs: list[str] = []
    with serve(counting_bot(runs, aes_key=AES_KEY)) as url:
        client = BotClient(url, token=TOKEN)
        encrypt = "A" * 64
        signed = {**client.signed_query(encrypt), "msg_signature": "f" * 40}
        body = b"<xml><Encrypt>" + encrypt.encode() + b"</Encrypt><unclosed>" + b"<a>" * 50_000
        async with httpx.AsyncClient() as http:
            response = await http.post(url, params=signed, content=body)
        await client.aclose()
    assert response.status_code == 403 and "msg_signature mismatch" in response.text


def test_a_trickled_body_is_cut_off(tmp_path: Path) -> None:
    runs: list[str] = []
    with serve(counting_bot(runs, body_timeout=0.5)) as url:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        qs = "&".join(f"{k}={v}" for k, v in query(str(int(time.time()))).items())
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            conn.sendall(f"POST /?{qs} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n<xml>".encode())
            answer = b""
            while b"client\n" not in answer and (chunk := conn.recv(4096)):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 408") and b"body_timeout" in answer
    assert runs == []


def test_configuration_of_the_new_settings_is_checked() -> None:
    for name in ("timestamp_window", "body_timeout", "claim_lease"):
        with pytest.raises(ValueError, match=name):
            Bot(token=TOKEN, **{name: 0})


async def test_rejections_answer_promptly_under_a_flood_of_forgeries() -> None:
    """Many forged senders at once: each is refused from the query alone, the real message still served."""
    runs: list[str] = []
    bot = counting_bot(runs)
    with serve(bot) as url:
        async with BotClient(url, token=TOKEN) as client, httpx.AsyncClient() as http:
            forged = [http.post(url, params={**client.signed_query(), "signature": "0" * 40},
                                content=b"<xml>" + b"x" * 500_000 + b"</xml>") for _ in range(32)]
            real = client.send_text("still served")
            *answers, reply = await asyncio.gather(*forged, real)
    assert all(a.status_code == 403 for a in answers)
    assert reply.content == "still served" and runs == ["still served"]


@pytest.mark.parametrize("implementation", ["httptools", "h11"])
def test_a_trickled_request_head_is_cut_off(implementation: str) -> None:
    from wxhook.serving import H11HeadTimeout, http_protocol

    protocol = http_protocol(head_timeout=0.5)
    if implementation == "h11":  # as when httptools is not installed
        protocol = type("Quick", (H11HeadTimeout,), {"head_timeout": 0.5})
    runs: list[str] = []
    with serve(counting_bot(runs), http=protocol) as url:
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow, \
                socket.create_connection(("127.0.0.1", port), timeout=5) as kept:
            slow.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")  # ... and never the rest
            kept.sendall(b"GET /?x HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b"echostr\n"):  # a whole head is served as usual
                answer += kept.recv(4096)
            assert answer.startswith(b"HTTP/1.1 400")
            time.sleep(0.3)
            kept.sendall(b"GET /?y HTTP/1.1\r\n")  # the next request on a kept-alive connection, trickled
            started = time.monotonic()
            assert slow.recv(4096) == b"", "closed by the server"
            assert kept.recv(4096) == b""
            assert time.monotonic() - started < 4.5, "well before the socket's own 5 s timeout"


def test_server_logs_are_throttled(caplog: pytest.LogCaptureFixture) -> None:
    from wxhook.serving import ThrottleRepeats

    logger = logging.getLogger("wxhook.test.flood")
    logger.addFilter(ThrottleRepeats(interval=60))
    with caplog.at_level(logging.ERROR, logger="wxhook.test.flood"):
        for _ in range(1000):
            logger.error("socket.accept() out of system resource")
    assert len(caplog.records) == 1
