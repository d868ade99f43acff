"""Temporary media (kept 3 days by WeChat): upload for replies and sends, download what followers sent, and
the ids a mass send of a video or of articles takes."""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from ..custom_messages import drop_none
from ._caller import Group
from ._draft import MAX_ARTICLES, ArticleInput, DraftArticle, article_body

__all__ = ["UploadedMedia"]

MediaType = Literal["image", "voice", "video", "thumb"]
MEDIA_TYPES = ("image", "voice", "video", "thumb")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
UPLOAD_IMAGE_MAX = 1 << 20


def check_media_type(media_type: str, allowed: tuple[str, ...]) -> None:
    """Refuse a type WeChat does not take, before anything is uploaded or listed."""
    if media_type not in allowed:
        raise ValueError(f"media_type must be one of {', '.join(allowed)}, got {media_type!r}")


class UploadedMedia(str):
    """The media_id WeChat assigned, usable wherever a media_id string goes (``Image(await upload(...))``),
    with the upload's ``type``, ``created_at`` and WeChat's whole answer in ``raw`` attached."""

    type: str
    created_at: int
    raw: dict[str, Any]

    def __new__(
        cls, media_id: str, type: str, created_at: int = 0, raw: dict[str, Any] | None = None
    ) -> UploadedMedia:
        self = super().__new__(cls, media_id)
        self.type = type
        self.created_at = created_at
        self.raw = raw if raw is not None else {}
        return self

    @property
    def media_id(self) -> str:
        return str(self)


async def read_upload(
    file: str | os.PathLike[str] | bytes, filename: str | None, default_name: str
) -> tuple[str, bytes, str]:
    """``(name, content, mime)`` for the multipart ``media`` field, from a path or bytes.

    WeChat tells formats apart by the file name's extension, so bytes need ``filename`` (or the default).
    """
    if isinstance(file, bytes):
        content, name = file, filename or default_name
    else:
        content, name = await asyncio.to_thread(Path(file).read_bytes), filename or Path(file).name
    return name, content, mimetypes.guess_type(name)[0] or "application/octet-stream"


def default_name(media_type: str) -> str:
    return f"upload.{'jpg' if media_type in ('image', 'thumb') else 'bin'}"


def _uploaded(data: Mapping[str, Any], media_type: str) -> UploadedMedia:
    """WeChat's answer to an upload: the id (``thumb_media_id`` for a thumb), its type and time."""
    media_id = data.get("media_id") or data.get("thumb_media_id") or ""
    return UploadedMedia(str(media_id), str(data.get("type", media_type)), int(data.get("created_at", 0)), dict(data))


def _news_article(article: ArticleInput) -> dict[str, Any]:
    if isinstance(article, DraftArticle) and article.article_type != "news":
        raise ValueError("upload_news takes articles (article_type='news'); an image post goes through client.draft")
    body = article_body(article)
    if not body.get("thumb_media_id"):
        raise ValueError("each article of upload_news needs thumb_media_id (an image's media_id: media.upload)")
    return body


class MediaAPI(Group):
    async def upload(
        self, media_type: MediaType, file: str | os.PathLike[str] | bytes, *, filename: str | None = None
    ) -> UploadedMedia:
        """Upload from a path or bytes; ``filename`` (for bytes) tells WeChat the format, e.g. ``"a.jpg"``."""
        check_media_type(media_type, MEDIA_TYPES)
        media = await read_upload(file, filename, default_name(media_type))
        answer = await self._caller.call(
            "POST", "/cgi-bin/media/upload", params={"type": media_type}, files={"media": media}
        )
        return _uploaded(answer.data or {}, media_type)

    async def upload_video(
        self, media_id: str, title: str | None = None, description: str | None = None
    ) -> UploadedMedia:
        """The id a mass send of a video takes (``MassVideo(uploaded)``), made from a video's media_id (temporary,
        ``upload("video", …)``, or permanent, ``client.material.add("video", …)``); ``title`` and ``description``
        show on the sent message. The mass-send API documents this id, not the video's own, for ``mpvideo``."""
        if not media_id:
            raise ValueError("upload_video needs the media_id of an uploaded video")
        body = {"media_id": media_id, **drop_none(title=title, description=description)}
        return _uploaded(await self._caller.post("/cgi-bin/media/uploadvideo", body), "video")

    async def upload_news(self, articles: Sequence[ArticleInput]) -> UploadedMedia:
        """1–8 articles as one mass-sendable item (``MassNews(uploaded)``), kept 3 days: the older way to mass-send
        articles without the draft box. Each needs ``thumb_media_id`` (an image's media_id); images inside
        ``content`` must be URLs from :meth:`upload_image`."""
        if not 1 <= len(articles) <= MAX_ARTICLES:
            raise ValueError(f"upload_news takes 1..{MAX_ARTICLES} articles, got {len(articles)}")
        body = {"articles": [_news_article(article) for article in articles]}
        return _uploaded(await self._caller.post("/cgi-bin/media/uploadnews", body), "news")

    async def upload_image(self, file: str | os.PathLike[str] | bytes, *, filename: str | None = None) -> str:
        """Upload an image for use inside article content (drafts, mass-sent news); returns its URL.

        Only JPG/PNG up to 1 MB: checked here, since WeChat's refusal would come after the whole upload.
        These images do not count against the permanent-material limit.
        """
        name, content, mime = await read_upload(file, filename, "upload.jpg")
        if Path(name).suffix.lower() not in _IMAGE_SUFFIXES:
            raise ValueError(f"upload_image takes a .jpg or .png file, got {name!r}; pass filename= for bytes")
        if len(content) > UPLOAD_IMAGE_MAX:
            raise ValueError(f"upload_image takes at most 1 MB, got {len(content)} bytes; compress the image")
        data = await self._caller.upload("/cgi-bin/media/uploadimg", {"media": (name, content, mime)})
        return str(data["url"])

    async def get(self, media_id: str) -> bytes:
        """The media's bytes. For a video WeChat answers with a download URL, which is fetched in turn."""
        answer = await self._caller.call("GET", "/cgi-bin/media/get", params={"media_id": media_id})
        video_url = answer.data.get("video_url") if answer.data else None
        if not video_url:
            return answer.content
        download = await self._caller.call("GET", "", with_token=False, base=str(video_url))
        return download.content
