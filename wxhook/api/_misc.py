"""Operations: WeChat's IPs, connectivity checks, quotas and request ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ._caller import Group, build
from ._data import WeChatData

__all__ = ["AutoReplyInfo", "CallbackCheck", "Quota", "RidInfo"]


@dataclass(frozen=True)
class CallbackCheck(WeChatData):
    dns: list[dict[str, Any]] = field(default_factory=list)
    ping: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Quota(WeChatData):
    daily_limit: int = 0
    used: int = 0
    remain: int = 0
    rate_limit: dict[str, Any] = field(default_factory=dict)
    component_rate_limit: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AutoReplyInfo(WeChatData):
    """The auto-replies set in the admin console: on follow, by default, and by keyword (``keyword_rules``,
    each with ``rule_name``, ``keyword_list_info`` and ``reply_list_info``)."""

    is_add_friend_reply_open: bool = False
    is_autoreply_open: bool = False
    add_friend_autoreply_info: dict[str, Any] = field(default_factory=dict)
    message_default_autoreply_info: dict[str, Any] = field(default_factory=dict)
    keyword_rules: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RidInfo(WeChatData):
    invoke_time: int = 0
    cost_in_ms: int = 0
    request_url: str = ""
    request_body: str = ""
    response_body: str = ""
    client_ip: str = ""


class MiscAPI(Group):
    async def callback_ip(self) -> list[str]:
        """The IPs WeChat pushes from: allow these in a firewall in front of the webhook."""
        return list((await self._caller.get("/cgi-bin/getcallbackip")).get("ip_list") or [])

    async def api_domain_ip(self) -> list[str]:
        """The IPs behind the API domains (refresh daily if an egress firewall pins them)."""
        return list((await self._caller.get("/cgi-bin/get_api_domain_ip")).get("ip_list") or [])

    async def callback_check(
        self,
        action: Literal["all", "dns", "ping"] = "all",
        check_operator: Literal["DEFAULT", "CHINANET", "UNICOM", "CAP"] = "DEFAULT",
    ) -> CallbackCheck:
        """Ask WeChat to resolve and ping the webhook URL from its side."""
        body = {"action": action, "check_operator": check_operator}
        return build(CallbackCheck, await self._caller.post("/cgi-bin/callback/check", body))

    async def clear_quota(self) -> None:
        """Reset this account's daily API quotas (45009). Only 10 per month, so never retried blindly."""
        await self._caller.post(
            "/cgi-bin/clear_quota", {"appid": self._caller.credentials.appid()}, safe=False
        )

    async def clear_quota_v2(self) -> None:
        """``clear_quota`` authenticated by appid + secret instead of the access token, for when fetching
        the token itself is what ran out. Shares the 10 resets a month; never retried blindly.

        The appid and secret go in both the query and the body: WeChat's docs have said each.
        """
        credentials = {"appid": self._caller.credentials.appid(), "appsecret": self._caller.credentials.secret()}
        await self._caller.call(
            "POST", "/cgi-bin/clear_quota/v2", params=credentials, body=credentials, safe=False, with_token=False
        )

    async def autoreply_info(self) -> AutoReplyInfo:
        data = await self._caller.get("/cgi-bin/get_current_autoreply_info")
        return build(
            AutoReplyInfo,
            data,
            is_add_friend_reply_open=bool(data.get("is_add_friend_reply_open")),
            is_autoreply_open=bool(data.get("is_autoreply_open")),
            keyword_rules=list((data.get("keyword_autoreply_info") or {}).get("list") or []),
        )

    async def quota_get(self, cgi_path: str) -> Quota:
        """Daily quota and rate limit of one API, e.g. ``"/cgi-bin/message/custom/send"`` (no /sns paths)."""
        data = await self._caller.post("/cgi-bin/openapi/quota/get", {"cgi_path": cgi_path})
        limits = {key: data[key] for key in ("rate_limit", "component_rate_limit") if key in data}
        return build(Quota, data.get("quota") or {}, raw=data, **limits)

    async def rid_get(self, rid: str) -> RidInfo:
        """What WeChat recorded about a failed call, by the rid in its errmsg (kept 7 days)."""
        data = await self._caller.post("/cgi-bin/openapi/rid/get", {"rid": rid})
        return build(RidInfo, data.get("request") or {}, raw=data)
