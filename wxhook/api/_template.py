"""Template messages: the industry, the account's templates, and sending."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._caller import Group, build
from ._data import WeChatData

__all__ = ["Industry", "TemplateInfo"]


@dataclass(frozen=True)
class Industry(WeChatData):
    primary_industry: dict[str, str] = field(default_factory=dict)
    secondary_industry: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateInfo(WeChatData):
    template_id: str
    title: str = ""
    primary_industry: str = ""
    deputy_industry: str = ""
    content: str = ""
    example: str = ""


def template_data(data: Mapping[str, str | Mapping[str, str]]) -> dict[str, Mapping[str, str]]:
    """``{"k": "text"}`` is shorthand for ``{"k": {"value": "text"}}``; a color needs the long form."""
    return {key: {"value": value} if isinstance(value, str) else value for key, value in data.items()}


class TemplateAPI(Group):
    async def set_industry(self, industry_id1: int | str, industry_id2: int | str) -> None:
        await self._caller.post(
            "/cgi-bin/template/api_set_industry",
            {"industry_id1": str(industry_id1), "industry_id2": str(industry_id2)},
        )

    async def get_industry(self) -> Industry:
        return build(Industry, await self._caller.get("/cgi-bin/template/get_industry"))

    async def add(self, template_id_short: str, keyword_names: Sequence[str] = ()) -> str:
        """Add a template from the library; returns its template_id. Not retried: each success adds one."""
        body: dict[str, Any] = {"template_id_short": template_id_short}
        if keyword_names:  # required for category templates, absent for the old industry ones
            body["keyword_name_list"] = list(keyword_names)
        data = await self._caller.post("/cgi-bin/template/api_add_template", body, safe=False)
        return str(data["template_id"])

    async def list(self) -> builtins.list[TemplateInfo]:
        data = await self._caller.get("/cgi-bin/template/get_all_private_template")
        return [build(TemplateInfo, item) for item in data.get("template_list") or []]

    async def delete(self, template_id: str) -> None:
        await self._caller.post("/cgi-bin/template/del_private_template", {"template_id": template_id})

    async def send(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, str | Mapping[str, str]],
        *,
        url: str | None = None,
        miniprogram: Mapping[str, str] | None = None,
        client_msg_id: str | None = None,
    ) -> int:
        """Send a template message; returns its msgid.

        With ``client_msg_id`` WeChat drops duplicates for 10 minutes, so the send is retried like any
        idempotent call; without it only failures that prove the request never arrived are retried.
        ``miniprogram`` is ``{"appid": …, "pagepath": …}`` and wins over ``url`` on WeChat's side.
        """
        if not openid or not template_id:
            raise ValueError("template.send needs a non-empty openid and template_id")
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": template_data(data)}
        if url is not None:
            body["url"] = url
        if miniprogram is not None:
            body["miniprogram"] = dict(miniprogram)
        if client_msg_id is not None:
            body["client_msg_id"] = client_msg_id
        answer = await self._caller.post(
            "/cgi-bin/message/template/send", body, safe=client_msg_id is not None
        )
        return int(answer["msgid"])
