from __future__ import annotations

import pytest

from wxhook.api import Client, WeChatAPIError, WeChatNetworkError
from wxhook.testing import FakeWeChat

from .conftest import raw_call, sent

MSG = 2_247_483_647


async def test_list_elect_reply_delete(fake: FakeWeChat, client: Client) -> None:
    first = fake.add_comment(MSG, "o1", "写得好")
    second = fake.add_comment(MSG, "o2", "请问在哪买")
    fake.add_comment(MSG, "o3", "second article", index=1)
    page = await client.comment.list(MSG)
    assert sent(fake, "/cgi-bin/comment/list") == {"msg_data_id": MSG, "index": 0, "begin": 0, "count": 50, "type": 0}
    assert page.total == 2 and page.raw["total"] == 2
    comment = page.comments[0]
    assert (comment.user_comment_id, comment.openid, comment.content, comment.comment_type) == (
        first,
        "o1",
        "写得好",
        0,
    )
    assert comment.create_time > 1_700_000_000 and comment.reply is None

    await client.comment.mark_elect(MSG, 0, second)
    assert sent(fake, "/cgi-bin/comment/markelect") == {"msg_data_id": MSG, "index": 0, "user_comment_id": second}
    elected = await client.comment.list(MSG, 0, type=2)
    assert [c.user_comment_id for c in elected.comments] == [second] and elected.comments[0].comment_type == 1
    assert [c.user_comment_id for c in (await client.comment.list(MSG, 0, type=1)).comments] == [first]
    await client.comment.unmark_elect(MSG, 0, second)
    assert sent(fake, "/cgi-bin/comment/unmarkelect") == {"msg_data_id": MSG, "index": 0, "user_comment_id": second}
    assert (await client.comment.list(MSG, 0, type=2)).comments == []

    await client.comment.reply(MSG, 0, second, "在小程序里")
    assert sent(fake, "/cgi-bin/comment/reply/add") == {
        "msg_data_id": MSG,
        "index": 0,
        "user_comment_id": second,
        "content": "在小程序里",
    }
    replied = (await client.comment.list(MSG, 0, begin=1, count=1)).comments
    assert sent(fake, "/cgi-bin/comment/list")["begin"] == 1 and len(replied) == 1
    assert replied[0].reply is not None and replied[0].reply["content"] == "在小程序里"
    with pytest.raises(WeChatAPIError) as caught:
        await client.comment.reply(MSG, 0, second, "again")
    assert caught.value.errcode == 88005
    await client.comment.delete_reply(MSG, 0, second)
    assert sent(fake, "/cgi-bin/comment/reply/delete") == {"msg_data_id": MSG, "index": 0, "user_comment_id": second}
    assert (await client.comment.list(MSG)).comments[1].reply is None

    await client.comment.delete(MSG, 0, first)
    assert sent(fake, "/cgi-bin/comment/delete") == {"msg_data_id": MSG, "index": 0, "user_comment_id": first}
    assert [c.user_comment_id for c in (await client.comment.list(MSG)).comments] == [second]
    assert [c.content for c in (await client.comment.list(MSG, 1)).comments] == ["second article"]
    with pytest.raises(WeChatAPIError) as caught:
        await client.comment.delete(MSG, 0, first)
    assert caught.value.errcode == 88008


async def test_open_and_close(fake: FakeWeChat, client: Client) -> None:
    fake.add_comment(MSG, "o1", "first")
    await client.comment.close(MSG, 0)
    assert sent(fake, "/cgi-bin/comment/close") == {"msg_data_id": MSG, "index": 0}
    with pytest.raises(ValueError, match="closed"):
        fake.add_comment(MSG, "o2", "too late")
    await client.comment.open(MSG)
    assert sent(fake, "/cgi-bin/comment/open") == {"msg_data_id": MSG, "index": 0}
    fake.add_comment(MSG, "o2", "welcome back")
    with pytest.raises(WeChatAPIError) as caught:
        await client.comment.open(404)
    assert caught.value.errcode == 88001


async def test_reply_is_not_retried_blindly(fake: FakeWeChat, client: Client) -> None:
    comment = fake.add_comment(MSG, "o1", "hi")
    fake.fail("/cgi-bin/comment/reply/add", status=503)
    with pytest.raises(WeChatNetworkError):
        await client.comment.reply(MSG, 0, comment, "hello")
    assert fake.count("/cgi-bin/comment/reply/add") == 1
    fake.fail("/cgi-bin/comment/markelect", status=503)
    await client.comment.mark_elect(MSG, 0, comment)
    assert fake.count("/cgi-bin/comment/markelect") == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"count": 51}, r"count must be 1\.\.50"),
        ({"count": 0}, "count"),
        ({"begin": -1}, "begin"),
        ({"type": 3}, "type"),
    ],
)
async def test_list_checked_before_sending(
    fake: FakeWeChat, client: Client, options: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.comment.list(MSG, 0, **options)  # type: ignore[arg-type]
    assert fake.count("/cgi-bin/comment/list") == 0


async def test_fake_enforces_limits(fake: FakeWeChat, client: Client) -> None:
    comment = fake.add_comment(MSG, "o1", "hi")
    body = {"msg_data_id": MSG, "index": 0, "begin": 0, "count": 51, "type": 0}
    assert (await raw_call(fake, client, "POST", "/cgi-bin/comment/list", body))["errcode"] == 88010
    reply = {"msg_data_id": MSG, "index": 0, "user_comment_id": comment, "content": ""}
    assert (await raw_call(fake, client, "POST", "/cgi-bin/comment/reply/add", reply))["errcode"] == 88007
    with pytest.raises(ValueError, match="content"):
        await client.comment.reply(MSG, 0, comment, "")
