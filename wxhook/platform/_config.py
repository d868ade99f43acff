"""A third-party platform's credentials and options, from arguments or ``WXHOOK_PLATFORM_*`` variables."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..accounts import APPID
from ..config import ConfigError, setting
from ..crypto import decode_aes_key

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from ._records import Authorizer

__all__ = ["PLATFORM_STORE", "AuthorizeHook", "AuthorizedHook", "Platform"]

PLATFORM_STORE = "sqlite:///wxhook-platform.db"
"""Where a platform keeps its ticket and refresh tokens when no store is configured: a file in the working
directory (set ``store=`` or WXHOOK_STORE to put it elsewhere)."""

AuthorizeHook = Callable[["Request"], Awaitable["str | None"]]
"""Decides who may open the authorization page: the app's own ``state`` to carry through (which tenant is
authorizing), or None to refuse the visitor."""
AuthorizedHook = Callable[["Request", "Authorizer", str], Awaitable["Response | None"]]
"""Called when a merchant comes back authorized, with the authorizer and the app's ``state``; its response ends the
flow (None: wxhook's own result page)."""

_VARIABLES = {"appid": "WXHOOK_PLATFORM_APPID", "secret": "WXHOOK_PLATFORM_SECRET",
              "token": "WXHOOK_PLATFORM_TOKEN", "aes_key": "WXHOOK_PLATFORM_AES_KEY"}


@dataclass(frozen=True)
class Platform:
    """A third-party platform (第三方平台) of the Open Platform, as its admin shows it: ``appid`` and ``secret``
    (AppID, AppSecret), ``token`` and ``aes_key`` (消息校验Token, 消息加解密Key). Each falls back to its variable:
    WXHOOK_PLATFORM_APPID, _SECRET, _TOKEN, _AES_KEY.

    ``authorize`` turns on the authorization page (``GET /authorize``): it decides whether the visitor may
    authorize and returns the app's own ``state`` (None refuses). ``on_authorized`` answers the merchant coming back
    (``GET /authorized``). ``public_url`` is where the bot is mounted as the world sees it (``https://host/wechat``),
    for the ``redirect_uri`` behind a proxy. ``release_test`` answers WeChat's release test (全网发布) for its
    five test accounts before any handler runs. ``repr`` shows none of the secrets.
    """

    appid: str | None = None
    secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    aes_key: str | None = field(default=None, repr=False)
    authorize: AuthorizeHook | None = field(default=None, repr=False)
    on_authorized: AuthorizedHook | None = field(default=None, repr=False)
    public_url: str | None = None
    release_test: bool = True

    def __post_init__(self) -> None:
        for name, variable in _VARIABLES.items():
            value = setting(getattr(self, name), variable)
            if value is None:
                raise ConfigError(f"the third-party platform has no {name}: pass Platform({name}=...) or set "
                                  f"{variable} (the platform's admin, 开发资料)")
            object.__setattr__(self, name, value)
        if not APPID.fullmatch(self.component_appid):
            raise ConfigError(f"Platform(appid={self.appid!r}): a platform's AppID is 'wx' and 16 hex digits")
        try:
            decode_aes_key(self.encoding_aes_key)
        except ValueError as exc:
            raise ConfigError(f"the platform's EncodingAESKey is invalid ({exc}): copy its 43-character 消息加解密Key "
                              "into Platform(aes_key=...) or WXHOOK_PLATFORM_AES_KEY") from None
        if self.public_url is not None and not self.public_url.startswith(("https://", "http://")):
            raise ConfigError(f"Platform(public_url={self.public_url!r}) must be the bot's mount point as the world "
                              "sees it, such as https://example.com/wechat")

    @property
    def component_appid(self) -> str:
        assert self.appid is not None  # filled in by __post_init__
        return self.appid

    @property
    def component_secret(self) -> str:
        assert self.secret is not None
        return self.secret

    @property
    def component_token(self) -> str:
        assert self.token is not None
        return self.token

    @property
    def encoding_aes_key(self) -> str:
        assert self.aes_key is not None
        return self.aes_key
