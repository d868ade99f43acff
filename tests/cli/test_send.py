"""`wxhook send` against a real bot under uvicorn: every message kind and the common events, in plaintext and
safe mode, with what the bot parsed checked, WeChat-style retries, and the exit statuses."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount, Route

from tests.conftest import AES_KEY, APPID, TOKEN
from tests.e2e.test_echo_example import free_port
from wxhook import Bot, Image, Message
from wxhook.cli import main
from wxhook.testing import serve

SAFE = ["--token", TOKEN, "--appid", APPID, "--aes-key", AES_KEY]
PLAIN = ["--token", TOKEN]
REPLY_HEAD = re.compile(r"HTTP 200 in \d+ ms: (encrypted )?(\w+) reply to (\S+)")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Message] = []
        self.runs = 0


@pytest.fixture(scope="module")
def bot_and_url() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    bot = Bot(token=TOKEN, appid=APPID, aes_key=AES_KEY, allow_plaintext=True)  # serves both modes

    @bot.on_text("slow")
    async def slow(msg: Message) -> str:
        recorder.runs += 1
        await asyncio.sleep(0.6)
        return "slow answer"

    @bot.on_image
    def image(msg: Any) -> Image:
        recorder.seen.append(msg)
        return Image(msg.media_id)

    @bot.on_default
    def anything(msg: Message) -> str:
        recorder.seen.append(msg)
        return f"got {msg.msg_type}"

    with serve(bot) as url:
        yield recorder, url


@pytest.fixture
def bot(bot_and_url: tuple[Recorder, str]) -> Recorder:
    recorder = bot_and_url[0]
    recorder.seen.clear()
    recorder.runs = 0
    return recorder


@pytest.fixture
def url(bot_and_url: tuple[Recorder, str]) -> str:
    return bot_and_url[1]


Check = Callable[[Any], bool]
CASES: list[tuple[list[str], Check]] = [
    (["text", "hello 你好"], lambda m: m.content == "hello 你好" and m.msg_id > 0),
    (["voice", "--recognition", "你好", "--format", "speex"],
     lambda m: (m.msg_type, m.recognition, m.format) == ("voice", "你好", "speex") and m.media_id),
    (["video", "--media-id", "V1", "--thumb-media-id", "T1"],
     lambda m: (m.msg_type, m.media_id, m.thumb_media_id) == ("video", "V1", "T1")),
    (["shortvideo"], lambda m: m.msg_type == "shortvideo" and m.media_id and m.thumb_media_id),
    (["location", "31.2304", "121.4737", "--label", "上海", "--scale", "12"],
     lambda m: (m.location_x, m.location_y, m.scale, m.label) == (31.2304, 121.4737, 12, "上海")),
    (["link", "https://example.com/post", "--title", "T", "--description", "D"],
     lambda m: (m.url, m.title, m.description) == ("https://example.com/post", "T", "D")),
    (["event", "subscribe", "--scene", "promo-42"],
     lambda m: (m.event, m.event_key, m.scene) == ("subscribe", "qrscene_promo-42", "promo-42") and m.ticket),
    (["event", "subscribe"], lambda m: m.event == "subscribe" and m.scene is None),
    (["event", "unsubscribe"], lambda m: m.event == "unsubscribe"),
    (["event", "SCAN", "--scene", "7", "--ticket", "gQT"],
     lambda m: (m.event, m.event_key, m.scene, m.ticket) == ("SCAN", "7", "7", "gQT")),
    (["event", "CLICK", "--key", "V1001_TODAY"], lambda m: (m.event, m.event_key) == ("CLICK", "V1001_TODAY")),
    (["event", "VIEW", "--key", "https://example.com/", "--field", "MenuId=101"],
     lambda m: (m.event, m.event_key, m.menu_id) == ("VIEW", "https://example.com/", 101)),
    (["event", "LOCATION", "--lat", "23.13", "--lng", "113.26", "--precision", "65"],
     lambda m: (m.latitude, m.longitude, m.precision) == (23.13, 113.26, 65.0)),
    (["event", "scancode_push", "--key", "scan", "--scan-result", "hello"],
     lambda m: (m.event_key, m.scan_code_info.scan_type, m.scan_code_info.scan_result) == ("scan", "qrcode", "hello")),
    (["event", "location_select", "--key", "where", "--lat", "1.5", "--lng", "2.5", "--label", "here"],
     lambda m: (m.send_location_info.location_x, m.send_location_info.location_y, m.send_location_info.label)
     == (1.5, 2.5, "here")),
    (["event", "pic_weixin", "--key", "pic"],
     lambda m: m.send_pics_info.count == 1 and len(m.send_pics_info.pic_list[0].pic_md5_sum) == 32),
]


@pytest.mark.parametrize("mode", ["plain", "safe"])
@pytest.mark.parametrize(("argv", "check"), CASES, ids=[" ".join(argv[:2]) for argv, _ in CASES])
def test_each_kind_reaches_the_bot_as_wechat_would_send_it(
    bot: Recorder, url: str, capsys: pytest.CaptureFixture[str], mode: str, argv: list[str], check: Check
) -> None:
    # One follower per mode: the same event from the same follower in the same second is a retry to the bot.
    follower = f"o_{mode}"
    assert main(["send", url, *argv, "--from", follower, *(SAFE if mode == "safe" else PLAIN)]) == 0
    out, err = capsys.readouterr()
    (msg,) = bot.seen
    assert check(msg), msg
    assert (msg.openid, msg.to_user_name) == (follower, "gh_wxhook_cli")
    head, body = out.splitlines()
    match = REPLY_HEAD.fullmatch(head)
    assert match is not None, head
    assert match.groups() == ("encrypted " if mode == "safe" else None, "text", follower)
    assert body == f"  got {msg.msg_type}"
    assert err == ""


def test_a_key_in_the_environment_turns_safe_mode_on(
    bot: Recorder, url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("WXHOOK_TOKEN", TOKEN), ("WXHOOK_APPID", APPID), ("WXHOOK_AES_KEY", AES_KEY)):
        monkeypatch.setenv(name, value)
    assert main(["send", url, "text", "sealed", "--from", "o_alice"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith(": encrypted text reply to o_alice")
    assert main(["send", url, "text", "open", "--plain"]) == 0
    assert ": text reply to o_wxhook_cli" in capsys.readouterr().out
    assert [m.openid for m in bot.seen] == ["o_alice", "o_wxhook_cli"]


def test_a_rich_reply_is_shown_as_its_fields(bot: Recorder, url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", url, "image", "https://example.com/cat.jpg", "--media-id", "M_CAT", "--aes", *SAFE]) == 0
    out = capsys.readouterr().out
    assert bot.seen[0].pic_url == "https://example.com/cat.jpg"  # type: ignore[attr-defined]
    assert REPLY_HEAD.fullmatch(out.splitlines()[0]).groups()[:2] == ("encrypted ", "image")  # type: ignore[union-attr]
    assert out.splitlines()[1:] == ["  {", '    "Image": {', '      "MediaId": "M_CAT"', "    }", "  }"]


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_retries_are_answered_every_time_and_run_the_handler_once(
    bot: Recorder, url: str, capsys: pytest.CaptureFixture[str], mode: str
) -> None:
    # The handler takes 0.6 s and a retry goes out after 0.1 s without an answer: the retries arrive while
    # it runs, as WeChat's do after its five seconds.
    argv = ["send", url, "text", "slow", "--retry", "2", "--retry-after", "0.1", *(SAFE if mode == "safe" else PLAIN)]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert bot.runs == 1
    assert [line.split(":")[0] for line in out[::2]] == ["delivery 1/3", "delivery 2/3", "delivery 3/3"]
    assert out[1::2] == ["  slow answer"] * 3


def test_a_refused_message_exits_1_with_one_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", url, "text", "x", "--token", "not-the-token"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert re.fullmatch(r"wxhook: HTTP 403 in \d+ ms: signature mismatch: .*\n", err)


def test_every_failed_delivery_is_reported(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["send", url, "event", "subscribe", "--retry", "1", "--retry-after", "0", *SAFE[:1],
                 "wrong", *SAFE[2:]]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(" in ")[0] for line in err] == ["wxhook: delivery 1/2: HTTP 403",
                                                       "wxhook: delivery 2/2: HTTP 403"]


def test_a_plaintext_answer_to_a_sealed_message_fails(capsys: pytest.CaptureFixture[str]) -> None:
    async def plain(request: Any) -> Response:
        return Response(b"<xml><MsgType>text</MsgType><Content>oops</Content></xml>", media_type="application/xml")

    with serve(Starlette(routes=[Route("/", plain, methods=["POST"])])) as url:
        assert main(["send", url, "text", "x", *SAFE]) == 1
    assert re.fullmatch(r"wxhook: HTTP 200 in \d+ ms, but WeChat cannot use the reply: encrypted reply lacks "
                        r"Encrypt: .*\n", capsys.readouterr().err)


def test_a_redirect_is_a_failure_wechat_would_see(capsys: pytest.CaptureFixture[str]) -> None:
    bot = Bot(token=TOKEN)
    with serve(Starlette(routes=[Mount("/wechat", app=bot)], lifespan=bot.lifespan)) as base:
        assert main(["send", base + "wechat", "text", "x", *PLAIN]) == 1
    assert re.fullmatch(rf"wxhook: HTTP 307 in \d+ ms to {base}wechat/\?signature=\S+, which WeChat does not "
                        r"follow: \(empty body\)\n", capsys.readouterr().err)


def test_an_unreachable_bot_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    assert main(["send", url, "text", "x", "--token", "t"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"wxhook: cannot reach {url}: ") and err.endswith("is the bot running there?\n")


@pytest.mark.parametrize(("argv", "message"), [
    (["text", "x"], "wxhook: no token (the Token of the bot's server configuration): set WXHOOK_TOKEN or pass --token"),
    (["text", "x", "--token", "t", "--aes"], "wxhook: --aes needs the EncodingAESKey: set WXHOOK_AES_KEY or pass"),
    (["text", "x", "--token", "t", "--aes", "--plain"], "wxhook: --aes and --plain contradict each other"),
    (["text", "x", "--token", "t", "--aes-key", AES_KEY], "wxhook: no appid, which safe mode needs"),
    (["text", "x", "--token", "t", "--appid", APPID, "--aes-key", "short"], "wxhook: invalid EncodingAESKey"),
    (["text", "x", "--token", "t", "--retry", "-1"], "wxhook: --retry is how many more times"),
    (["event", "click", "--token", "t"], "wxhook: WeChat sends this event as 'CLICK', not 'click'"),
    (["event", "CLICK", "--token", "t"], "wxhook: a CLICK event carries the menu button's key"),
    (["event", "CLICK", "--scene", "1", "--token", "t"], "wxhook: --scene is for subscribe and SCAN events"),
    (["event", "SCAN", "--scene", "1", "--key", "k", "--token", "t"], "wxhook: --scene sets the EventKey"),
    (["event", "LOCATION", "--lat", "1", "--token", "t"], "wxhook: a LOCATION event carries a position"),
    (["event", "CLICK", "--key", "k", "--lat", "1", "--token", "t"], "wxhook: --lat and --lng are for LOCATION"),
    (["text", "x", "--field", "novalue"], "wxhook send URL text: argument --field: 'novalue' is not TAG=VALUE"),
    (["sticker", "x"], "wxhook send: argument KIND: invalid choice: 'sticker'"),
    (["location", "north", "east"], "wxhook send URL location: argument LAT: invalid float value: 'north'"),
])
def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["send", "http://127.0.0.1:9/", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(message) and err.count("\n") == 1, err


def test_options_go_before_or_after_the_command(bot: Recorder, url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--token", TOKEN, "--appid", APPID, "send", url, "text", "a", "--aes-key", AES_KEY]) == 0
    assert main(["send", "--from", "o_b", "--token", TOKEN, url, "text", "b"]) == 0
    assert main(["--aes-key", AES_KEY, "--appid", APPID, "send", url, "--token", TOKEN, "text", "c", "--plain"]) == 0
    out = capsys.readouterr().out
    assert [(m.content, m.openid) for m in bot.seen] == [("a", "o_wxhook_cli"), ("b", "o_b"), ("c", "o_wxhook_cli")]  # type: ignore[attr-defined]
    assert [line.split(": ", 1)[1] for line in out.splitlines()[::2]] == [
        "encrypted text reply to o_wxhook_cli", "text reply to o_b", "text reply to o_wxhook_cli"]
