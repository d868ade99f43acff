"""A third-party platform's own API (``/cgi-bin/component/…``): its token, authorization and its authorizers.

Every call carries ``component_access_token``, fetched with the latest ``component_verify_ticket`` WeChat pushed
to the platform; an authorizer's own calls use its ``authorizer_access_token``, refreshed here from its
``authorizer_refresh_token``. Calls on an authorizer's behalf (messages, menus, JS-SDK) go through an ordinary
``Client`` whose token is that one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from ._caller import Caller, Group, build
from ._data import WeChatData
from ._oauth import OAuthAPI, OAuthToken
from ._token import AccessToken, issued

COMPONENT_LOGIN_PATH = "/cgi-bin/componentloginpage"
MOBILE_BIND_PATH = "/safe/bindcomponent"
LIST_PAGE_MAX = 500


@dataclass(frozen=True)
class Authorization(WeChatData):
    """What exchanging an authorization code gives (``api_query_auth``): the authorizer, its first token, its
    refresh token (durable: without it the merchant must authorize again) and the permission sets granted."""

    authorizer_appid: str
    authorizer_access_token: str = field(default="", repr=False)
    expires_in: int = 7200
    authorizer_refresh_token: str = field(default="", repr=False)
    permissions: tuple[int, ...] = ()


@dataclass(frozen=True)
class AuthorizerInfo(WeChatData):
    """An authorizer's public profile (``api_get_authorizer_info``); ``user_name`` is the ``gh_…`` original id its
    pushes carry as ``ToUserName``."""

    appid: str
    nick_name: str = ""
    user_name: str = ""
    head_img: str = ""
    principal_name: str = ""
    alias: str = ""
    service_type: int | None = None
    verify_type: int | None = None
    permissions: tuple[int, ...] = ()


@dataclass(frozen=True)
class ListedAuthorizer(WeChatData):
    """One row of ``api_get_authorizer_list``: an empty ``refresh_token`` means the code was never exchanged."""

    authorizer_appid: str
    refresh_token: str = field(default="", repr=False)
    auth_time: int = 0


def permissions_of(func_info: Any) -> tuple[int, ...]:
    """The permission-set ids of a ``func_info`` list, whatever else its entries carry."""
    ids = []
    for item in func_info if isinstance(func_info, list) else ():
        category = item.get("funcscope_category") if isinstance(item, dict) else None
        value = category.get("id") if isinstance(category, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            ids.append(value)
    return tuple(ids)


class ComponentAPI(Group):
    """The platform's calls. ``ticket`` reads the latest pushed ``component_verify_ticket`` (None: none yet)."""

    def __init__(self, caller: Caller, secret: Callable[[], str], ticket: Callable[[], Awaitable[str | None]],
                 no_ticket: Callable[[], Exception]) -> None:
        super().__init__(caller)
        self._secret = secret
        self._ticket = ticket
        self._no_ticket = no_ticket

    @property
    def appid(self) -> str:
        return self._caller.credentials.appid()

    def authorizer_oauth(self, caller: Caller) -> ComponentOAuthAPI:
        """The web-login group of an authorizer's client, on this platform's behalf:
        ``client.sibling(..., oauth=component.authorizer_oauth)``."""
        return ComponentOAuthAPI(caller, self, self._secret)

    async def component_token(self, _stale: str | None = None) -> AccessToken:
        """A fresh ``component_access_token`` from the latest ticket (the cache in front of it calls this)."""
        ticket = await self._ticket()
        if ticket is None:
            raise self._no_ticket()
        body = {"component_appid": self.appid, "component_appsecret": self._secret(),
                "component_verify_ticket": ticket}
        data = await self._caller.post("/cgi-bin/component/api_component_token", body, with_token=False)
        return issued(data, "component_access_token")

    async def access_token(self) -> str:
        """The current ``component_access_token`` (cached in the store, shared by every process)."""
        return await self._caller.token.get()

    async def pre_auth_code(self) -> tuple[str, int]:
        """A single-use ``pre_auth_code`` for an authorization link, and its lifetime in seconds."""
        data = await self._caller.post("/cgi-bin/component/api_create_preauthcode", {"component_appid": self.appid})
        return str(data["pre_auth_code"]), int(data.get("expires_in", 600))

    def authorize_url(self, pre_auth_code: str, redirect_uri: str, *, auth_type: int | None = None,
                      biz_appid: str | None = None, mobile: bool = False) -> str:
        """The authorization link a merchant opens from a page on the platform's authorization domain (WeChat
        checks the Referer): the QR-code page for PC, or ``mobile`` the one inside WeChat. ``auth_type`` 1 shows
        official accounts only, 2 mini programs, 3 both; ``biz_appid`` offers one account (not with auth_type)."""
        if auth_type is not None and biz_appid is not None:
            raise ValueError("authorize_url takes auth_type= or biz_appid=, not both (WeChat ignores one)")
        query: dict[str, Any] = {"component_appid": self.appid, "pre_auth_code": pre_auth_code,
                                 "redirect_uri": redirect_uri}
        if auth_type is not None:
            query["auth_type"] = auth_type
        if biz_appid is not None:
            query["biz_appid"] = biz_appid
        base = self._caller.transport.mp_base
        if mobile:
            query = {"action": "bindcomponent", "no_scan": 1, **query}
            return f"{base}{MOBILE_BIND_PATH}?{urlencode(query)}#wechat_redirect"
        return f"{base}{COMPONENT_LOGIN_PATH}?{urlencode(query)}"

    async def query_auth(self, code: str) -> Authorization:
        """Exchange an authorization code (from the ``authorized`` push or the redirect) for the authorizer's
        tokens; a code works once, within its lifetime."""
        data = await self._caller.post("/cgi-bin/component/api_query_auth",
                                       {"component_appid": self.appid, "authorization_code": code})
        info = data["authorization_info"]
        return build(Authorization, info, permissions=permissions_of(info.get("func_info")), raw=info)

    async def authorizer_token(self, appid: str, refresh_token: str) -> tuple[AccessToken, str]:
        """A fresh ``authorizer_access_token`` and the refresh token to keep (usually the same one)."""
        body = {"component_appid": self.appid, "authorizer_appid": appid, "authorizer_refresh_token": refresh_token}
        data = await self._caller.post("/cgi-bin/component/api_authorizer_token", body)
        refreshed = data.get("authorizer_refresh_token")
        return issued(data, "authorizer_access_token"), refreshed if isinstance(refreshed, str) and refreshed \
            else refresh_token

    async def authorizer_info(self, appid: str) -> AuthorizerInfo:
        data = await self._caller.post("/cgi-bin/component/api_get_authorizer_info",
                                       {"component_appid": self.appid, "authorizer_appid": appid})
        profile = data.get("authorizer_info")
        profile = profile if isinstance(profile, dict) else {}
        authorization = data.get("authorization_info")
        authorization = authorization if isinstance(authorization, dict) else {}

        def kind(name: str) -> int | None:
            value = profile.get(name)
            found = value.get("id") if isinstance(value, dict) else None
            return found if isinstance(found, int) and not isinstance(found, bool) else None

        return build(AuthorizerInfo, profile, appid=appid, service_type=kind("service_type_info"),
                     verify_type=kind("verify_type_info"),
                     permissions=permissions_of(authorization.get("func_info")), raw=dict(data))

    async def authorizers(self, offset: int = 0, count: int = LIST_PAGE_MAX) -> tuple[int, list[ListedAuthorizer]]:
        """One page of every account that authorized the platform (``total``, rows), with their refresh tokens."""
        if not 1 <= count <= LIST_PAGE_MAX:
            raise ValueError(f"count must be 1..{LIST_PAGE_MAX}, got {count}")
        data = await self._caller.post("/cgi-bin/component/api_get_authorizer_list",
                                       {"component_appid": self.appid, "offset": offset, "count": count})
        rows = [build(ListedAuthorizer, row) for row in data.get("list") or () if isinstance(row, dict)]
        return int(data.get("total_count", len(rows))), rows

    async def authorizer_option(self, appid: str, name: str) -> str:
        """An authorizer's option: ``location_report``, ``voice_recognize`` or ``customer_service``."""
        body = {"component_appid": self.appid, "authorizer_appid": appid, "option_name": name}
        data = await self._caller.post("/cgi-bin/component/api_get_authorizer_option", body)
        return str(data["option_value"])

    async def set_authorizer_option(self, appid: str, name: str, value: str | int) -> None:
        body = {"component_appid": self.appid, "authorizer_appid": appid, "option_name": name,
                "option_value": str(value)}
        await self._caller.post("/cgi-bin/component/api_set_authorizer_option", body, safe=True)

    async def clear_quota(self, appid: str | None = None) -> None:
        """Reset the daily API quota with the platform's secret (works when the token's own calls are spent):
        the platform's own, or an authorizer's with ``appid``. Ten resets a month per account."""
        body = {"component_appid": self.appid, "appsecret": self._secret(), **({"appid": appid} if appid else {})}
        await self._caller.post("/cgi-bin/component/clear_quota/v2", body, with_token=False)

    async def start_push_ticket(self) -> None:
        """Ask WeChat to start pushing ``component_verify_ticket`` again (after the pushes stopped)."""
        body = {"component_appid": self.appid, "component_secret": self._secret()}
        await self._caller.post("/cgi-bin/component/api_start_push_ticket", body, with_token=False)


class ComponentOAuthAPI(OAuthAPI):
    """Web login on an authorizer's behalf: its appid in the link with the platform's, the code exchanged with
    the platform's token (``/sns/oauth2/component/…``), states signed with a key from the platform's secret."""

    def __init__(self, caller: Caller, component: ComponentAPI, secret: Callable[[], str]) -> None:
        super().__init__(caller)
        self._component = component
        self._component_secret = secret

    def _authorize_query(self, redirect_uri: str, scope: str, state: str) -> dict[str, str]:
        return {**super()._authorize_query(redirect_uri, scope, state), "component_appid": self._component.appid}

    def _secret_for_signing(self) -> bytes:
        return self._component_secret().encode()

    async def exchange(self, code: str) -> OAuthToken:
        return await self._component_token("/sns/oauth2/component/access_token",
                                           {"code": code, "grant_type": "authorization_code"})

    async def refresh(self, refresh_token: str) -> OAuthToken:
        return await self._component_token("/sns/oauth2/component/refresh_token",
                                           {"refresh_token": refresh_token, "grant_type": "refresh_token"})

    async def _component_token(self, path: str, params: dict[str, str]) -> OAuthToken:
        query = {"appid": self._caller.credentials.appid(), **params, "component_appid": self._component.appid,
                 "component_access_token": await self._component.access_token()}
        return build(OAuthToken, await self._caller.get(path, query, with_token=False))


__all__ = ["Authorization", "AuthorizerInfo", "ComponentAPI", "ComponentOAuthAPI", "ListedAuthorizer"]
