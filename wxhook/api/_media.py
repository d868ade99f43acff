"""Temporary media (kept 3 days by WeChat): upload for replies and sends, download what followers sent."""

from __future__ import annotations

import asyncio
import mimetypes
import os
from pathlib import Path
from typing import Any, Literal

from ._caller import Group

MediaType = Literal["image", "voice", "video", "thumb"]
_TYPES = ("image", "voice", "video", "thumb")


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


async def upload_part(
    file: str | os.PathLike[str] | bytes, filename: str | None, fallback: str
) -> tuple[str, bytes, str]:
    """A multipart file from a path or bytes: the name (which tells WeChat the format), content and MIME type."""
    if isinstance(file, bytes):
        content, name = file, filename or fallback
    else:
        content, name = await asyncio.to_thread(Path(file).read_bytes), filename or Path(file).name
    return name, content, mimetypes.guess_type(name)[0] or "application/octet-stream"


class MediaAPI(Group):
    async def upload(
        self, media_type: MediaType, file: str | os.PathLike[str] | bytes, *, filename: str | None = None
    ) -> UploadedMedia:
        """Upload from a path or bytes; ``filename`` (for bytes) tells WeChat the format, e.g. ``"a.jpg"``."""
        if media_type not in _TYPES:
            raise ValueError(f"media_type must be one of {', '.join(_TYPES)}, got {media_type!r}")
        fallback = f"upload.{'jpg' if media_type in ('image', 'thumb') else 'bin'}"
        answer = await self._caller.call(
            "POST",
            "/cgi-bin/media/upload",
            params={"type": media_type},
            files={"media": await upload_part(file, filename, fallback)},
        )
        data = answer.data or {}
        media_id = data.get("media_id") or data.get("thumb_media_id") or ""
        return UploadedMedia(
            str(media_id), str(data.get("type", media_type)), int(data.get("created_at", 0)), data
        )

    async def get(self, media_id: str) -> bytes:
        """The media's bytes. For a video WeChat answers with a download URL, which is fetched in turn."""
        answer = await self._caller.call("GET", "/cgi-bin/media/get", params={"media_id": media_id})
        video_url = (answer.data or {}).get("video_url")
        if not video_url:
            return answer.content
        download = await self._caller.call("GET", "", with_token=False, base=str(video_url))
        return download.content
