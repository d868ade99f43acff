"""The dev console's backend over real HTTP: each follower action reaches the bot as WeChat would push it
(plaintext or sealed), the reply comes back decoded with the raw XML both ways, and what the bot sends through
the fake API (deferred replies, a published menu) streams to the page as server-sent events."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Container, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from wxhook.dev import create_console, load_menu
from wxhook.testing import serve
from wxhook.testing._fake_assets import PNG
from wxhook.xml import parse_xml

from ..e2e.test_echo_example import free_port, wait_until_serving
from .console_bot import APPID, MENU, PUBLISHED_MENU, make_bot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def menu_file(tmp_path: Path) -> Path:
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(MENU), encoding="utf-8")
    return path


@pytest.fixture
def console(menu_file: Path) -> Iterator[str]:
    with serve(create_console(make_bot(), menu_file)) as url:
        yield url


def send(url: str, **action: Any) -> dict[str, Any]:
    response = httpx.post(url + "api/send", json={"openid": "o_alice", "mode": "plain", **action}, timeout=10)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_info_describes_the_bot_and_the_menu_file(console: str) -> None:
    info = httpx.get(console + "api/info").json()
    account = {"appid": APPID, "name": None, "source": "configured", "path": "/wechat/",
               "modes": ["plain", "compat", "safe"], "revoked": False, "menu": MENU["button"]}
    composer = info.pop("composer")
    assert info == {"safe_mode": True, "appid": APPID, "bot_path": "/wechat/", "deadline": 0.5,
                    "menu": MENU["button"], "menu_source": "file", "accounts": [account], "platform": None}
    assert composer["groups"][0] == {"name": "message", "en": "Messages", "zh": "消息"}
    assert composer["kinds"][0] == {"name": "text", "msg_type": "text", "event": None, "group": "message",
                                    "label": {"en": "Text", "zh": "文本"},
                                    "fields": [{"tag": "Content", "default": "你好，wxhook！", "number": False,
                                                "fresh": None}]}
    page = httpx.get(console)
    assert page.status_code == 200 and '<script src="/static/console.js" defer></script>' in page.text
    for asset in ("console.js", "console.css"):
        assert httpx.get(f"{console}static/{asset}").status_code == 200


def test_plaintext_text_round_trip(console: str) -> None:
    result = send(console, kind="text", text="hello <b>")
    request = parse_xml(result["request"]["xml"].encode())
    assert (request["MsgType"], request["Content"], request["FromUserName"]) == ("text", "hello <b>", "o_alice")
    assert result["request"]["wire"] == result["request"]["xml"] and not result["request"]["encrypted"]
    reply = result["reply"]
    assert reply["status"] == 200 and not reply["encrypted"] and not reply["empty"]
    assert reply["bubble"] == {"type": "text", "content": "hello <b>"}
    assert reply["xml"] == reply["wire"] and "<![CDATA[hello <b>]]>" in reply["xml"]


def test_safe_mode_seals_the_request_and_opens_the_reply(console: str) -> None:
    result = send(console, kind="text", text="secret", mode="safe")
    assert result["request"]["encrypted"]
    assert "<Encrypt>" in result["request"]["wire"] and "secret" not in result["request"]["wire"]
    assert "<![CDATA[secret]]>" in result["request"]["xml"]
    reply = result["reply"]
    assert reply["encrypted"] and "<Encrypt>" in reply["wire"] and "<MsgSignature>" in reply["wire"]
    assert "<![CDATA[secret]]>" in reply["xml"] and reply["bubble"] == {"type": "text", "content": "secret"}


def compose(url: str, kind: str, **fields: Any) -> dict[str, Any]:
    return send(url, kind="compose", type=kind, fields=fields)


def test_events_as_wechat_pushes_them(console: str) -> None:
    follow = compose(console, "subscribe")
    fields = parse_xml(follow["request"]["xml"].encode())
    assert (fields["Event"], fields["EventKey"]) == ("subscribe", "qrscene_42") and fields["Ticket"].startswith("gQ")
    assert "MsgId" not in fields and follow["request"]["fields"]["EventKey"] == "qrscene_42"
    assert follow["reply"]["bubble"]["content"] == "welcome, scene 42"
    plain = compose(console, "subscribe", EventKey="")
    assert "Ticket" not in plain["request"]["fields"], "no QR code, no ticket"
    assert plain["reply"]["bubble"]["content"] == "welcome, scene None"
    scan = compose(console, "SCAN", EventKey="spring")
    assert parse_xml(scan["request"]["xml"].encode())["Event"] == "SCAN"
    assert scan["reply"]["bubble"]["content"] == "scanned spring"
    gone = compose(console, "unsubscribe")
    assert parse_xml(gone["request"]["xml"].encode())["Event"] == "unsubscribe"
    assert gone["reply"]["empty"] and gone["reply"]["bubble"] is None and gone["reply"]["wire"] == "success"
    place = compose(console, "location", Location_X="39.9", Location_Y=116.4, Label="Square")
    assert place["request"]["fields"]["Location_X"] == 39.9
    assert "<Location_X>39.9</Location_X>" in place["request"]["xml"], "a number goes in bare"
    assert place["reply"]["bubble"]["content"] == "Square at 39.9, 116.4"


def test_menu_buttons_push_their_events(console: str) -> None:
    click = send(console, kind="menu", button=MENU["button"][0])
    fields = parse_xml(click["request"]["xml"].encode())
    assert (fields["MsgType"], fields["Event"], fields["EventKey"]) == ("event", "CLICK", "PING")
    assert click["reply"]["bubble"] == {"type": "text", "content": "clicked PING"}
    view = send(console, kind="menu", button=MENU["button"][1]["sub_button"][1])
    fields = parse_xml(view["request"]["xml"].encode())
    assert (fields["Event"], fields["EventKey"], fields["MenuId"]) == ("VIEW", "https://example.com/", "208379533")
    assert view["reply"]["empty"]
    material = httpx.post(console + "api/send", json={"openid": "o_a", "kind": "menu",
                                                      "button": {"type": "media_id", "media_id": "M"}})
    assert material.status_code == 400 and "pushes nothing to the bot" in material.json()["error"]


def test_an_image_is_stored_in_the_fake_and_its_reply_served(console: str) -> None:
    result = send(console, kind="image", data=base64.b64encode(PNG).decode(), content_type="image/png")
    fields = parse_xml(result["request"]["xml"].encode())
    media_id = fields["MediaId"]
    assert fields["PicUrl"] == f"{console}media/{media_id}"
    assert result["reply"]["bubble"] == {"type": "image", "media_id": media_id}
    served = httpx.get(fields["PicUrl"])
    assert served.content == PNG and served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(console + "media/unknown").status_code == 404


def test_rich_replies_come_back_as_bubbles(console: str) -> None:
    news = send(console, kind="text", text="news")["reply"]["bubble"]
    assert news == {"type": "news", "articles": [{"title": "Cover story", "description": "The description",
                                                  "url": "https://example.com/a", "pic_url": "javascript:alert(1)"}]}
    music = send(console, kind="text", text="music")["reply"]["bubble"]
    assert music == {"type": "music", "title": "Song", "description": "Singer", "music_url": "https://example.com/a.mp3",
                     "hq_music_url": "javascript:alert(2)", "thumb_media_id": "THUMB"}


@pytest.mark.parametrize(("action", "error"), [
    ({"kind": "dance"}, "unknown action 'dance': compose, text, image or menu"),
    ({"kind": "text", "text": "  "}, "'text' needs a non-empty 'text'"),
    ({"kind": "compose", "type": "dance"}, "no type 'dance' to compose"),
    ({"kind": "compose", "type": "location", "fields": {"Location_X": "north"}},
     "'location': Location_X is a number, not 'north'"),
    ({"kind": "compose", "type": "location", "fields": {"Location_X": "inf"}}, "Location_X is a number"),
    ({"kind": "compose", "type": "location", "fields": {"Scale": True}}, "Scale takes text or a number, not bool"),
    ({"kind": "compose", "type": "text", "fields": {"Contents": "x"}}, "'text' has no field 'Contents': its fields "
                                                                       "are Content"),
    ({"kind": "compose", "type": "text", "fields": ["x"]}, "'fields' of 'text' is an object"),
    ({"kind": "text", "text": "x", "mode": "sealed"}, "'mode' is how WeChat pushes: plain, compat, safe"),
    ({"kind": "image", "data": "not base64!"}, "'image' needs 'data'"),
    ({"kind": "image", "data": "PGI+", "content_type": "text/html"}, "'image' needs a picture's content_type"),
    ({"kind": "menu", "button": "PING"}, "'menu' needs 'button'"),
    ({"kind": "text", "text": "hi", "openid": ""}, "needs a non-empty 'openid'"),
])
def test_bad_actions_are_refused_with_the_fix(console: str, action: dict[str, Any], error: str) -> None:
    response = httpx.post(console + "api/send", json={"openid": "o_a", **action})
    assert response.status_code == 400 and error in response.json()["error"]


def test_safe_mode_needs_a_key() -> None:
    from wxhook import Bot

    with serve(create_console(Bot(token="t"))) as url:
        assert httpx.get(url + "api/info").json()["safe_mode"] is False
        response = httpx.post(url + "api/send", json={"openid": "o_a", "kind": "text", "text": "x", "mode": "safe"})
        assert response.status_code == 400 and "aes_key" in response.json()["error"]


def read_events(stream: Iterator[str], count: int, types: Container[str] = ("deferred", "typing", "menu")
                ) -> list[dict[str, Any]]:
    """The next ``count`` events of these types (the API panel's ``call`` events left out unless asked for)."""
    events = []
    for line in stream:
        if line.startswith("data: ") and (event := json.loads(line[6:]))["type"] in types:
            events.append(event)
            if len(events) == count:
                break
    return events


def test_deferred_replies_typing_and_a_published_menu_stream_live() -> None:
    bot = make_bot()
    bot.typing = True
    with serve(create_console(bot)) as url:
        assert httpx.get(url + "api/info").json()["menu"] == []
        with httpx.stream("GET", url + "api/events", timeout=10) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            lines = events.iter_lines()
            assert next(lines) == ": connected"
            slow = send(url, kind="text", text="slow", openid="o_bob")
            assert slow["reply"]["empty"]
            typing, deferred = read_events(lines, 2)
            assert typing == {"type": "typing", "account": APPID, "openid": "o_bob", "on": True}
            assert deferred["type"] == "deferred" and deferred["openid"] == "o_bob" and deferred["account"] == APPID
            assert deferred["bubble"] == {"type": "text", "content": "done thinking"}
            assert json.loads(deferred["raw"]) == {"touser": "o_bob", "msgtype": "text",
                                                   "text": {"content": "done thinking"}}
            assert send(url, kind="text", text="publish menu")["reply"]["bubble"]["content"] == "menu published"
            (menu,) = read_events(lines, 1)
            assert menu == {"type": "menu", "account": APPID, "buttons": PUBLISHED_MENU}
        info = httpx.get(url + "api/info").json()
        assert (info["menu"], info["menu_source"]) == (PUBLISHED_MENU, "bot")


def test_the_bot_gets_its_own_api_client_back() -> None:
    bot = make_bot()
    own = bot.api
    with serve(create_console(bot)) as url:
        assert bot.api is not own
        assert httpx.get(url + "api/info").status_code == 200
    assert bot.api is own


@pytest.mark.parametrize(("content", "error"), [
    ("{not json", "is not JSON"),
    ('{"menu": []}', 'needs a "button" list'),
    ('{"button": ["x"]}', 'needs a "button" list'),
])
def test_menu_file_errors(tmp_path: Path, content: str, error: str) -> None:
    path = tmp_path / "menu.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_menu(path)
    with pytest.raises(ValueError, match="cannot read the menu file"):
        load_menu(tmp_path / "missing.json")


def test_python_m_wxhook_dev_serves_the_menu_example() -> None:
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "wxhook.dev", "examples.menu:bot", "--menu", "examples/menu.json", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process)
        info = httpx.get(url + "api/info").json()
        assert info["menu_source"] == "file" and info["menu"][0]["key"] == "TODAY"
        hours = send(url, kind="menu", button=info["menu"][1]["sub_button"][0])
        assert hours["reply"]["bubble"] == {"type": "text", "content": "We are open 9:00–18:00, Monday to Saturday."}
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0].decode()
    assert f"wxhook dev console: http://127.0.0.1:{port}/" in output


@pytest.mark.parametrize(("args", "error"), [
    (["nosuchmodule:bot"], "No module named 'nosuchmodule'"),
    (["examples.menu"], "is not module:attribute"),
    (["examples.menu:nothing"], "has no attribute 'nothing'"),
    (["examples.menu:ANSWERS"], "is a dict, not a wxhook Bot"),
    (["examples.menu:bot", "--menu", "nowhere.json"], "cannot read the menu file nowhere.json"),
])
def test_python_m_wxhook_dev_names_what_is_wrong(args: list[str], error: str) -> None:
    result = subprocess.run([sys.executable, "-m", "wxhook.dev", *args], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and error in result.stderr


def test_media_the_page_could_run_is_served_as_bytes() -> None:
    app = create_console(make_bot())
    with serve(app) as url:
        media_id = app.state.console.fake.add_media("image", b"<script>alert(1)</script>", "text/html")
        served = httpx.get(f"{url}media/{media_id}")
    assert served.content == b"<script>alert(1)</script>"
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["x-content-type-options"] == "nosniff"
