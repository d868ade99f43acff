from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from wxhook import Article, News, TransferCustomerService
from wxhook.api import Client, WeChatAPIError
from wxhook.testing import FakeWeChat

from .conftest import sent

SEND = "/cgi-bin/message/custom/send"

CASES: list[tuple[Callable[[Client], Awaitable[None]], str, dict[str, Any]]] = [
    (lambda c: c.message.send_text("o1", "报告已生成"), "text", {"content": "报告已生成"}),
    (lambda c: c.message.send_image("o1", "m1"), "image", {"media_id": "m1"}),
    (lambda c: c.message.send_voice("o1", "m2"), "voice", {"media_id": "m2"}),
    (
        lambda c: c.message.send_video("o1", "m3", thumb_media_id="t3", title="T"),
        "video",
        {"media_id": "m3", "thumb_media_id": "t3", "title": "T"},
    ),
    (
        lambda c: c.message.send_video("o1", "m3", description="视频简介"),
        "video",
        {"media_id": "m3", "description": "视频简介"},
    ),
    (
        lambda c: c.message.send_music("o1", "http://m", "http://hq", "t4", description="D"),
        "music",
        {"musicurl": "http://m", "hqmusicurl": "http://hq", "thumb_media_id": "t4", "description": "D"},
    ),
    (
        lambda c: c.message.send_music("o1", "http://m", "http://hq", "t4", title="歌名"),
        "music",
        {"title": "歌名", "musicurl": "http://m", "hqmusicurl": "http://hq", "thumb_media_id": "t4"},
    ),
    (
        lambda c: c.message.send_news("o1", [Article("标题", url="http://a", pic_url="http://p")]),
        "news",
        {"articles": [{"title": "标题", "description": "", "url": "http://a", "picurl": "http://p"}]},
    ),
    (lambda c: c.message.send_mpnews("o1", "m5"), "mpnews", {"media_id": "m5"}),
    (
        lambda c: c.message.send_reply("o1", News([Article("回复", "d", "http://r", "http://rp")])),
        "news",
        {"articles": [{"title": "回复", "description": "d", "url": "http://r", "picurl": "http://rp"}]},
    ),
    (
        lambda c: c.message.send_miniprogrampage("o1", "wxmini", "pages/i", "t6", title="Go"),
        "miniprogrampage",
        {"appid": "wxmini", "pagepath": "pages/i", "thumb_media_id": "t6", "title": "Go"},
    ),
    (
        lambda c: c.message.send_msgmenu("o1", [("101", "满意"), ("102", "不满意")], head_content="评价"),
        "msgmenu",
        {
            "head_content": "评价",
            "list": [{"id": "101", "content": "满意"}, {"id": "102", "content": "不满意"}],
            "tail_content": "",
        },
    ),
]


@pytest.mark.parametrize(("send", "msgtype", "payload"), CASES, ids=[c[1] for c in CASES])
async def test_typed_sends(
    fake: FakeWeChat, client: Client, send: Callable[[Client], Awaitable[None]], msgtype: str, payload: Any
) -> None:
    await send(client)
    assert sent(fake, SEND) == {"touser": "o1", "msgtype": msgtype, msgtype: payload}


async def test_generic_send_with_kf_account(fake: FakeWeChat, client: Client) -> None:
    await client.message.send("o1", "wxcard", {"card_id": "c1"}, kf_account="kf1@gh")
    assert sent(fake, SEND) == {
        "touser": "o1",
        "msgtype": "wxcard",
        "wxcard": {"card_id": "c1"},
        "customservice": {"kf_account": "kf1@gh"},
    }


async def test_fake_rejects_bad_payloads(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await client.message.send("o1", "telegram", {"content": "x"})
    assert caught.value.errcode == 40008
    with pytest.raises(WeChatAPIError) as caught:
        await client.message.send_text("o1", "")
    assert caught.value.errcode == 44004
    with pytest.raises(WeChatAPIError) as caught:
        await client.message.send_news("o1", [Article("a"), Article("b")])
    assert caught.value.errcode == 45008


async def test_typing(fake: FakeWeChat, client: Client) -> None:
    await client.message.typing("o1", True)
    await client.message.typing("o1", on=False)
    bodies = [c.json for c in fake.calls("/cgi-bin/message/custom/typing")]
    assert bodies == [{"touser": "o1", "command": "Typing"}, {"touser": "o1", "command": "CancelTyping"}]


async def test_a_reply_without_a_customer_service_form_is_refused_before_sending(
    fake: FakeWeChat, client: Client
) -> None:
    with pytest.raises(TypeError, match="passive reply"):
        await client.message.send_reply("o1", TransferCustomerService())
    assert fake.calls(SEND) == []
