"""The WeChat Official Account API client: a shared, self-healing access token and typed API groups."""

from ._client import Client, TokenProvider
from ._comment import Comment, CommentPage
from ._customer_service import KfAccount, KfOnline, KfRecord, KfRecordPage, KfSession, WaitingCase, WaitingList
from ._datacube import StatRow
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
from ._menu import Menu, SelfMenu
from ._misc import AutoReplyInfo, CallbackCheck, Quota, RidInfo
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
    "AutoReplyInfo",
    "CallbackCheck",
    "Client",
    "Comment",
    "CommentPage",
    "ConfigurationError",
    "FollowerPage",
    "IPNotWhitelistedError",
    "Industry",
    "InvalidCredentialError",
    "JsapiSignature",
    "KfAccount",
    "KfOnline",
    "KfRecord",
    "KfRecordPage",
    "KfSession",
    "Menu",
    "OAuthToken",
    "OAuthUserInfo",
    "QRCode",
    "Quota",
    "RateLimitError",
    "ReplyWindowError",
    "RidInfo",
    "SelfMenu",
    "ShortenData",
    "StatRow",
    "SystemBusyError",
    "Tag",
    "TemplateInfo",
    "TokenProvider",
    "UnauthorizedAPIError",
    "UploadedMedia",
    "UserInfo",
    "UserRefusedError",
    "WaitingCase",
    "WaitingList",
    "WeChatAPIError",
    "WeChatError",
    "WeChatNetworkError",
    "sign_card",
    "sign_jsapi",
]
