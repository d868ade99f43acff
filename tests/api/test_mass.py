from __future__ import annotations

import pytest

from wxhook.api import (
    Client,
    DraftArticle,
    DuplicateSendError,
    MassCard,
    MassImage,
    MassNews,
    MassSendResult,
    MassSpeed,
    MassStatus,
    MassText,
    MassVideo,
    MassVoice,
    UploadedMedia,
    WeChatAPIError,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from .conftest import FAST, raw_call, sent

SENDALL = "/cgi-bin/message/mass/sendall"
SEND = "/cgi-bin/message/mass/send"
PREVIEW = "/cgi-bin/message/mass/preview"
OPENIDS = ["o1", "o2", "o3"]


async def news(client: Client, *titles: str) -> str:
    thumb = await client.material.add("thumb", b"\xff\xd8jpeg", filename="t.jpg")
    return await client.draft.add([DraftArticle(title, "<p>body</p>", thumb) for title in titles])


async def test_send_to_all_text(fake: FakeWeChat, client: Client) -> None:
    result = await client.mass.send_to_all(MassText("你好，大家"))
    assert sent(fake, SENDALL) == {"filter": {"is_to_all": True}, "msgtype": "text", "text": {"content": "你好，大家"}}
    assert isinstance(result, MassSendResult)
    assert (result.msg_id, result.msg_data_id, result.raw["msg_id"]) == (result.raw["msg_id"], None, result.msg_id)
    assert result.raw["errmsg"] == "send job submission success"


async def test_send_to_tag_news(fake: FakeWeChat, client: Client) -> None:
    tag = await client.tags.create("VIP")
    media_id = await news(client, "One", "Two")
    result = await client.mass.send_to_tag(tag.id, MassNews(media_id), send_ignore_reprint=True, clientmsgid="n-1")
    assert sent(fake, SENDALL) == {
        "filter": {"is_to_all": False, "tag_id": tag.id},
        "msgtype": "mpnews",
        "mpnews": {"media_id": media_id},
        "send_ignore_reprint": 1,
        "clientmsgid": "n-1",
    }
    assert isinstance(result.msg_id, int) and isinstance(result.msg_data_id, int)
    assert await client.draft.count() == 0  # a mass-sent draft leaves the draft box


async def test_send_by_openid_every_type(fake: FakeWeChat, client: Client) -> None:
    image = await client.material.add("image", b"png", filename="a.png")
    image2 = await client.material.add("image", b"png", filename="b.png")
    voice = await client.material.add("voice", b"amr", filename="v.amr")
    material = await client.material.add("video", b"mp4", filename="v.mp4", title="t", introduction="i")
    video = await client.media.upload_video(material, "Clip", "New")
    contents = [
        (MassVoice(voice), "voice", "voice", {"media_id": voice}),
        (MassImage(image), "image", "image", {"media_id": image}),
        (
            MassImage([image, image2], recommend="看图", need_open_comment=True),
            "image",
            "images",
            {"media_ids": [image, image2], "recommend": "看图", "need_open_comment": 1, "only_fans_can_comment": 0},
        ),
        (MassVideo(video, title="Clip", description="New"), "mpvideo", "mpvideo",
         {"media_id": video, "title": "Clip", "description": "New"}),
        (MassVideo(video), "mpvideo", "mpvideo", {"media_id": video}),
        (MassCard("card-1"), "wxcard", "wxcard", {"card_id": "card-1"}),
    ]  # fmt: skip
    for content, msgtype, key, payload in contents:
        result = await client.mass.send(OPENIDS, content)
        assert sent(fake, SEND) == {"touser": OPENIDS, "msgtype": msgtype, key: payload}
        assert result.msg_id and result.msg_data_id is None


async def test_preview_by_openid_or_wxname(fake: FakeWeChat, client: Client) -> None:
    media_id = await news(client, "Draft")
    result = await client.mass.preview(MassNews(media_id), openid="o1")
    assert sent(fake, PREVIEW) == {"touser": "o1", "msgtype": "mpnews", "mpnews": {"media_id": media_id}}
    assert result.msg_id > 0 and await client.draft.count() == 1  # a preview keeps the draft
    await client.mass.preview(MassText("hi"), wxname="wx-editor")
    assert sent(fake, PREVIEW) == {"towxname": "wx-editor", "msgtype": "text", "text": {"content": "hi"}}
    for targets in ({}, {"openid": "o1", "wxname": "w"}):
        with pytest.raises(ValueError, match="exactly one"):
            await client.mass.preview(MassText("hi"), **targets)


async def test_status_and_delete(fake: FakeWeChat, client: Client) -> None:
    result = await client.mass.send(OPENIDS, MassNews(await news(client, "A", "B")))
    status = await client.mass.status(result.msg_id)
    assert sent(fake, "/cgi-bin/message/mass/get") == {"msg_id": result.msg_id}
    assert isinstance(status, MassStatus) and (status.msg_id, status.msg_status) == (result.msg_id, "SEND_SUCCESS")
    await client.mass.delete(result.msg_id, 2, url="https://mp.weixin.qq.com/s/x")
    assert sent(fake, "/cgi-bin/message/mass/delete") == {
        "msg_id": result.msg_id,
        "article_idx": 2,
        "url": "https://mp.weixin.qq.com/s/x",
    }
    assert (await client.mass.status(result.msg_id)).msg_status == "SEND_SUCCESS"
    await client.mass.delete(result.msg_id)
    assert sent(fake, "/cgi-bin/message/mass/delete") == {"msg_id": result.msg_id, "article_idx": 0}
    assert (await client.mass.status(result.msg_id)).msg_status == "DELETE"
    text = await client.mass.send(OPENIDS, MassText("cannot be withdrawn"))
    with pytest.raises(WeChatAPIError) as caught:
        await client.mass.delete(text.msg_id)
    assert caught.value.errcode == 40097
    with pytest.raises(ValueError, match="article_idx"):
        await client.mass.delete(text.msg_id, -1)


async def test_speed(fake: FakeWeChat, client: Client) -> None:
    speed = await client.mass.speed()
    assert isinstance(speed, MassSpeed) and (speed.speed, speed.realspeed) == (0, 80)
    assert fake.calls("/cgi-bin/message/mass/speed/get")[0].method == "POST"
    await client.mass.set_speed(3)
    assert sent(fake, "/cgi-bin/message/mass/speed/set") == {"speed": 3}
    assert (await client.mass.speed()).realspeed == 30
    for bad in (-1, 5):
        with pytest.raises(ValueError, match="speed"):
            await client.mass.set_speed(bad)


async def test_duplicate_clientmsgid_is_refused_for_24_hours(fake: FakeWeChat, client: Client) -> None:
    first = await client.mass.send_to_all(MassText("once"), clientmsgid="promo-2026-11")
    with pytest.raises(DuplicateSendError) as caught:
        await client.mass.send_to_all(MassText("once"), clientmsgid="promo-2026-11")
    error = caught.value
    assert (error.errcode, error.transient, error.path) == (45065, False, SENDALL)
    assert "already accepted" in str(error) and isinstance(error, WeChatAPIError)
    assert fake.count(SENDALL) == 2 and len(fake.state.mass_sends) == 1
    fake.advance(24 * 3600 + 1)
    assert (await client.mass.send_to_all(MassText("again"), clientmsgid="promo-2026-11")).msg_id != first.msg_id


async def test_send_retried_only_with_clientmsgid(fake: FakeWeChat, client: Client) -> None:
    fake.fail(SEND, status=500)
    with pytest.raises(WeChatNetworkError):
        await client.mass.send(OPENIDS, MassText("hi"))
    assert fake.count(SEND) == 1
    fake.fail(SEND, status=502)
    result = await client.mass.send(OPENIDS, MassText("hi"), clientmsgid="hi-1")
    assert [c.json.get("clientmsgid") for c in fake.calls(SEND)] == [None, "hi-1", "hi-1"]
    assert fake.state.mass_sends.keys() == {result.msg_id}


async def test_slow_send_times_out_without_a_repeat(fake: FakeWeChat) -> None:
    fake.fail(PREVIEW, delay=0.3)
    async with fake.client(**{**FAST, "timeout": 0.1}) as client:
        with pytest.raises(WeChatNetworkError):
            await client.mass.preview(MassText("hi"), openid="o1")
    assert fake.count(PREVIEW) == 1


async def test_client_side_limits(fake: FakeWeChat, client: Client) -> None:
    for openids in (["o1"], [f"o{i}" for i in range(10_001)]):
        with pytest.raises(ValueError, match=r"2\.\.10,000"):
            await client.mass.send(openids, MassText("hi"))
    with pytest.raises(ValueError, match="64 bytes"):
        await client.mass.send_to_all(MassText("hi"), clientmsgid="字" * 22)
    with pytest.raises(ValueError, match="64 bytes"):
        await client.mass.send_to_all(MassText("hi"), clientmsgid="")
    with pytest.raises(ValueError, match=r"\(MassNews\) only"):
        await client.mass.send_to_all(MassText("hi"), send_ignore_reprint=True)
    with pytest.raises(ValueError, match="media_id"):
        MassImage([])
    assert fake.calls() == []
    await client.mass.send_to_all(MassText("hi"), clientmsgid="x" * 64)


async def test_fake_validates_like_wechat(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await client.mass.send_to_all(MassImage("no-such-media"))
    assert caught.value.errcode == 40007
    with pytest.raises(WeChatAPIError) as caught:
        await client.mass.send_to_all(MassNews("no-such-draft"))
    assert caught.value.errcode == 40007
    with pytest.raises(WeChatAPIError) as caught:
        await client.mass.send_to_tag(999, MassText("hi"))
    assert caught.value.errcode == 45159
    with pytest.raises(WeChatAPIError) as caught:
        await client.mass.send_to_all(MassText(""))
    assert caught.value.errcode == 44004
    one = {"touser": ["o1"], "msgtype": "text", "text": {"content": "hi"}}
    assert (await raw_call(fake, client, "POST", SEND, one))["errcode"] == 40130
    odd = {"filter": {"is_to_all": True}, "msgtype": "news", "news": {}}
    assert (await raw_call(fake, client, "POST", SENDALL, odd))["errcode"] == 40008
    assert fake.state.mass_sends == {}


async def test_upload_video_makes_the_id_a_video_mass_send_takes(fake: FakeWeChat, client: Client) -> None:
    temporary = await client.media.upload("video", b"mp4", filename="clip.mp4")
    uploaded = await client.media.upload_video(temporary, title="开业", description="门店开业视频")
    assert sent(fake, "/cgi-bin/media/uploadvideo") == {
        "media_id": temporary, "title": "开业", "description": "门店开业视频"}
    assert isinstance(uploaded, UploadedMedia) and uploaded.type == "video" and uploaded != temporary
    assert uploaded.created_at > 0 and uploaded.raw["media_id"] == uploaded
    assert (await client.mass.send(OPENIDS, MassVideo(uploaded))).msg_id
    await client.media.upload_video(temporary)
    assert sent(fake, "/cgi-bin/media/uploadvideo") == {"media_id": temporary}
    with pytest.raises(WeChatAPIError) as caught:
        await client.mass.send(OPENIDS, MassVideo(temporary))  # the video's own id: not what mpvideo takes
    assert caught.value.errcode == 40007
    image = await client.media.upload("image", b"jpg", filename="a.jpg")
    with pytest.raises(WeChatAPIError) as caught:
        await client.media.upload_video(image)
    assert caught.value.errcode == 40007
    with pytest.raises(ValueError, match="media_id"):
        await client.media.upload_video("")


async def test_upload_news_makes_articles_a_mass_send_takes_for_three_days(fake: FakeWeChat, client: Client) -> None:
    thumb = await client.media.upload("thumb", b"\xff\xd8jpeg", filename="t.jpg")
    articles = [DraftArticle("周报", "<p>本周</p>", thumb, author="编辑部"),
                {"title": "附录", "content": "<p>表</p>", "thumb_media_id": thumb, "show_cover_pic": 1}]
    uploaded = await client.media.upload_news(articles)
    assert sent(fake, "/cgi-bin/media/uploadnews") == {"articles": [
        {"title": "周报", "content": "<p>本周</p>", "thumb_media_id": thumb, "author": "编辑部",
         "need_open_comment": 0, "only_fans_can_comment": 0},
        {"title": "附录", "content": "<p>表</p>", "thumb_media_id": thumb, "show_cover_pic": 1}]}
    assert uploaded.type == "news" and uploaded.media_id == str(uploaded)
    first = await client.mass.send_to_all(MassNews(uploaded))
    assert first.msg_data_id is not None
    await client.mass.delete(first.msg_id, 2)  # both articles went out
    assert (await client.mass.preview(MassNews(uploaded), openid="o1")).msg_id  # still usable: not a draft
    fake.advance(3 * 24 * 3600)
    with pytest.raises(WeChatAPIError) as caught:
        await client.mass.send_to_all(MassNews(uploaded))
    assert caught.value.errcode == 40007


async def test_upload_news_checks_what_wechat_refuses(fake: FakeWeChat, client: Client) -> None:
    thumb = await client.media.upload("thumb", b"\xff\xd8jpeg", filename="t.jpg")
    article = DraftArticle("t", "c", thumb)
    for count in (0, 9):
        with pytest.raises(ValueError, match=r"1\.\.8 articles"):
            await client.media.upload_news([article] * count)
    with pytest.raises(ValueError, match="thumb_media_id"):
        await client.media.upload_news([{"title": "t", "content": "c"}])
    pic = DraftArticle("t", "c", article_type="newspic", image_info={"image_list": [{"image_media_id": "m"}]})
    with pytest.raises(ValueError, match="image post"):
        await client.media.upload_news([pic])
    assert not fake.calls("/cgi-bin/media/uploadnews")
    body = {"articles": [article.wire()] * 9}
    assert (await raw_call(fake, client, "POST", "/cgi-bin/media/uploadnews", body))["errcode"] == 45008
    body = {"articles": [{"title": "t", "content": "c", "thumb_media_id": "unknown"}]}
    assert (await raw_call(fake, client, "POST", "/cgi-bin/media/uploadnews", body))["errcode"] == 40007
