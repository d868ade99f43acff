from __future__ import annotations

from pathlib import Path

import pytest

from wxhook.api import Client, WeChatAPIError
from wxhook.testing import FakeWeChat

from .conftest import FAST, sent

IMAGE = b"\x89PNG\r\n\x1a\n\x00binary\r\n\xff"


async def test_upload_bytes_and_get(fake: FakeWeChat, client: Client) -> None:
    media = await client.media.upload("image", IMAGE, filename="chart.png")
    (call,) = fake.calls("/cgi-bin/media/upload")
    assert call.query["type"] == "image"
    assert b'name="media"; filename="chart.png"' in call.body and b"image/png" in call.body
    assert (media.type, len(media.media_id) > 0, media.created_at > 0) == ("image", True, True)
    assert media == media.media_id and isinstance(media, str)  # usable as the media_id itself
    assert await client.media.get(media.media_id) == IMAGE
    assert fake.calls("/cgi-bin/media/get")[0].query["media_id"] == media.media_id


async def test_upload_path_thumb_and_video(fake: FakeWeChat, client: Client, tmp_path: Path) -> None:
    thumb = tmp_path / "cover.jpg"
    thumb.write_bytes(b"\xff\xd8jpeg")
    uploaded = await client.media.upload("thumb", thumb)
    assert uploaded.media_id == uploaded.raw["thumb_media_id"]
    assert b'filename="cover.jpg"' in fake.calls("/cgi-bin/media/upload")[0].body
    video = await client.media.upload("video", b"mp4-bytes", filename="clip.mp4")
    assert await client.media.get(video.media_id) == b"mp4-bytes"
    assert fake.count("/fake/video") == 1


async def test_upload_limits(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await client.media.upload("thumb", b"x" * (64 * 1024 + 1), filename="big.jpg")
    assert caught.value.errcode == 40006
    with pytest.raises(ValueError, match="media_type"):
        await client.media.upload("gif", b"x")  # type: ignore[arg-type]
    with pytest.raises(WeChatAPIError) as caught:
        await client.media.get("missing")
    assert caught.value.errcode == 40007


async def test_tags_lifecycle(fake: FakeWeChat, client: Client) -> None:
    openids = [f"o{i:02}" for i in range(60)]
    fake.add_followers(openids)
    tag = await client.tags.create("广东")
    assert sent(fake, "/cgi-bin/tags/create") == {"tag": {"name": "广东"}}
    assert tag.name == "广东" and tag.id >= 100
    await client.tags.update(tag.id, "广州")
    assert sent(fake, "/cgi-bin/tags/update") == {"tag": {"id": tag.id, "name": "广州"}}
    await client.tags.tag_users(tag.id, openids)
    bodies = [c.json for c in fake.calls("/cgi-bin/tags/members/batchtagging")]
    assert [len(b["openid_list"]) for b in bodies] == [50, 10] and bodies[0]["tagid"] == tag.id
    (listed,) = await client.tags.list()
    assert (listed.id, listed.name, listed.count) == (tag.id, "广州", 60)
    assert await client.tags.of_user("o00") == [tag.id]
    assert sent(fake, "/cgi-bin/tags/getidlist") == {"openid": "o00"}
    assert (await client.user.info("o00")).tagid_list == [tag.id]
    await client.tags.untag_users(tag.id, ["o00"])
    assert sent(fake, "/cgi-bin/tags/members/batchuntagging") == {"openid_list": ["o00"], "tagid": tag.id}
    assert await client.tags.of_user("o00") == []
    await client.tags.delete(tag.id)
    assert sent(fake, "/cgi-bin/tags/delete") == {"tag": {"id": tag.id}}
    assert await client.tags.list() == []


async def test_tag_errors(fake: FakeWeChat, client: Client) -> None:
    await client.tags.create("dup")
    with pytest.raises(WeChatAPIError) as caught:
        await client.tags.create("dup")
    assert caught.value.errcode == 45157
    assert fake.count("/cgi-bin/tags/create") == 2
    with pytest.raises(ValueError, match=r"1\.\.30"):
        await client.tags.create("x" * 31)
    with pytest.raises(WeChatAPIError) as caught:
        await client.tags.delete(2)
    assert caught.value.errcode == 45058


async def test_tag_members_pages_and_iteration() -> None:
    async with FakeWeChat(page_size=2) as fake, fake.client(**FAST) as client:
        fake.add_followers(["a", "b", "c", "d", "e"])
        tag = await client.tags.create("members")
        await client.tags.tag_users(tag.id, ["e", "b", "d"])  # pages follow the follower order
        page = await client.tags.members(tag.id)
        assert sent(fake, "/cgi-bin/user/tag/get") == {"tagid": tag.id, "next_openid": ""}
        assert (page.count, page.openids, page.next_openid, page.total) == (2, ["b", "d"], "d", 0)
        last = await client.tags.members(tag.id, "d")
        assert sent(fake, "/cgi-bin/user/tag/get") == {"tagid": tag.id, "next_openid": "d"}
        assert (last.count, last.openids, last.next_openid) == (1, ["e"], "e")
        fake.reset_calls()
        assert [o async for o in client.tags.iter_members(tag.id)] == ["b", "d", "e"]
        assert [c.json["next_openid"] for c in fake.calls("/cgi-bin/user/tag/get")] == ["", "d", "e"]
        with pytest.raises(WeChatAPIError) as caught:
            await client.tags.members(999)
        assert caught.value.errcode == 45159
