"""Permanent material (永久素材): images, voice, video and thumbs kept until deleted, within account limits."""

from __future__ import annotations

import builtins
import json
import os
from dataclasses import dataclass, field
from typing import Any, Literal

from ._articles import BatchPage, NewsItem, batch_body, batch_page, news_items
from ._caller import Group, build
from ._data import WeChatData
from ._media import MEDIA_TYPES, MediaType, check_media_type, default_name, read_upload

__all__ = ["MaterialCount", "MaterialItem", "MaterialVideo", "UploadedMaterial"]

ListType = Literal["image", "video", "voice", "news"]
_LIST_TYPES = ("image", "video", "voice", "news")


class UploadedMaterial(str):
    """The media_id of a new permanent material, usable wherever a media_id string goes, with its ``type``,
    the ``url`` WeChat gives images (empty for other types) and WeChat's whole answer in ``raw``."""

    type: str
    url: str
    raw: dict[str, Any]

    def __new__(cls, media_id: str, type: str, url: str = "", raw: dict[str, Any] | None = None) -> UploadedMaterial:
        self = super().__new__(cls, media_id)
        self.type = type
        self.url = url
        self.raw = raw if raw is not None else {}
        return self

    @property
    def media_id(self) -> str:
        return str(self)


@dataclass(frozen=True)
class MaterialVideo(WeChatData):
    """A video material: WeChat answers with its details and a download URL instead of the bytes."""

    title: str = ""
    description: str = ""
    down_url: str = ""


@dataclass(frozen=True)
class MaterialCount(WeChatData):
    voice_count: int = 0
    video_count: int = 0
    image_count: int = 0
    news_count: int = 0


@dataclass(frozen=True)
class MaterialItem(WeChatData):
    """One entry of :meth:`MaterialAPI.list`: ``name`` and ``url`` for media, ``articles`` for news."""

    media_id: str
    name: str = ""
    update_time: int = 0
    url: str = ""
    articles: list[NewsItem] = field(default_factory=list)


def _item(data: dict[str, Any]) -> MaterialItem:
    return build(MaterialItem, data, articles=news_items(data.get("content") or {}))


class MaterialAPI(Group):
    async def add(
        self,
        media_type: MediaType,
        file: str | os.PathLike[str] | bytes,
        *,
        filename: str | None = None,
        title: str | None = None,
        introduction: str | None = None,
    ) -> UploadedMaterial:
        """Upload a permanent image, voice, video or thumb from a path or bytes.

        A video needs ``title`` and ``introduction``. Not retried blindly: a repeat after a lost answer
        would store a second copy, and the library is capped (100,000 images, 1,000 of each other type).
        """
        check_media_type(media_type, MEDIA_TYPES)
        form: dict[str, str] | None = None
        if media_type == "video":
            if not title or not introduction:
                raise ValueError("a video material needs title= and introduction=")
            form = {"description": json.dumps({"title": title, "introduction": introduction}, ensure_ascii=False)}
        elif title is not None or introduction is not None:
            raise ValueError(f"title= and introduction= describe videos only, not {media_type!r} material")
        media = await read_upload(file, filename, default_name(media_type))
        data = await self._caller.upload(
            "/cgi-bin/material/add_material", {"media": media}, params={"type": media_type}, form=form, safe=False
        )
        return UploadedMaterial(str(data["media_id"]), media_type, str(data.get("url", "")), data)

    async def get(self, media_id: str) -> bytes | MaterialVideo | builtins.list[NewsItem]:
        """The bytes of an image, voice or thumb; a :class:`MaterialVideo` for a video; the articles of a
        news material."""
        answer = await self._caller.call("POST", "/cgi-bin/material/get_material", body={"media_id": media_id})
        if answer.data is None:
            return answer.content
        if "news_item" in answer.data:
            return news_items(answer.data)
        return build(MaterialVideo, answer.data)

    async def delete(self, media_id: str) -> None:
        await self._caller.post("/cgi-bin/material/del_material", {"media_id": media_id})

    async def count(self) -> MaterialCount:
        return build(MaterialCount, await self._caller.get("/cgi-bin/material/get_materialcount"))

    async def list(self, media_type: ListType, offset: int = 0, count: int = 20) -> BatchPage[MaterialItem]:
        """One page of the material of one type, newest first."""
        check_media_type(media_type, _LIST_TYPES)
        body = batch_body(offset, count, type=media_type)
        return batch_page(await self._caller.post("/cgi-bin/material/batchget_material", body), _item)
