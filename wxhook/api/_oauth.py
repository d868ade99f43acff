"""Web-page authorisation (OAuth2): stateless, each call carries the user's own access token."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlencode

from ._caller import Group, build
from ._data import WeChatData
from ._errors import InvalidCredentialError, WeChatAPIError

__all__ = ["OAuthToken", "OAuthUserInfo"]

AUTHORIZE_PATH = "/connect/oauth2/authorize"
QRCONNECT_PATH = "/connect/qrconnect"
_STATE = re.compile(r"[A-Za-z0-9]{0,128}")
_INVALID_OPENID = 40003


@dataclass(frozen=True)
class OAuthToken(WeChatData):
    """The user's token: not the account's access token, and only usable for /sns calls about this user. The repr
    leaves out both tokens."""

    access_token: str = field(repr=False)
    openid: str
    expires_in: int = 7200
    refresh_token: str = field(default="", repr=False)
    scope: str = ""
    unionid: str | None = None
    is_snapshotuser: int = 0


@dataclass(frozen=True)
class OAuthUserInfo(WeChatData):
    openid: str
    nickname: str = ""
    sex: int = 0
    province: str = ""
    city: str = ""
    country: str = ""
    headimgurl: str = ""
    privilege: list[str] = field(default_factory=list)
    unionid: str | None = None
    language: str = ""
    appid: str | None = None


class OAuthAPI(Group):
    def authorize_url(
        self,
        redirect_uri: str,
        scope: Literal["snsapi_base", "snsapi_userinfo"] = "snsapi_base",
        state: str = "",
        *,
        force_popup: bool = False,
    ) -> str:
        """Where to send the browser; WeChat comes back to ``redirect_uri`` with ``?code=…&state=…``."""
        if not _STATE.fullmatch(state):
            raise ValueError("state must be at most 128 characters of a-z, A-Z and 0-9")
        query = self._authorize_query(redirect_uri, scope, state)
        if force_popup:
            query["forcePopup"] = "true"
        return f"{self._caller.transport.open_base}{AUTHORIZE_PATH}?{urlencode(query)}#wechat_redirect"

    def qrconnect_url(self, appid: str, redirect_uri: str, state: str = "") -> str:
        """The QR-code login page of a website (网站应用微信登录) on a computer: the user scans it with WeChat and
        the browser comes back to ``redirect_uri`` (on the domain registered for the app) with ``?code=…&state=…``,
        or ``?state=…`` alone when they decline. ``appid`` is the website app's, from the open platform
        (open.weixin.qq.com), not this account's: an Official Account has no ``snsapi_login`` scope. Its code is
        exchanged with that app's AppSecret (``/sns/oauth2/access_token``), so by a ``Client`` of that app."""
        if not appid or not redirect_uri:
            raise ValueError("qrconnect_url needs the website app's appid and the redirect_uri to come back to")
        if appid == self._caller.credentials.appid_value:
            raise ValueError(
                "qrconnect_url takes a website app's appid (open.weixin.qq.com), not this Official Account's; "
                "in WeChat itself use authorize_url"
            )
        query = {"appid": appid, "redirect_uri": redirect_uri, "response_type": "code", "scope": "snsapi_login",
                 "state": state}
        return f"{self._caller.transport.open_base}{QRCONNECT_PATH}?{urlencode(query)}#wechat_redirect"

    def _authorize_query(self, redirect_uri: str, scope: str, state: str) -> dict[str, str]:
        """The consent link's parameters, in the order WeChat documents them."""
        return {
            "appid": self._caller.credentials.appid(),
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
        }

    def _secret_for_signing(self) -> bytes:
        return self._caller.credentials.secret().encode()

    def signing_key(self, purpose: str) -> bytes:
        """A key for signing this app's own values (e.g. login states), derived from the AppSecret (a platform's
        authorizer: from the platform's secret).

        One key per ``purpose``, and the secret itself never leaves the client nor becomes guessable
        from a signature.
        """
        return hmac.new(self._secret_for_signing(), f"wxhook:{purpose}".encode(), hashlib.sha256).digest()

    async def _token(self, path: str, params: dict[str, str]) -> OAuthToken:
        params = {"appid": self._caller.credentials.appid(), **params}
        return build(OAuthToken, await self._caller.get(path, params, with_token=False))

    async def exchange(self, code: str) -> OAuthToken:
        """Trade the single-use ``code`` (valid 5 minutes) for the user's token."""
        return await self._token(
            "/sns/oauth2/access_token",
            {"secret": self._caller.credentials.secret(), "code": code, "grant_type": "authorization_code"},
        )

    async def refresh(self, refresh_token: str) -> OAuthToken:
        """A new user token from a refresh token (valid 30 days)."""
        return await self._token(
            "/sns/oauth2/refresh_token", {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    async def user_info(self, access_token: str, openid: str, lang: str = "zh_CN") -> OAuthUserInfo:
        """The profile; needs a token obtained with the ``snsapi_userinfo`` scope."""
        params = {"access_token": access_token, "openid": openid, "lang": lang}
        return build(OAuthUserInfo, await self._caller.get("/sns/userinfo", params, with_token=False))

    async def check(self, access_token: str, openid: str) -> bool:
        """Whether the user's token is still valid for this openid."""
        params = {"access_token": access_token, "openid": openid}
        try:
            await self._caller.get("/sns/auth", params, with_token=False)
        except InvalidCredentialError:
            return False
        except WeChatAPIError as exc:
            if exc.errcode == _INVALID_OPENID:
                return False
            raise
        return True
