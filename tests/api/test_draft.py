from __future__ import annotations

import pytest

from wxhook.api import BatchPage, Client, DraftArticle, DraftItem, NewsItem, WeChatAPIError, WeChatNetworkError
from wxhook.testing import FakeWeChat

from .conftest import raw_call, sent

PNG = b"\x89PNG\r\n\x1a\ncover"
ADD = "/cgi-bin/draft/add"


async def cover(client: Client) -> str:
    return (await client.material.add("image", PNG, filename="cover.png")).media_id


async def test_add_get_update_count_delete(fake: FakeWeChat, client: Client) -> None:
    thumb = await cover(client)
    first = DraftArticle(
        "标题一",
        "<p>正文</p>",
        thumb,
        author="作者",
        digest="摘要",
        content_source_url="https://example.com/1",
        need_open_comment=True,
        only_fans_can_comment=True,
    )
    second = {"title": "Two", "content": "<p>2</p>", "thumb_media_id": thumb}
    media_id = await client.draft.add([first, second])
    assert sent(fake, ADD) == {
        "articles": [
            {
                "title": "标题一",
                "content": "<p>正文</p>",
                "thumb_media_id": thumb,
                "author": "作者",
                "digest": "摘要",
                "content_source_url": "https://example.com/1",
                "need_open_comment": 1,
                "only_fans_can_comment": 1,
            },
            second,
        ]
    }
    one, two = await client.draft.get(media_id)
    assert sent(fake, "/cgi-bin/draft/get") == {"media_id": media_id}
    assert isinstance(one, NewsItem)
    assert (one.title, one.author, one.digest, one.content) == ("标题一", "作者", "摘要", "<p>正文</p>")
    assert (one.content_source_url, one.thumb_media_id, one.article_type) == ("https://example.com/1", thumb, "news")
    assert (one.need_open_comment, one.only_fans_can_comment) == (True, True)
    assert one.thumb_url.startswith("http://mmbiz.qpic.cn/") and one.url.startswith("http://mp.weixin.qq.com/s")
    assert (two.title, two.need_open_comment, two.raw["need_open_comment"]) == ("Two", False, 0)

    await client.draft.update(media_id, 1, DraftArticle("Two, revised", "<p>2b</p>", thumb))
    assert sent(fake, "/cgi-bin/draft/update") == {
        "media_id": media_id,
        "index": 1,
        "articles": {
            "title": "Two, revised",
            "content": "<p>2b</p>",
            "thumb_media_id": thumb,
            "need_open_comment": 0,
            "only_fans_can_comment": 0,
        },
    }
    assert [a.title for a in await client.draft.get(media_id)] == ["标题一", "Two, revised"]
    assert await client.draft.count() == 1
    assert fake.calls("/cgi-bin/draft/count")[0].method == "GET"
    await client.draft.delete(media_id)
    assert sent(fake, "/cgi-bin/draft/delete") == {"media_id": media_id}
    assert await client.draft.count() == 0
    with pytest.raises(WeChatAPIError) as caught:
        await client.draft.get(media_id)
    assert caught.value.errcode == 40007


async def test_newspic_article(fake: FakeWeChat, client: Client) -> None:
    image = await cover(client)
    info = {"image_list": [{"image_media_id": image}]}
    media_id = await client.draft.add([DraftArticle("Photos", "plain text", article_type="newspic", image_info=info)])
    (article,) = sent(fake, ADD)["articles"]
    assert article == {
        "title": "Photos",
        "content": "plain text",
        "need_open_comment": 0,
        "only_fans_can_comment": 0,
        "article_type": "newspic",
        "image_info": info,
    }
    (item,) = await client.draft.get(media_id)
    assert (item.article_type, item.image_info) == ("newspic", info)


async def test_list_pages_newest_first(fake: FakeWeChat, client: Client) -> None:
    thumb = await cover(client)
    ids = [await client.draft.add([DraftArticle(f"T{i}", f"body {i}", thumb)]) for i in range(3)]
    page = await client.draft.list(0, 2)
    assert sent(fake, "/cgi-bin/draft/batchget") == {"offset": 0, "count": 2, "no_content": 0}
    assert isinstance(page, BatchPage) and (page.total_count, page.item_count) == (3, 2)
    assert all(isinstance(item, DraftItem) for item in page.items)
    assert [item.media_id for item in page.items] == [ids[2], ids[1]]
    assert page.items[0].update_time > 0 and page.items[0].articles[0].content == "body 2"
    last = await client.draft.list(offset=2, no_content=True)
    assert sent(fake, "/cgi-bin/draft/batchget") == {"offset": 2, "count": 20, "no_content": 1}
    assert [item.media_id for item in last.items] == [ids[0]]
    assert (last.items[0].articles[0].title, last.items[0].articles[0].content) == ("T0", "")


def test_draft_article_checks() -> None:
    with pytest.raises(ValueError, match="thumb_media_id"):
        DraftArticle("t", "c")
    with pytest.raises(ValueError, match="image_info"):
        DraftArticle("t", "c", article_type="newspic")
    with pytest.raises(ValueError, match="title and content"):
        DraftArticle("", "c", "thumb")
    with pytest.raises(ValueError, match="article_type"):
        DraftArticle("t", "c", "thumb", article_type="video")  # type: ignore[arg-type]


async def test_client_side_limits(fake: FakeWeChat, client: Client) -> None:
    article = DraftArticle("t", "c", "thumb")
    with pytest.raises(ValueError, match=r"1\.\.8"):
        await client.draft.add([])
    with pytest.raises(ValueError, match=r"1\.\.8"):
        await client.draft.add([article] * 9)
    with pytest.raises(ValueError, match=r"count must be 1\.\.20"):
        await client.draft.list(count=21)
    with pytest.raises(ValueError, match="offset"):
        await client.draft.list(offset=-1)
    with pytest.raises(ValueError, match="index"):
        await client.draft.update("m", -1, article)
    assert fake.calls() == []


async def test_fake_validates_like_wechat(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await client.draft.add([DraftArticle("t", "c", "not-a-material")])
    assert caught.value.errcode == 40007
    with pytest.raises(WeChatAPIError) as caught:
        await client.draft.add([{"content": "no title", "thumb_media_id": await cover(client)}])
    assert caught.value.errcode == 44003
    thumb = await cover(client)
    nine = {"articles": [{"title": "t", "content": "c", "thumb_media_id": thumb}] * 9}
    assert (await raw_call(fake, client, "POST", ADD, nine))["errcode"] == 45008
    media_id = await client.draft.add([DraftArticle("t", "c", thumb)])
    with pytest.raises(WeChatAPIError) as caught:
        await client.draft.update(media_id, 1, DraftArticle("t", "c", thumb))
    assert caught.value.errcode == 40097
    assert (await raw_call(fake, client, "POST", "/cgi-bin/draft/batchget", {"offset": 0, "count": 21}))[
        "errcode"
    ] == 40097


async def test_add_is_not_retried_but_update_is(fake: FakeWeChat, client: Client) -> None:
    thumb = await cover(client)
    fake.fail(ADD, status=500)
    with pytest.raises(WeChatNetworkError):
        await client.draft.add([DraftArticle("t", "c", thumb)])
    assert fake.count(ADD) == 1 and await client.draft.count() == 0
    media_id = await client.draft.add([DraftArticle("t", "c", thumb)])
    fake.fail("/cgi-bin/draft/update", status=500)
    await client.draft.update(media_id, 0, DraftArticle("t2", "c", thumb))
    assert fake.count("/cgi-bin/draft/update") == 2
    assert (await client.draft.get(media_id))[0].title == "t2"
