"""The WeChat Official Account API client: a shared, self-healing access token and typed API groups."""

from ._client import Client, TokenProvider
from ._custom import Article
from ._errors import (
    ConfigurationError,
    InvalidCredentialError,
    IPNotWhitelistedError,
    RateLimitError,
    ReplyWindowError,
    SystemBusyError,
    UnauthorizedAPIError,
    UserRefusedError,
    WeChatAPIError,
    WeChatError,
    WeChatNetworkError,
)
from ._media import UploadedMedia
from ._menu import Menu
from ._misc import CallbackCheck, Quota, RidInfo
from ._oauth import OAuthToken, OAuthUserInfo
from ._qrcode import QRCode
from ._shorturl import ShortenData
from ._tags import Tag
from ._template import Industry, TemplateInfo
from ._ticket import JsapiSignature, sign_card, sign_jsapi
from ._token import AccessToken
from ._transport import OFFICIAL_DOMAINS
from ._user import FollowerPage, UserInfo

__all__ = [
    "OFFICIAL_DOMAINS",
    "AccessToken",
    "Article",
    "CallbackCheck",
    "Client",
    "ConfigurationError",
    "FollowerPage",
    "IPNotWhitelistedError",
    "Industry",
    "InvalidCredentialError",
    "JsapiSignature",
    "Menu",
    "OAuthToken",
    "OAuthUserInfo",
    "QRCode",
    "Quota",
    "RateLimitError",
    "ReplyWindowError",
    "RidInfo",
    "ShortenData",
    "SystemBusyError",
    "Tag",
    "TemplateInfo",
    "TokenProvider",
    "UnauthorizedAPIError",
    "UploadedMedia",
    "UserInfo",
    "UserRefusedError",
    "WeChatAPIError",
    "WeChatError",
    "WeChatNetworkError",
    "sign_card",
    "sign_jsapi",
]
