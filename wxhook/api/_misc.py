"""Operations: WeChat's IPs, connectivity checks, quotas and request ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ._caller import Group, build


@dataclass(frozen=True)
class CallbackCheck:
    dns: list[dict[str, Any]] = field(default_factory=list)
    ping: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class Quota:
    daily_limit: int = 0
    used: int = 0
    remain: int = 0
    rate_limit: dict[str, Any] = field(default_factory=dict)
    component_rate_limit: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class RidInfo:
    invoke_time: int = 0
    cost_in_ms: int = 0
    request_url: str = ""
    request_body: str = ""
    response_body: str = ""
    client_ip: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


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

    async def quota_get(self, cgi_path: str) -> Quota:
        """Daily quota and rate limit of one API, e.g. ``"/cgi-bin/message/custom/send"`` (no /sns paths)."""
        data = await self._caller.post("/cgi-bin/openapi/quota/get", {"cgi_path": cgi_path})
        limits = {key: data[key] for key in ("rate_limit", "component_rate_limit") if key in data}
        return build(Quota, data.get("quota") or {}, raw=data, **limits)

    async def rid_get(self, rid: str) -> RidInfo:
        """What WeChat recorded about a failed call, by the rid in its errmsg (kept 7 days)."""
        data = await self._caller.post("/cgi-bin/openapi/rid/get", {"rid": rid})
        return build(RidInfo, data.get("request") or {}, raw=data)
