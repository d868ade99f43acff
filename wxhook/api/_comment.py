"""Comments (留言) on published articles, addressed by the article's ``msg_data_id`` and ``index``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ._caller import Group, build
from ._data import WeChatData

__all__ = ["Comment", "CommentPage"]

MAX_COUNT = 50
CommentType = Literal[0, 1, 2]
_TYPES = (0, 1, 2)


@dataclass(frozen=True)
class Comment(WeChatData):
    """``comment_type`` 1 marks an elected (精选) comment; ``reply`` is ``{content, create_time}`` if answered."""

    user_comment_id: int
    openid: str = ""
    create_time: int = 0
    content: str = ""
    comment_type: int = 0
    reply: dict[str, Any] | None = None


@dataclass(frozen=True)
class CommentPage(WeChatData):
    total: int = 0
    comments: list[Comment] = field(default_factory=list)


class CommentAPI(Group):
    """``index`` is the article's position in a multi-article message, from 0."""

    async def _post(
        self, path: str, msg_data_id: int, index: int, *, safe: bool = True, **fields: Any
    ) -> dict[str, Any]:
        body = {"msg_data_id": msg_data_id, "index": index, **fields}
        return await self._caller.post(path, body, safe=safe)

    async def open(self, msg_data_id: int, index: int = 0) -> None:
        await self._post("/cgi-bin/comment/open", msg_data_id, index)

    async def close(self, msg_data_id: int, index: int = 0) -> None:
        await self._post("/cgi-bin/comment/close", msg_data_id, index)

    async def list(
        self, msg_data_id: int, index: int = 0, begin: int = 0, count: int = MAX_COUNT, type: CommentType = 0
    ) -> CommentPage:
        """Up to 50 comments from ``begin``; ``type`` 0 all, 1 not elected, 2 elected."""
        if not 1 <= count <= MAX_COUNT:
            raise ValueError(f"count must be 1..{MAX_COUNT}, got {count}")
        if begin < 0:
            raise ValueError(f"begin must be 0 or more, got {begin}")
        if type not in _TYPES:
            raise ValueError(f"type must be 0 (all), 1 (not elected) or 2 (elected), got {type!r}")
        data = await self._post("/cgi-bin/comment/list", msg_data_id, index, begin=begin, count=count, type=type)
        comments = [build(Comment, item) for item in data.get("comment") or []]
        return build(CommentPage, data, comments=comments)

    async def mark_elect(self, msg_data_id: int, index: int, user_comment_id: int) -> None:
        """Show the comment to everyone (精选)."""
        await self._post("/cgi-bin/comment/markelect", msg_data_id, index, user_comment_id=user_comment_id)

    async def unmark_elect(self, msg_data_id: int, index: int, user_comment_id: int) -> None:
        await self._post("/cgi-bin/comment/unmarkelect", msg_data_id, index, user_comment_id=user_comment_id)

    async def delete(self, msg_data_id: int, index: int, user_comment_id: int) -> None:
        await self._post("/cgi-bin/comment/delete", msg_data_id, index, user_comment_id=user_comment_id)

    async def reply(self, msg_data_id: int, index: int, user_comment_id: int, content: str) -> None:
        """Answer a comment (one reply each). Not retried blindly: a repeat fails as already replied (88005)."""
        if not content:
            raise ValueError("reply needs non-empty content")
        await self._post(
            "/cgi-bin/comment/reply/add",
            msg_data_id,
            index,
            safe=False,
            user_comment_id=user_comment_id,
            content=content,
        )

    async def delete_reply(self, msg_data_id: int, index: int, user_comment_id: int) -> None:
        await self._post("/cgi-bin/comment/reply/delete", msg_data_id, index, user_comment_id=user_comment_id)
