"""Who may use the dev console, over a real uvicorn: only its own address (DNS rebinding brings a foreign Host),
only its own page (a foreign Origin, a cross-site fetch, a body that is not JSON are refused before the bot's
handler runs), and uploaded media served so that nothing in them can run on the console's origin."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from wxhook.dev import create_console
from wxhook.testing import BotClient, serve
from wxhook.testing._fake_assets import PNG

from ..e2e.test_echo_example import free_port, wait_until_serving
from .console_bot import COMPONENT, SAFE, SVG, TOKEN, accounts_bot, recording_bot

ROOT = Path(__file__).resolve().parents[2]
ACTION = {"openid": "o_alice", "mode": "plain", "kind": "text", "text": "run me"}


@pytest.fixture
def runs() -> list[str]:
    return []


@pytest.fixture
def console(runs: list[str]) -> Iterator[str]:
    with serve(create_console(recording_bot(runs), allowed_hosts=["devbox.lan", "tunnel.example:443"])) as url:
        yield url


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def status(url: str, method: str = "GET", **options: object) -> httpx.Response:
    """The answer's head only (an event stream would never end)."""
    with httpx.stream(method, url, timeout=10, **options) as response:  # type: ignore[arg-type]
        if response.status_code != 200:
            response.read()
        return response


ROUTES = ["", "api/info", "api/events", "api/calls", "media/unknown", "static/console.js", "wechat/"]


@pytest.mark.parametrize("path", ROUTES)
def test_a_foreign_host_is_refused_on_every_route(console: str, path: str) -> None:
    """DNS rebinding: attacker.example resolves to 127.0.0.1, the browser sends its own name as Host."""
    answer = status(console + path, headers={"host": f"attacker.example:{port_of(console)}"})
    assert answer.status_code == 403
    assert "Host 'attacker.example:" in answer.text and "--allow-host" in answer.text
    assert answer.text.count("\n") == 1


def test_a_foreign_host_cannot_send(console: str, runs: list[str]) -> None:
    answer = httpx.post(console + "api/send", json=ACTION, headers={"host": f"attacker.example:{port_of(console)}"})
    assert answer.status_code == 403 and runs == []


def test_its_own_addresses_and_the_allowed_hosts_are_served(console: str) -> None:
    port = port_of(console)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}",
                 f"devbox.lan:{port}", "devbox.lan:9999", "tunnel.example:443"):
        assert status(console + "api/info", headers={"host": host}).status_code == 200, host
    for host in (f"localhost:{port + 1}", "localhost", "127.0.0.1", "tunnel.example", "tunnel.example:8443",
                 f"127.0.0.2:{port}", f"localhost.attacker.example:{port}", f"user@localhost:{port}", ""):
        assert status(console + "api/info", headers={"host": host}).status_code in (400, 403), host


@pytest.mark.parametrize("origin", ["http://attacker.example", "null", "http://localhost:1", "https://devbox.lan.evil",
                                    "file://", "http://127.0.0.1"])
def test_a_foreign_origin_is_refused(console: str, runs: list[str], origin: str) -> None:
    sent = httpx.post(console + "api/send", json=ACTION, headers={"origin": origin})
    assert sent.status_code == 403 and "Origin" in sent.text and "--allow-host" in sent.text
    assert status(console + "api/info", headers={"origin": origin}).status_code == 403
    assert runs == []


def test_its_own_origins_may_send(console: str, runs: list[str]) -> None:
    port = port_of(console)
    for origin in (f"http://127.0.0.1:{port}", f"http://localhost:{port}", "http://devbox.lan:8000",
                   "https://tunnel.example"):
        sent = httpx.post(console + "api/send", json=ACTION, headers={"origin": origin})
        assert sent.status_code == 200, (origin, sent.text)
    assert runs == ["run me"] * 4


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          None, "application/jsonp", "text/plain; application/json"])
def test_send_takes_only_json(console: str, runs: list[str], content_type: str | None) -> None:
    """A cross-origin ``text/plain`` POST needs no preflight: the body is JSON, but the type says it is not."""
    headers = {} if content_type is None else {"content-type": content_type}
    sent = httpx.post(console + "api/send", content=json.dumps(ACTION), headers=headers)
    assert sent.status_code == 415 and "application/json" in sent.json()["error"]
    assert runs == []
    typed = httpx.post(console + "api/send", content=json.dumps(ACTION),
                       headers={"content-type": "Application/JSON; charset=utf-8"})
    assert typed.status_code == 200 and runs == ["run me"]


def test_cross_site_requests_are_refused_but_a_link_opens_the_page(console: str) -> None:
    fetched = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors", "sec-fetch-dest": "script"}
    answer = status(console + "api/info", headers=fetched)
    assert answer.status_code == 403 and "cross-site" in answer.text
    framed = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe"}
    assert status(console, headers=framed).status_code == 403
    linked = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}
    page = status(console, headers=linked)
    assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    own = {"sec-fetch-site": "same-origin", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}
    assert status(console + "api/info", headers=own).status_code == 200


async def test_the_bot_still_answers_wechat_on_its_own_address(console: str, runs: list[str]) -> None:
    async with BotClient(console + "wechat/", token=TOKEN) as wechat:
        reply = await wechat.send_text("pushed", "o_bob")
    assert reply.content == "ran" and runs == ["pushed"]


def test_script_bearing_uploads_are_refused(console: str, runs: list[str]) -> None:
    for content_type in ("image/svg+xml", "text/html", "application/xml", "image/svg+xml; charset=utf-8"):
        sent = httpx.post(console + "api/send", json={**ACTION, "kind": "image", "content_type": content_type,
                                                      "data": base64.b64encode(SVG).decode()})
        assert sent.status_code == 400 and "'image' needs a picture" in sent.json()["error"], content_type


def test_media_is_served_so_that_nothing_in_it_runs() -> None:
    app = create_console(recording_bot([]))
    with serve(app) as url:
        fake = app.state.console.fake
        svg = httpx.get(f"{url}media/{fake.add_media('image', SVG, 'image/svg+xml')}")
        png = httpx.get(f"{url}media/{fake.add_media('image', PNG, 'IMAGE/PNG; x=1')}")
    assert svg.content == SVG and svg.headers["content-type"] == "application/octet-stream"
    assert svg.headers["content-disposition"] == "attachment"
    assert png.content == PNG and png.headers["content-type"] == "image/png"
    assert png.headers["content-disposition"] == "inline"
    for served in (svg, png):
        assert served.headers["content-security-policy"] == "sandbox; default-src 'none'"
        assert served.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("entry", ["http://devbox.lan", "devbox.lan/path", "a b", "devbox.lan:http", "devbox:99999",
                                   ""])
def test_allowed_hosts_are_checked(entry: str) -> None:
    with pytest.raises(ValueError, match="NAME or NAME:PORT"):
        create_console(recording_bot([]), allowed_hosts=[entry])


def test_the_command_allows_its_own_host_and_the_hosts_it_is_told() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wxhook.dev", "examples.echo:bot", "--host", "localhost", "--port", str(port),
         "--allow-host", "devbox.lan", "--allow-host", "tunnel.example:443"],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "WXHOOK_TOKEN": TOKEN},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api/info"
    try:
        wait_until_serving(url, process)
        for host in (f"localhost:{port}", f"devbox.lan:{port}", "tunnel.example:443"):
            assert httpx.get(url, headers={"host": host}).status_code == 200, host
        refused = httpx.get(url, headers={"host": f"attacker.example:{port}"})
        assert refused.status_code == 403 and "--allow-host" in refused.text
    finally:
        process.terminate()
        process.communicate(timeout=10)


@pytest.mark.parametrize("path", [f"wechat/{SAFE.appid}", "wechat/events", "api/authorize", "api/revoke",
                                  "api/fail"])
def test_every_account_and_the_platform_are_guarded(path: str) -> None:
    """The accounts' URLs and the platform's events URL too: a rebound name or a foreign page reaches none."""
    with serve(create_console(accounts_bot([SAFE], COMPONENT))) as console:
        port = port_of(console)
        foreign = httpx.post(console + path, json={}, headers={"host": f"attacker.example:{port}"})
        assert foreign.status_code == 403 and "--allow-host" in foreign.text
        crossed = httpx.post(console + path, json={}, headers={"origin": "http://attacker.example"})
        assert crossed.status_code == 403 and "Origin" in crossed.text
        assert httpx.post(console + "api/authorize", json={}, timeout=10).status_code == 200, "its own page may"
