"""The draft box: articles are written here, then published (``client.publish``) or mass-sent."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._articles import BatchPage, NewsItem, batch_body, batch_page, news_items
from ._caller import Group, build
from ._data import WeChatData

__all__ = ["DraftArticle", "DraftItem"]

MAX_ARTICLES = 8


@dataclass(frozen=True)
class DraftArticle:
    """One article to store as a draft.

    ``article_type="news"`` (the default) needs ``thumb_media_id``, a permanent image
    (``client.material.add("image", …)``); ``"newspic"`` (an image post) needs ``image_info`` instead:
    ``{"image_list": [{"image_media_id": …}, …]}``, and its ``content`` is plain text. Images inside
    ``content`` must be URLs from ``client.media.upload_image``: WeChat filters out any other image.
    """

    title: str
    content: str
    thumb_media_id: str | None = None
    author: str | None = None
    digest: str | None = None
    content_source_url: str | None = None
    need_open_comment: bool = False
    only_fans_can_comment: bool = False
    article_type: Literal["news", "newspic"] = "news"
    image_info: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.article_type not in ("news", "newspic"):
            raise ValueError(f"article_type must be 'news' or 'newspic', got {self.article_type!r}")
        if not self.title or not self.content:
            raise ValueError("a DraftArticle needs a non-empty title and content")
        if self.article_type == "news" and not self.thumb_media_id:
            raise ValueError("a news DraftArticle needs thumb_media_id (a permanent image's media_id)")
        if self.article_type == "newspic" and not (self.image_info or {}).get("image_list"):
            raise ValueError('a newspic DraftArticle needs image_info={"image_list": [{"image_media_id": …}]}')

    def wire(self) -> dict[str, Any]:
        """The JSON object WeChat expects: unset fields left out, flags as 0/1."""
        body: dict[str, Any] = {"title": self.title, "content": self.content}
        optional = {
            "thumb_media_id": self.thumb_media_id,
            "author": self.author,
            "digest": self.digest,
            "content_source_url": self.content_source_url,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        body["need_open_comment"] = int(self.need_open_comment)
        body["only_fans_can_comment"] = int(self.only_fans_can_comment)
        if self.article_type == "newspic":
            body["article_type"] = "newspic"
            body["image_info"] = dict(self.image_info or {})
        return body


ArticleInput = DraftArticle | Mapping[str, Any]
"""A :class:`DraftArticle`, or a dict in WeChat's own field names (sent as it is)."""


def article_body(article: ArticleInput) -> dict[str, Any]:
    return article.wire() if isinstance(article, DraftArticle) else dict(article)


@dataclass(frozen=True)
class DraftItem(WeChatData):
    media_id: str
    update_time: int = 0
    articles: list[NewsItem] = field(default_factory=list)


def _draft_item(data: dict[str, Any]) -> DraftItem:
    return build(DraftItem, data, articles=news_items(data.get("content") or {}))


class DraftAPI(Group):
    async def add(self, articles: Sequence[ArticleInput]) -> str:
        """Store 1–8 articles as one draft; returns its media_id. Not retried blindly: a repeat would
        leave a second, identical draft."""
        if not 1 <= len(articles) <= MAX_ARTICLES:
            raise ValueError(f"a draft holds 1..{MAX_ARTICLES} articles, got {len(articles)}")
        body = {"articles": [article_body(article) for article in articles]}
        return str((await self._caller.post("/cgi-bin/draft/add", body, safe=False))["media_id"])

    async def get(self, media_id: str) -> builtins.list[NewsItem]:
        return news_items(await self._caller.post("/cgi-bin/draft/get", {"media_id": media_id}))

    async def update(self, media_id: str, index: int, article: ArticleInput) -> None:
        """Replace the article at ``index`` (0-based) of a draft."""
        if index < 0:
            raise ValueError(f"index is the article's 0-based position in the draft, got {index}")
        body = {"media_id": media_id, "index": index, "articles": article_body(article)}
        await self._caller.post("/cgi-bin/draft/update", body)

    async def delete(self, media_id: str) -> None:
        await self._caller.post("/cgi-bin/draft/delete", {"media_id": media_id})

    async def count(self) -> int:
        return int((await self._caller.get("/cgi-bin/draft/count"))["total_count"])

    async def list(self, offset: int = 0, count: int = 20, no_content: bool = False) -> BatchPage[DraftItem]:
        """One page of drafts, newest first; ``no_content`` leaves out the articles' ``content``."""
        body = batch_body(offset, count, no_content=int(no_content))
        return batch_page(await self._caller.post("/cgi-bin/draft/batchget", body), _draft_item)
