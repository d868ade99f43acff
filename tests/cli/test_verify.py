"""`wxhook verify` against real servers: a bot that passes, and each way a URL fails WeChat's handshake."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from tests.conftest import TOKEN
from tests.e2e.test_echo_example import free_port
from wxhook import Bot
from wxhook.cli import main
from wxhook.testing import serve


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    bot = Bot(token=TOKEN)

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.sleep(0.5)
        await bot(scope, receive, send)

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>Welcome to nginx!</title>")

    async def naive(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.query_params["echostr"])

    async def json(request: Request) -> JSONResponse:
        return JSONResponse({"echostr": request.query_params["echostr"]})

    async def werobot(request: Request) -> Response:
        """As WeRoBot and a Flask view answer: the echostr for a valid signature, as text/html."""
        query = request.query_params
        signed = hashlib.sha1("".join(sorted([TOKEN, query["timestamp"], query["nonce"]])).encode()).hexdigest()
        if signed != query["signature"]:
            return PlainTextResponse("signature mismatch", status_code=403)
        return HTMLResponse(query["echostr"])

    app = Starlette(
        routes=[Mount("/wechat", app=bot), Mount("/slow", app=slow), Route("/page", page), Route("/naive", naive),
                Route("/json", json), Route("/werobot", werobot), Route("/post-only", naive, methods=["POST"])],
        lifespan=bot.lifespan,
    )
    with serve(app) as url:
        yield url.rstrip("/")


def verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["verify", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_bot_passes_and_the_port_is_noted(base: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = verify(capsys, f"{base}/wechat/", "--token", TOKEN)
    assert (status, err) == (0, "")
    port = base.rsplit(":", 1)[1]
    ok, note = out.splitlines()
    assert re.fullmatch(rf"OK: {base}/wechat/ answered the handshake in \d+ ms; the token matches and a forged "
                        "signature is refused", ok)
    assert note.startswith(f"note: the admin console only takes URLs on port 80 (http) or 443 (https), not {port}")


def test_a_health_check_skips_the_forgery_probe(base: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = verify(capsys, f"{base}/naive", "--token", TOKEN, "--handshake-only")
    assert status == 0
    assert re.fullmatch(rf"OK: {base}/naive answered the handshake in \d+ ms; the token matches", out.splitlines()[0])


def test_an_echostr_answered_as_html_passes(base: str, capsys: pytest.CaptureFixture[str]) -> None:
    """WeChat reads the body alone: WeRoBot and Flask answer the echostr as text/html, and the account saves."""
    status, out, err = verify(capsys, f"{base}/werobot", "--token", TOKEN)
    assert (status, err) == (0, "")
    assert out.startswith(f"OK: {base}/werobot answered the handshake in ")


def test_the_token_comes_from_the_environment(base: str, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXHOOK_TOKEN", TOKEN)
    assert verify(capsys, f"{base}/wechat/")[0] == 0
    monkeypatch.delenv("WXHOOK_TOKEN")
    assert verify(capsys, f"{base}/wechat/") == (2, "", "wxhook: no token (the Token to save in the admin console): "
                                                         "set WXHOOK_TOKEN or pass --token\n")


@pytest.mark.parametrize(("path", "argv", "diagnosis"), [
    ("/wechat/", ["--token", "other"], r"HTTP 403, the signature was refused: the token differs; --token / "
     r"WXHOOK_TOKEN, the bot's WXHOOK_TOKEN and the Token in the admin console must be the same string \(the server "
     r"said: signature mismatch: .*\)"),
    ("/wechat", [], r"HTTP 307 redirect to http://127\.0\.0\.1:\d+/wechat/\?signature=.*: WeChat does not follow "
     r"redirects; save the final URL \(often the same path with a trailing slash, or https://\)"),
    ("/nowhere", [], r"HTTP 404 at /nowhere: nothing is served at this path; check it \(and its trailing slash\) "
     "against where the bot is mounted"),
    ("/post-only", [], r"HTTP 405 at /post-only: this URL does not take GET, which WeChat's handshake is; is it "
     r"the bot\?"),
    ("/page", [], r"answered an HTML page \(text/html; charset=utf-8\), not the echostr: something other than the bot "
     r"serves this URL \(a default site, a login wall, a proxy's page\)"),
    ("/json", [], r"answered 200 but not the echostr: expected '[0-9a-f]{16}' verbatim as the body, got "
     r"'\{\"echostr\":\"[0-9a-f]{16}\"\}'"),
    ("/naive", [], "the echostr is returned for a forged signature too: the server does not check the signature, so "
     "anyone could pose as WeChat"),
    ("/slow/", ["--max-seconds", "0.2"], r"no answer from http://127\.0\.0\.1:\d+/slow/ within 0\.2 s \(\w+Timeout\); "
     r"WeChat gives up after 5 s: make the handshake answer at once \(a slow proxy, a cold start, a blocked event "
     r"loop\?\)"),
])
def test_each_failure_is_named(base: str, capsys: pytest.CaptureFixture[str], path: str, argv: list[str],
                               diagnosis: str) -> None:
    status, out, err = verify(capsys, base + path, "--token", TOKEN, *argv)
    assert (status, out) == (1, "")
    assert re.fullmatch(f"wxhook: {diagnosis}\n", err), err


def test_the_slow_route_passes_with_time_to_spare(base: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(capsys, f"{base}/slow/", "--token", TOKEN, "--max-seconds", "3")[0] == 0


def test_an_unreachable_server_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    status, out, err = verify(capsys, f"http://127.0.0.1:{port}/", "--token", TOKEN)
    assert (status, out) == (1, "")
    assert err.startswith(f"wxhook: cannot reach 127.0.0.1:{port}: ") and "Connection refused" in err
    assert err.count("\n") == 1


def test_a_url_that_is_not_http_is_a_failed_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(capsys, "ftp://example.com/", "--token", TOKEN) == (
        1, "", "wxhook: ftp://example.com/ is not an http:// or https:// URL\n")


def test_the_forged_probe_leaves_the_rejection_warning_to_a_real_one(capsys: pytest.CaptureFixture[str],
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """The bot logs a rejection once a minute per source and kind: verify's own probe, logged as what it is, must
    not use that up and hide the next forged request from the same address."""
    with caplog.at_level(logging.INFO, logger="wxhook"), serve(Bot(token=TOKEN)) as url:
        assert verify(capsys, url, "--token", TOKEN)[0] == 0
        forged = httpx.get(url, params={"signature": "0" * 40, "timestamp": str(int(time.time())), "nonce": "1",
                                        "echostr": "x"})
    assert forged.status_code == 403
    rejections = [(r.levelname, r.getMessage()) for r in caplog.records if "rejected GET" in r.getMessage()]
    assert [level for level, _ in rejections] == ["INFO", "WARNING"], rejections
    assert "by wxhook verify, as it expects of a forged signature: signature mismatch" in rejections[0][1]
