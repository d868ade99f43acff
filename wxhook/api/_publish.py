"""Publishing (发布): a draft becomes articles with URLs, without a mass-send notification to followers."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ._articles import BatchPage, NewsItem, batch_body, batch_page, news_items
from ._caller import Group, build
from ._data import WeChatData

__all__ = ["PublishJob", "PublishState", "PublishStatus", "PublishedItem"]


class PublishState(IntEnum):
    """``publish_status`` of a publish job (WeChat may add values; unknown ones stay plain ints)."""

    SUCCESS = 0
    PUBLISHING = 1
    ORIGINAL_CHECK_FAILED = 2
    FAILED = 3
    AUDIT_REJECTED = 4
    DELETED = 5
    BANNED = 6


class PublishJob(str):
    """The publish_id WeChat assigned, usable wherever the id string goes (``publish.status(job)``),
    with ``msg_data_id`` and WeChat's whole answer in ``raw`` attached."""

    msg_data_id: int
    raw: dict[str, Any]

    def __new__(cls, publish_id: str, msg_data_id: int = 0, raw: dict[str, Any] | None = None) -> PublishJob:
        self = super().__new__(cls, publish_id)
        self.msg_data_id = msg_data_id
        self.raw = raw if raw is not None else {}
        return self

    @property
    def publish_id(self) -> str:
        return str(self)


@dataclass(frozen=True)
class PublishStatus(WeChatData):
    """Where a publish job stands; ``article_urls`` are in article order, ``fail_idx`` the failed ones (1-based)."""

    publish_id: str
    publish_status: int
    article_id: str = ""
    article_urls: list[str] = field(default_factory=list)
    fail_idx: list[int] = field(default_factory=list)

    @property
    def state(self) -> PublishState | None:
        """``publish_status`` as a :class:`PublishState`, None for a value this wxhook does not know."""
        try:
            return PublishState(self.publish_status)
        except ValueError:
            return None

    @property
    def finished(self) -> bool:
        """False while WeChat is still publishing: poll again (or wait for the PUBLISHJOBFINISH event)."""
        return self.publish_status != PublishState.PUBLISHING


@dataclass(frozen=True)
class PublishedItem(WeChatData):
    article_id: str
    update_time: int = 0
    articles: list[NewsItem] = field(default_factory=list)


def _status(data: dict[str, Any]) -> PublishStatus:
    detail = sorted((data.get("article_detail") or {}).get("item") or [], key=lambda item: int(item["idx"]))
    return build(
        PublishStatus,
        data,
        publish_id=str(data.get("publish_id", "")),
        publish_status=int(data.get("publish_status", -1)),
        article_urls=[str(item["article_url"]) for item in detail],
        fail_idx=[int(idx) for idx in data.get("fail_idx") or []],
    )


def _published_item(data: dict[str, Any]) -> PublishedItem:
    return build(PublishedItem, data, articles=news_items(data.get("content") or {}))


class PublishAPI(Group):
    async def submit(self, media_id: str) -> PublishJob:
        """Publish a draft (which then leaves the draft box); the outcome comes later, see :meth:`status`.

        Not retried blindly: a repeat after a lost answer could publish the articles twice.
        """
        data = await self._caller.post("/cgi-bin/freepublish/submit", {"media_id": media_id}, safe=False)
        return PublishJob(str(data["publish_id"]), int(data.get("msg_data_id", 0)), data)

    async def status(self, publish_id: str) -> PublishStatus:
        return _status(await self._caller.post("/cgi-bin/freepublish/get", {"publish_id": str(publish_id)}))

    async def delete(self, article_id: str, index: int = 0) -> None:
        """Delete a published article group, or with ``index`` (1-based) only that article of it."""
        if index < 0:
            raise ValueError(f"index is 0 (the whole group) or an article's 1-based position, got {index}")
        await self._caller.post("/cgi-bin/freepublish/delete", {"article_id": article_id, "index": index})

    async def article(self, article_id: str) -> builtins.list[NewsItem]:
        return news_items(await self._caller.post("/cgi-bin/freepublish/getarticle", {"article_id": article_id}))

    async def list(self, offset: int = 0, count: int = 20, no_content: bool = False) -> BatchPage[PublishedItem]:
        """One page of published article groups (those published with notification are not listed)."""
        body = batch_body(offset, count, no_content=int(no_content))
        return batch_page(await self._caller.post("/cgi-bin/freepublish/batchget", body), _published_item)
