"""Shapes shared by drafts, published articles and permanent material: the article and the batch page."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ._caller import build
from ._data import WeChatData

__all__ = ["BatchPage", "NewsItem"]

T = TypeVar("T")
BATCH_MAX = 20


@dataclass(frozen=True)
class NewsItem(WeChatData):
    """One article of a draft, a published article group or a news material, as WeChat returns it.

    ``url`` and ``is_deleted`` are set for published articles; ``image_info`` for ``article_type="newspic"``.
    """

    title: str = ""
    author: str = ""
    digest: str = ""
    content: str = ""
    content_source_url: str = ""
    thumb_media_id: str = ""
    thumb_url: str = ""
    show_cover_pic: bool = False
    need_open_comment: bool = False
    only_fans_can_comment: bool = False
    url: str = ""
    is_deleted: bool = False
    article_type: str = "news"
    image_info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchPage(WeChatData, Generic[T]):
    """One page of a ``batchget``: ``total_count`` in all, ``item_count`` on this page."""

    total_count: int = 0
    item_count: int = 0
    items: list[T] = field(default_factory=list)


_FLAGS = ("show_cover_pic", "need_open_comment", "only_fans_can_comment", "is_deleted")


def news_items(data: Mapping[str, Any]) -> list[NewsItem]:
    """The ``news_item`` list of an answer; WeChat's 0/1 flags become booleans."""
    return [
        build(NewsItem, item, **{flag: bool(item.get(flag)) for flag in _FLAGS if flag in item})
        for item in data.get("news_item") or []
    ]


def batch_page(data: Mapping[str, Any], item: Callable[[dict[str, Any]], T]) -> BatchPage[T]:
    page: BatchPage[T] = build(BatchPage, data, items=[item(entry) for entry in data.get("item") or []])
    return page


def batch_body(offset: int, count: int, **extra: Any) -> dict[str, Any]:
    """The ``{offset, count, …}`` of a batchget, checked against WeChat's 1–20 page size."""
    if not 1 <= count <= BATCH_MAX:
        raise ValueError(f"count must be 1..{BATCH_MAX}, got {count}")
    if offset < 0:
        raise ValueError(f"offset must be 0 or more, got {offset}")
    return {"offset": offset, "count": count, **extra}
