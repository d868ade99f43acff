"""The dev console for a bot serving many accounts and a platform's authorizers, over a real uvicorn: the page picks
the account, each push goes to that account's URL on its own credentials (the platform's, sealed, for an
authorizer), late replies stream back tagged with their account, and the console's FakeWeChat plays the open
platform: a ticket at first use, new authorizations, revocations."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from wxhook.dev import create_console
from wxhook.testing import serve
from wxhook.xml import parse_xml

from ..e2e.test_echo_example import free_port, wait_until_serving
from .console_bot import COMPONENT, PLAIN, SAFE, accounts_bot
from .test_console import ROOT, read_events


def send(url: str, account: str, text: str, mode: str = "plain", openid: str = "o_alice") -> httpx.Response:
    return httpx.post(url + "api/send", json={"account": account, "openid": openid, "mode": mode, "kind": "text",
                                              "text": text}, timeout=10)


def reply_text(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    content: str = response.json()["reply"]["bubble"]["content"]
    return content


def authorize(url: str, name: str = "Corner shop") -> dict[str, Any]:
    response = httpx.post(url + "api/authorize", json={"name": name}, timeout=10)
    assert response.status_code == 200, response.text
    account: dict[str, Any] = response.json()["account"]
    return account


@pytest.fixture
def console() -> Iterator[str]:
    """Two configured accounts (one in safe mode, one plaintext without a secret) and a platform."""
    with serve(create_console(accounts_bot([SAFE, PLAIN], COMPONENT))) as url:
        yield url


def test_info_lists_the_accounts_and_the_platform(console: str) -> None:
    info = httpx.get(console + "api/info").json()
    assert info["accounts"] == [
        {"appid": SAFE.appid, "name": "Safe shop", "source": "configured", "path": f"/wechat/{SAFE.appid}",
         "modes": ["compat", "safe"], "revoked": False, "menu": []},
        {"appid": PLAIN.appid, "name": "Plain shop", "source": "configured", "path": f"/wechat/{PLAIN.appid}",
         "modes": ["plain"], "revoked": False, "menu": []},
    ]
    assert info["platform"] == {"appid": COMPONENT.appid, "events_url": f"{console}wechat/events", "error": None}
    assert (info["appid"], info["safe_mode"]) == (SAFE.appid, True)


def test_each_account_gets_its_own_reply(console: str) -> None:
    safe = send(console, SAFE.appid, "hi", mode="safe")
    assert reply_text(safe) == "Safe shop (configured): hi"
    assert safe.json()["reply"]["encrypted"] and "<Encrypt>" in safe.json()["request"]["wire"]
    assert reply_text(send(console, PLAIN.appid, "hi")) == "Plain shop (configured): hi"
    refused = send(console, PLAIN.appid, "sealed", mode="safe")
    assert refused.status_code == 400 and "aes_key" in refused.json()["error"]
    for account in ("wx3333333333333333", None, ["x"]):
        unknown = send(console, account, "hi")  # type: ignore[arg-type]
        assert unknown.status_code == 400 and "/api/info" in unknown.json()["error"]


def test_late_replies_and_menus_stream_tagged_with_their_account() -> None:
    app = create_console(accounts_bot([SAFE, PLAIN], COMPONENT))
    with serve(app) as console, httpx.stream("GET", console + "api/events", timeout=10) as events:
        lines = events.iter_lines()
        assert next(lines) == ": connected"
        assert send(console, SAFE.appid, "slow", mode="safe", openid="o_bob").json()["reply"]["empty"]
        (deferred,) = read_events(lines, 1)
        assert (deferred["type"], deferred["account"], deferred["openid"]) == ("deferred", SAFE.appid, "o_bob")
        assert deferred["bubble"] == {"type": "text", "content": f"late for {SAFE.appid}"}
        assert reply_text(send(console, SAFE.appid, "publish menu", mode="safe")) == "menu published"
        (menu,) = read_events(lines, 1)
        assert menu == {"type": "menu", "account": SAFE.appid,
                        "buttons": [{"type": "click", "name": SAFE.appid[-4:], "key": "OWN"}]}
        menus = {account["appid"]: account["menu"] for account in httpx.get(console + "api/info").json()["accounts"]}
        assert menus == {SAFE.appid: menu["buttons"], PLAIN.appid: []}, "each account has its own menu"
    sends = app.state.console.fake.calls("/cgi-bin/message/custom/send")
    assert [call.appid for call in sends] == [SAFE.appid], "sent with the account's own token"


def test_an_account_authorized_in_the_console_chats_and_is_revoked() -> None:
    app = create_console(accounts_bot([], COMPONENT))
    with serve(app) as url:
        assert httpx.get(url + "api/info").json()["accounts"] == []
        play = app.state.console.platform.play
        assert [push.info_type for push in play.pushes] == ["component_verify_ticket"]
        account = authorize(url)
        appid = account["appid"]
        assert account == {"appid": appid, "name": "Corner shop", "source": "authorizer", "path": f"/wechat/{appid}",
                           "modes": ["safe"], "revoked": False, "menu": []}
        assert httpx.get(url + "api/info").json()["accounts"] == [account]

        with httpx.stream("GET", url + "api/events", timeout=10) as events:
            lines = events.iter_lines()
            assert next(lines) == ": connected"
            chat = send(url, appid, "hi", mode="safe")
            assert reply_text(chat) == f"{appid} (authorizer): hi"
            request = chat.json()["request"]
            assert request["encrypted"] and parse_xml(request["xml"].encode())["ToUserName"].startswith("gh_")
            assert send(url, appid, "slow", mode="safe").json()["reply"]["empty"]
            (deferred,) = read_events(lines, 1)
            assert (deferred["account"], deferred["bubble"]["content"]) == (appid, f"late for {appid}")
        plain = send(url, appid, "hi")
        assert plain.status_code == 400 and "always" in plain.json()["error"]
        sends = app.state.console.fake.calls("/cgi-bin/message/custom/send")
        assert [call.appid for call in sends] == [appid], "sent with the authorizer's token"

        revoked = httpx.post(url + "api/revoke", json={"account": appid}, timeout=10)
        assert revoked.status_code == 200, revoked.text
        assert revoked.json()["account"] == {**account, "revoked": True}
        assert [push.info_type for push in play.pushes][-2:] == ["authorized", "unauthorized"]
        assert all(push.ok for push in play.pushes)
        gone = send(url, appid, "hi", mode="safe")
        assert gone.status_code == 400 and "revoked" in gone.json()["error"]
        again = httpx.post(url + "api/revoke", json={"account": appid})
        assert again.status_code == 400 and "not revoked" in again.json()["error"]


def test_the_bot_keeps_the_authorizers_record() -> None:
    bot = accounts_bot([SAFE], COMPONENT)
    with serve(create_console(bot)) as url:
        appid = authorize(url, "Shop")["appid"]
        assert reply_text(send(url, SAFE.appid, "mine", mode="safe")) == "Safe shop (configured): mine"
        assert httpx.post(url + "api/revoke", json={"account": appid}, timeout=10).status_code == 200
    assert bot.platform is not None
    record = asyncio.run(bot.platform.authorizer_record(appid))
    assert record is not None and record.revoked


@pytest.mark.parametrize(("path", "body", "status", "error"), [
    ("api/authorize", {"name": "x" * 31}, 400, "at most 30"),
    ("api/authorize", {"name": 7}, 400, "'name'"),
    ("api/revoke", {"account": SAFE.appid}, 400, "an authorizer"),
    ("api/revoke", {}, 400, "an authorizer"),
])
def test_bad_platform_actions_are_refused(console: str, path: str, body: dict[str, Any], status: int,
                                          error: str) -> None:
    response = httpx.post(console + path, json=body)
    assert response.status_code == status and error in response.json()["error"]


@pytest.mark.parametrize("path", ["api/authorize", "api/revoke"])
def test_platform_actions_take_json_and_need_a_platform(path: str) -> None:
    with serve(create_console(accounts_bot([SAFE]))) as url:
        form = httpx.post(url + path, content=json.dumps({"name": "x"}), headers={"content-type": "text/plain"})
        assert form.status_code == 415
        missing = httpx.post(url + path, json={"name": "x", "account": SAFE.appid})
        assert missing.status_code == 404 and "Platform(" in missing.json()["error"]
        assert httpx.get(url + "api/info").json()["platform"] is None


def test_the_bot_gets_its_own_api_client_back() -> None:
    bot = accounts_bot([SAFE], COMPONENT)
    own = bot.api
    with serve(create_console(bot)) as url:
        assert bot.api is not own
        assert reply_text(send(url, SAFE.appid, "hi", mode="safe")) == "Safe shop (configured): hi"
    assert bot.api is own


def test_python_m_wxhook_dev_serves_the_platform_example() -> None:
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "PYTHONUNBUFFERED": "1", "WXHOOK_STORE": "memory://",
           "WXHOOK_PLATFORM_APPID": COMPONENT.appid or "", "WXHOOK_PLATFORM_SECRET": COMPONENT.secret or "",
           "WXHOOK_PLATFORM_TOKEN": COMPONENT.token or "", "WXHOOK_PLATFORM_AES_KEY": COMPONENT.aes_key or ""}
    process = subprocess.Popen([sys.executable, "-m", "wxhook.dev", "examples.platform_bot:bot", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process)
        assert httpx.get(url + "api/info").json()["platform"]["error"] is None, "the ticket was taken"
        appid = authorize(url)["appid"]
        follow = httpx.post(url + "api/send", timeout=10, json={
            "account": appid, "openid": "o_a", "mode": "safe", "kind": "compose", "type": "subscribe",
            "fields": {"EventKey": ""}})
        assert reply_text(follow) == "Thanks for following! Send anything and we'll answer."
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/  (the bot's accounts at /wechat/{{appid}})" in output
    assert f"account {appid} authorized the platform" in output

