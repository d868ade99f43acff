from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from wxhook.api import (
    Client,
    MaterialCount,
    MaterialItem,
    MaterialVideo,
    NewsItem,
    UploadedMaterial,
    WeChatAPIError,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from .conftest import sent

PNG = b"\x89PNG\r\n\x1a\n\x00image\r\n\xff"
ADD = "/cgi-bin/material/add_material"
UPLOADIMG = "/cgi-bin/media/uploadimg"


async def test_image_add_get(fake: FakeWeChat, client: Client) -> None:
    image = await client.material.add("image", PNG, filename="logo.png")
    (call,) = fake.calls(ADD)
    assert (call.method, call.query["type"]) == ("POST", "image")
    assert b'name="media"; filename="logo.png"' in call.body and b"image/png" in call.body
    assert b'name="description"' not in call.body
    assert isinstance(image, UploadedMaterial) and isinstance(image, str) and image == image.media_id
    assert (image.type, image.url, image.raw["media_id"]) == ("image", image.raw["url"], image.media_id)
    assert image.url.startswith("http://mmbiz.qpic.cn/")
    assert await client.material.get(image) == PNG
    assert sent(fake, "/cgi-bin/material/get_material") == {"media_id": image.media_id}


async def test_video_sends_description_and_reads_back(fake: FakeWeChat, client: Client, tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"mp4-bytes")
    video = await client.material.add("video", clip, title="开箱", introduction="新品开箱视频")
    body = fake.calls(ADD)[0].body
    assert b'filename="clip.mp4"' in body and video.url == ""
    description = body.split(b'name="description"\r\n\r\n', 1)[1].split(b"\r\n", 1)[0]
    assert json.loads(description) == {"title": "开箱", "introduction": "新品开箱视频"}
    info = await client.material.get(video)
    assert isinstance(info, MaterialVideo)
    assert (info.title, info.description) == ("开箱", "新品开箱视频")
    async with httpx.AsyncClient() as http:
        assert (await http.get(info.down_url)).content == b"mp4-bytes"


async def test_count_list_delete(fake: FakeWeChat, client: Client) -> None:
    first = await client.material.add("image", PNG, filename="a.png")
    second = await client.material.add("thumb", b"\xff\xd8jpeg", filename="b.jpg")
    voice = await client.material.add("voice", b"amr", filename="v.amr")
    await client.material.add("video", b"mp4", filename="c.mp4", title="t", introduction="i")
    count = await client.material.count()
    assert fake.calls("/cgi-bin/material/get_materialcount")[0].method == "GET"
    assert isinstance(count, MaterialCount)
    assert (count.image_count, count.voice_count, count.video_count, count.news_count) == (2, 1, 1, 0)

    page = await client.material.list("image", 0, 1)
    assert sent(fake, "/cgi-bin/material/batchget_material") == {"offset": 0, "count": 1, "type": "image"}
    assert (page.total_count, page.item_count) == (2, 1)
    (item,) = page.items
    assert isinstance(item, MaterialItem)
    assert (item.media_id, item.name, item.articles) == (second, "b.jpg", [])
    assert second.url == "" and item.url.startswith("http://mmbiz.qpic.cn/") and item.update_time > 0
    assert [i.media_id for i in (await client.material.list("image", offset=1)).items] == [first]
    assert [i.name for i in (await client.material.list("voice")).items] == ["v.amr"]

    await client.material.delete(voice)
    assert sent(fake, "/cgi-bin/material/del_material") == {"media_id": voice.media_id}
    assert (await client.material.count()).voice_count == 0
    with pytest.raises(WeChatAPIError) as caught:
        await client.material.get(voice)
    assert caught.value.errcode == 40007


async def test_legacy_news_material(fake: FakeWeChat, client: Client) -> None:
    """Accounts still hold news material from before drafts; get and list return its articles."""
    article = {
        "title": "Old",
        "content": "<p>old</p>",
        "thumb_media_id": "t",
        "url": "http://mp/s/1",
        "show_cover_pic": 1,
    }
    fake.state.materials["news-1"] = {
        "type": "news", "name": "", "url": "", "news_item": [article], "create_time": 1, "update_time": 2,
    }  # fmt: skip
    (got,) = await client.material.get("news-1")  # type: ignore[misc]
    assert isinstance(got, NewsItem) and (got.title, got.url, got.show_cover_pic) == ("Old", "http://mp/s/1", True)
    page = await client.material.list("news")
    assert (page.items[0].media_id, page.items[0].update_time, page.items[0].articles[0].title) == ("news-1", 2, "Old")
    assert (await client.material.count()).news_count == 1


async def test_add_checks_and_no_blind_retry(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(ValueError, match="title= and introduction="):
        await client.material.add("video", b"mp4", filename="c.mp4", title="only a title")
    with pytest.raises(ValueError, match="videos only"):
        await client.material.add("image", PNG, title="t")
    with pytest.raises(ValueError, match="media_type"):
        await client.material.add("news", PNG)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="media_type"):
        await client.material.list("thumb")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count"):
        await client.material.list("image", count=21)
    assert fake.calls(ADD) == []
    with pytest.raises(WeChatAPIError) as caught:
        await client.material.add("thumb", b"x" * (64 * 1024 + 1), filename="big.jpg")
    assert caught.value.errcode == 40006
    fake.fail(ADD, status=500)
    with pytest.raises(WeChatNetworkError):
        await client.material.add("image", PNG, filename="a.png")
    assert fake.count(ADD) == 2
    assert (await client.material.count()).image_count == 0


async def test_fake_requires_video_description(fake: FakeWeChat, client: Client) -> None:
    token = await client.access_token()
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{fake.url}{ADD}", params={"access_token": token, "type": "video"}, files={"media": ("c.mp4", b"mp4")}
        )
    assert answer.json()["errcode"] == 40097


async def test_upload_image_for_article_content(fake: FakeWeChat, client: Client, tmp_path: Path) -> None:
    url = await client.media.upload_image(PNG, filename="inline.png")
    (call,) = fake.calls(UPLOADIMG)
    assert call.method == "POST" and b'name="media"; filename="inline.png"' in call.body
    assert url.startswith("http://mmbiz.qpic.cn/mmbiz_png/")
    photo = tmp_path / "photo.JPG"
    photo.write_bytes(b"\xff\xd8jpeg")
    assert (await client.media.upload_image(photo)).startswith("http://mmbiz.qpic.cn/mmbiz_jpg/")
    with pytest.raises(ValueError, match=r"\.jpg or \.png"):
        await client.media.upload_image(b"GIF89a", filename="anim.gif")
    with pytest.raises(ValueError, match="1 MB"):
        await client.media.upload_image(b"x" * ((1 << 20) + 1), filename="big.png")
    assert fake.count(UPLOADIMG) == 2
    token = await client.access_token()
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            f"{fake.url}{UPLOADIMG}", params={"access_token": token}, files={"media": ("a.gif", b"GIF89a")}
        )
    assert answer.json()["errcode"] == 40005
