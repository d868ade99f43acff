"""`wxhook token`, `menu push|show|delete` and `qr create` against FakeWeChat over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wxhook.cli import main
from wxhook.testing import FakeWeChat

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
BUTTONS = [
    {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
    {"name": "菜单", "sub_button": [
        {"type": "view", "name": "搜索", "url": "https://www.example.com/"},
        {"type": "scancode_push", "name": "扫码", "key": "SCAN_1"},
    ]},
]
TOML = """\
[[button]]
type = "click"
name = "今日歌曲"
key = "V1001_TODAY_MUSIC"

[[button]]
name = "菜单"

  [[button.sub_button]]
  type = "view"
  name = "搜索"
  url = "https://www.example.com/"

  [[button.sub_button]]
  type = "scancode_push"
  name = "扫码"
  key = "SCAN_1"
"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeChat]:
    """A FakeWeChat and the WXHOOK_* variables pointing the CLI at it, as a deployment would set them."""
    with FakeWeChat() as server:
        for name, value in (("WXHOOK_APPID", server.appid), ("WXHOOK_SECRET", server.secret),
                            ("WXHOOK_API_BASE", server.url), ("WXHOOK_MP_BASE", server.url)):
            monkeypatch.setenv(name, value)
        yield server


def test_token_prints_a_token_wechat_accepts(fake: FakeWeChat, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token"]) == 0
    token = capsys.readouterr().out.strip()
    (call,) = fake.calls("/cgi-bin/stable_token")
    assert call.json == {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret,
                         "force_refresh": False}
    answer = httpx.get(f"{fake.url}/cgi-bin/get_api_domain_ip", params={"access_token": token}).json()
    assert answer.get("errcode", 0) == 0 and answer["ip_list"]


def test_token_shares_the_bots_store(fake: FakeWeChat, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'state.db'}"
    assert main(["token", "--store", store]) == 0
    assert main(["--store", store, "token"]) == 0
    first, second = capsys.readouterr().out.split()
    assert first == second
    assert len(fake.calls("/cgi-bin/stable_token")) == 1  # the second run found it in the store


def test_options_override_the_environment(fake: FakeWeChat, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "--secret", "0" * 32]) == 1
    err = capsys.readouterr().err
    assert err.startswith("wxhook: WeChat API /cgi-bin/stable_token failed: errcode 40") and err.count("\n") == 1


def test_missing_credentials_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token"]) == 2
    assert capsys.readouterr().err == "wxhook: no appid (the AppID, wx…): set WXHOOK_APPID or pass --appid\n"
    assert main(["token", "--appid", "wx1"]) == 2
    assert capsys.readouterr().err == "wxhook: no app secret (the AppSecret): set WXHOOK_SECRET or pass --secret\n"


@pytest.mark.parametrize(("name", "content"), [("menu.json", json.dumps({"button": BUTTONS}, ensure_ascii=False)),
                                               ("menu.toml", TOML)])
def test_menu_push_sends_the_file_as_menu_create_takes_it(
    fake: FakeWeChat, capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert main(["menu", "push", str(path)]) == 0
    assert capsys.readouterr().out == "menu pushed: 今日歌曲, 菜单\n"
    (call,) = fake.calls("/cgi-bin/menu/create")
    assert call.json == {"button": BUTTONS}
    assert "\\u" not in call.body.decode()  # UTF-8 as WeChat wants it, not \u escapes

    assert main(["menu", "show"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["button"][0] == BUTTONS[0]
    assert [b["name"] for b in shown["button"][1]["sub_button"]] == ["搜索", "扫码"]


def test_menu_show_output_pushes_back_unchanged(fake: FakeWeChat, capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    (tmp_path / "menu.toml").write_text(TOML, encoding="utf-8")
    assert main(["menu", "push", str(tmp_path / "menu.toml")]) == 0
    assert main(["menu", "show"]) == 0
    capsys.readouterr()
    assert main(["menu", "show"]) == 0
    (tmp_path / "shown.json").write_text(capsys.readouterr().out, encoding="utf-8")
    assert main(["menu", "push", str(tmp_path / "shown.json")]) == 0
    first, second = fake.calls("/cgi-bin/menu/create")
    assert [b["name"] for b in second.json["button"]] == [b["name"] for b in first.json["button"]]


def test_menu_delete_then_show_says_there_is_none(fake: FakeWeChat, capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    (tmp_path / "menu.json").write_text(json.dumps({"button": BUTTONS}), encoding="utf-8")
    assert main(["menu", "push", str(tmp_path / "menu.json")]) == 0
    assert main(["menu", "delete"]) == 0
    assert capsys.readouterr().out.endswith("menu deleted (conditional menus too)\n")
    assert len(fake.calls("/cgi-bin/menu/delete")) == 1
    assert main(["menu", "show"]) == 1
    assert capsys.readouterr().err == ("wxhook: the account has no menu (46003); create one with: wxhook menu push "
                                       "FILE\n")


@pytest.mark.parametrize(("name", "content", "status", "message"), [
    ("four.json", json.dumps({"button": [BUTTONS[0]] * 4}), 1, "four.json: a menu has 1..3 top-level buttons, got 4"),
    ("nokey.json", json.dumps({"button": [{"type": "click", "name": "x"}]}), 1,
     "nokey.json: button[0] of type 'click' needs key"),
    ("typo.json", json.dumps({"buttons": BUTTONS}), 1, "typo.json: a menu is a table whose 'button' holds the buttons"),
    ("extra.json", json.dumps({"button": BUTTONS, "matchrule": {}}), 1,
     "extra.json: unknown top-level key(s) matchrule; a menu has only 'button'"),
    ("broken.json", '{"button": [', 1, "broken.json is not valid JSON: "),
    ("broken.toml", "[[button]\n", 1, "broken.toml is not valid TOML: "),
    ("menu.yaml", "button: []", 2, "menu.yaml: a menu file ends in .json or .toml"),
])
def test_a_bad_menu_file_is_named_and_nothing_is_pushed(
    fake: FakeWeChat, capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str, status: int,
    message: str,
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    assert main(["menu", "push", str(tmp_path / name)]) == status
    err = capsys.readouterr().err
    assert err.startswith(f"wxhook: {tmp_path}") and message in err and err.count("\n") == 1, err
    assert fake.calls("/cgi-bin/menu/create") == []


def test_a_missing_menu_file_is_a_usage_error(fake: FakeWeChat, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["menu", "push", "no-such-menu.json"]) == 2
    assert capsys.readouterr().err == ("wxhook: cannot read the menu file: No such file or directory: "
                                       "no-such-menu.json\n")


def test_qr_create_prints_the_code_and_saves_a_png(fake: FakeWeChat, capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    out_file = tmp_path / "qr.png"
    assert main(["qr", "create", "--scene", "promo-42", "--expire", "3600", "--out", str(out_file)]) == 0
    (call,) = fake.calls("/cgi-bin/qrcode/create")
    assert call.json == {"action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "promo-42"}},
                         "expire_seconds": 3600}
    lines = capsys.readouterr().out.splitlines()
    ticket, url, image, lasts = lines[:4]
    (saved_ticket,) = fake.state.qrcodes
    assert ticket == f"ticket: {saved_ticket}"
    assert url.startswith("url: http://weixin.qq.com/q/")
    assert image.startswith(f"image: {fake.url}/cgi-bin/showqrcode?ticket=")
    assert httpx.get(image.removeprefix("image: ")).status_code == 200  # the ticket is one WeChat knows
    assert lasts == "expires in 3600 s"
    code = lines[4:-1]
    assert len(code) > 10 and all(set(row) <= set("█▀▄ ") for row in code) and any("█" in row for row in code)
    assert lines[-1] == f"saved {out_file}"
    assert out_file.read_bytes().startswith(PNG_MAGIC)


def test_qr_create_permanent_integer_scene(fake: FakeWeChat, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["qr", "create", "--scene", "42", "--permanent"]) == 0
    (call,) = fake.calls("/cgi-bin/qrcode/create")
    assert call.json == {"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 42}}}
    assert capsys.readouterr().out.splitlines()[3] == "permanent"


@pytest.mark.parametrize(("argv", "message"), [
    (["--scene", "0"], "wxhook: a temporary integer scene must be a non-zero 32-bit value"),
    (["--scene", "x", "--expire", "0"], "wxhook: expire_seconds must be 1..2592000 (30 days), got 0"),
    (["--scene", "x", "--expire", "60", "--permanent"], "wxhook qr create: argument --permanent: not allowed with"),
    (["--expire", "60"], "wxhook qr create: the following arguments are required: --scene"),
])
def test_qr_usage_errors(fake: FakeWeChat, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["qr", "create", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert fake.calls("/cgi-bin/qrcode/create") == []


def test_an_unwritable_png_is_a_failed_command(fake: FakeWeChat, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "qr.png"
    assert main(["qr", "create", "--scene", "s", "--out", str(target)]) == 1
    assert capsys.readouterr().err == f"wxhook: cannot write {target}: No such file or directory\n"
