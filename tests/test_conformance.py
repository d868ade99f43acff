"""Real payloads as WeChat sends them: whitespace around values, both spellings of a tag, every message type,
and the names an editor should complete."""

from __future__ import annotations

import textwrap
import typing
from pathlib import Path

import httpx
import pytest

from wxhook import (
    Bot,
    CardEvent,
    EventName,
    EventType,
    Message,
    MiniProgramPageMessage,
    ScanEvent,
    TextMessage,
    ViewEvent,
)
from wxhook.api import QRAction, QRActionName, SubscribeScene, SubscribeSceneName
from wxhook.crypto import Envelope, decode_aes_key
from wxhook.messages import EVENT_NAMES, parse_message
from wxhook.protocol import seal_request
from wxhook.testing import BotClient, serve
from wxhook.xml import parse_xml

TOKEN = "conformance"
APPID = "wx2c2769f8efd9abc2"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

# As captured from WeChat: layout whitespace around the CDATA of every value.
USER_GET_CARD = b"""<xml>
  <ToUserName> <![CDATA[gh_fc0a06a20993]]> </ToUserName>
  <FromUserName> <![CDATA[oZI8Fj040-be6rlDohc6gkoPOQTQ]]> </FromUserName>
  <CreateTime> 1472551036 </CreateTime>
  <MsgType> <![CDATA[event]]> </MsgType>
  <Event> <![CDATA[user_get_card]]> </Event>
  <CardId> <![CDATA[pZI8Fjwsy5fVPRBeD78J4RmqVvBc]]> </CardId>
  <IsGiveByFriend> 0 </IsGiveByFriend>
  <UserCardCode> <![CDATA[226009850808]]> </UserCardCode>
  <OuterStr> <![CDATA[12b]]> </OuterStr>
</xml>"""


def test_whitespace_around_values_is_layout() -> None:
    msg = parse_message(parse_xml(USER_GET_CARD))
    assert isinstance(msg, CardEvent)
    assert (msg.msg_type, msg.event, msg.card_id, msg.create_time) == (
        "event", "user_get_card", "pZI8Fjwsy5fVPRBeD78J4RmqVvBc", 1472551036)
    assert msg.raw["OuterStr"] == "12b", ".raw holds the stripped values too"
    assert (msg.is_give_by_friend, msg.outer_str, msg.user_card_code) == (False, "12b", "226009850808")


def test_text_content_keeps_its_own_spaces() -> None:
    body = b"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>" \
           b"<MsgType> <![CDATA[text]]> </MsgType><Content>\n  <![CDATA[  two  spaces  ]]>\n</Content></xml>"
    msg = parse_message(parse_xml(body))
    assert isinstance(msg, TextMessage) and msg.content == "  two  spaces  "


@pytest.mark.parametrize("tag", ["MenuId", "MenuID"])
def test_menu_id_in_both_spellings(tag: str) -> None:
    body = (f"<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>"
            f"<MsgType>event</MsgType><Event>VIEW</Event><EventKey>https://example.com</EventKey>"
            f"<{tag}>208396993</{tag}></xml>").encode()
    msg = parse_message(parse_xml(body))
    assert isinstance(msg, ViewEvent) and msg.menu_id == 208396993


def test_a_mini_program_card_has_its_class() -> None:
    body = b"""<xml><ToUserName><![CDATA[gh]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName>
    <CreateTime>1482048670</CreateTime><MsgType><![CDATA[miniprogrampage]]></MsgType><MsgId>1234567890123456</MsgId>
    <Title><![CDATA[Title]]></Title><AppId><![CDATA[wx1f1f1f1f1f1f1f1f]]></AppId>
    <PagePath><![CDATA[pages/index/index?id=1]]></PagePath><ThumbUrl><![CDATA[https://mmbiz.qpic.cn/x]]></ThumbUrl>
    <ThumbMediaId><![CDATA[thumb_id]]></ThumbMediaId></xml>"""
    msg = parse_message(parse_xml(body))
    assert isinstance(msg, MiniProgramPageMessage)
    assert (msg.title, msg.app_id, msg.page_path, msg.thumb_url, msg.thumb_media_id, msg.msg_id) == (
        "Title", "wx1f1f1f1f1f1f1f1f", "pages/index/index?id=1", "https://mmbiz.qpic.cn/x", "thumb_id",
        1234567890123456)


def card_bot() -> tuple[Bot, list[str]]:
    seen: list[str] = []
    bot = Bot(token=TOKEN, appid=APPID, aes_key=AES_KEY, allow_plaintext=True)

    @bot.on_event(EventType.USER_GET_CARD)
    def got_card(event: CardEvent) -> str:
        seen.append(event.card_id or "")
        return f"card {event.card_id}"

    @bot.on_miniprogrampage
    def card(msg: MiniProgramPageMessage) -> str:
        return f"page {msg.page_path}"

    @bot.on_message
    def anything_else(msg: Message) -> str:
        return "unexpected: " + msg.msg_type

    return bot, seen


@pytest.mark.parametrize("safe", [False, True])
async def test_a_padded_user_get_card_reaches_on_event_over_http(safe: bool) -> None:
    bot, seen = card_bot()
    with serve(bot) as url:
        async with BotClient(url, token=TOKEN, appid=APPID, aes_key=AES_KEY if safe else None) as wechat, \
                httpx.AsyncClient() as http:
            if safe:
                envelope = Envelope(decode_aes_key(AES_KEY), APPID)
                encrypted, body = seal_request(envelope, "gh_fc0a06a20993", USER_GET_CARD)
                response = await http.post(url, params=wechat.signed_query(encrypted), content=body)
            else:
                response = await http.post(url, params=wechat.signed_query(), content=USER_GET_CARD)
            reply = wechat.read_reply(response)
            page = await wechat.post(wechat.message("miniprogrampage", PagePath="pages/a", Title="t"))
    assert reply.content == "card pZI8Fjwsy5fVPRBeD78J4RmqVvBc" and reply.encrypted is safe
    assert seen == ["pZI8Fjwsy5fVPRBeD78J4RmqVvBc"]
    assert page.content == "page pages/a"


async def test_an_event_spelled_in_another_case_reaches_its_handler_over_http() -> None:
    """As wechatpy's and Senparc's test payloads spell them: ``Event`` and ``scan``."""
    bot = Bot(token=TOKEN, appid=APPID, allow_plaintext=True)

    @bot.on_event(EventType.SCAN)
    def scanned(event: ScanEvent) -> str:
        return f"{event.event} {event.scene} ({event.raw['Event']})"

    with serve(bot) as url:
        async with BotClient(url, token=TOKEN, appid=APPID) as wechat:
            reply = await wechat.post({**wechat.message("Event"), "Event": "scan", "EventKey": "42", "Ticket": "t"})
    assert reply.content == "SCAN 42 (scan)"


def test_the_name_constants_match_what_is_parsed() -> None:
    assert set(typing.get_args(EventName)) == EVENT_NAMES
    constants = {v for k, v in vars(EventType).items() if k.isupper()}
    assert constants <= EVENT_NAMES and len(constants) >= 25
    assert {v for k, v in vars(QRActionName).items() if k.isupper()} == set(typing.get_args(QRAction))
    assert {v for k, v in vars(SubscribeScene).items() if k.isupper()} == set(typing.get_args(SubscribeSceneName))


def test_mypy_catches_a_misspelt_event_name(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    script = tmp_path / "typo.py"
    script.write_text(textwrap.dedent("""
        from wxhook import Bot, EventType
        bot = Bot(token="t")

        @bot.on_event(EventType.SUBSCRIBED)
        def welcome(event: object) -> str:
            return "hi"
    """))
    out, _, status = api.run([str(script), "--strict", "--no-incremental", "--follow-imports=silent"])
    assert status == 1 and 'has no attribute "SUBSCRIBED"' in out
