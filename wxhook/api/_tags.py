"""User tags: the account's tags and who carries them."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from ._caller import Group, build
from ._data import WeChatData
from ._user import FollowerPage, _page, _walk

__all__ = ["Tag"]

TAGGING_BATCH_MAX = 50
MAX_TAG_NAME = 30


@dataclass(frozen=True)
class Tag(WeChatData):
    id: int
    name: str
    count: int = 0


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= MAX_TAG_NAME:
        raise ValueError(f"a tag name must be 1..{MAX_TAG_NAME} characters, got {len(name)}")


class TagsAPI(Group):
    async def create(self, name: str) -> Tag:
        """Not retried blindly: a repeat after a lost answer would fail as a duplicate name (45157)."""
        _check_name(name)
        data = await self._caller.post("/cgi-bin/tags/create", {"tag": {"name": name}}, safe=False)
        return build(Tag, data.get("tag") or {})

    async def list(self) -> builtins.list[Tag]:
        data = await self._caller.get("/cgi-bin/tags/get")
        return [build(Tag, item) for item in data.get("tags") or []]

    async def update(self, tag_id: int, name: str) -> None:
        _check_name(name)
        await self._caller.post("/cgi-bin/tags/update", {"tag": {"id": tag_id, "name": name}})

    async def delete(self, tag_id: int) -> None:
        await self._caller.post("/cgi-bin/tags/delete", {"tag": {"id": tag_id}})

    async def tag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        """Tag any number of users, 50 per request."""
        await self._post_openids(
            "/cgi-bin/tags/members/batchtagging", openids, TAGGING_BATCH_MAX, tagid=tag_id
        )

    async def untag_users(self, tag_id: int, openids: Sequence[str]) -> None:
        await self._post_openids(
            "/cgi-bin/tags/members/batchuntagging", openids, TAGGING_BATCH_MAX, tagid=tag_id
        )

    async def of_user(self, openid: str) -> builtins.list[int]:
        """The ids of the tags a user carries."""
        data = await self._caller.post("/cgi-bin/tags/getidlist", {"openid": openid})
        return [int(tag_id) for tag_id in data.get("tagid_list") or []]

    async def members(self, tag_id: int, next_openid: str = "") -> FollowerPage:
        """One page (up to 10,000) of the tag's followers; ``total`` is not given for tags and stays 0."""
        body = {"tagid": tag_id, "next_openid": next_openid}
        return _page(await self._caller.post("/cgi-bin/user/tag/get", body))

    def iter_members(self, tag_id: int, start: str | None = None) -> AsyncIterator[str]:
        """Every openid carrying the tag, page after page."""

        async def page(cursor: str | None) -> FollowerPage:
            return await self.members(tag_id, cursor or "")

        return _walk(page, start)
