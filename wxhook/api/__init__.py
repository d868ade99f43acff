"""The WeChat Official Account API client: a shared, self-healing access token and typed API groups."""

from ._articles import BatchPage, NewsItem
from ._client import Client, TokenProvider
from ._comment import Comment, CommentPage
from ._component import Authorization, AuthorizerInfo, ComponentAPI, ComponentOAuthAPI, ListedAuthorizer
from ._custom import Article
from ._customer_service import KfAccount, KfOnline, KfRecord, KfRecordPage, KfSession, WaitingCase, WaitingList
from ._datacube import StatRow
from ._draft import DraftArticle, DraftItem
from ._errors import (
    AuthorizationCodeError,
    AuthorizerRefusedError,
    ComponentTicketError,
    ConfigurationError,
    DuplicateSendError,
    InvalidCredentialError,
    IPNotWhitelistedError,
    MissingFieldError,
    RateLimitError,
    ReplyWindowError,
    ResponseTooLargeError,
    SystemBusyError,
    UnauthorizedAPIError,
    UnexpectedAnswerError,
    UserRefusedError,
    WeChatAPIError,
    WeChatError,
    WeChatNetworkError,
)
from ._mass import (
    MassCard,
    MassContent,
    MassImage,
    MassNews,
    MassSendResult,
    MassSpeed,
    MassStatus,
    MassText,
    MassVideo,
    MassVoice,
)
from ._material import MaterialCount, MaterialItem, MaterialVideo, UploadedMaterial
from ._media import UploadedMedia
from ._menu import Menu, SelfMenu
from ._misc import AutoReplyInfo, CallbackCheck, Quota, RidInfo
from ._oauth import OAuthToken, OAuthUserInfo
from ._ocr import (
    BankCard,
    BizLicense,
    DrivingLicense,
    IdCard,
    OCRImageSize,
    OCRPoint,
    OCRPosition,
    OCRText,
    PlateNumber,
    PrintedText,
    VehicleLicense,
)
from ._publish import PublishedItem, PublishJob, PublishState, PublishStatus
from ._qrcode import QRCode
from ._shorturl import ShortenData
from ._subscription import (
    SubscribeCategory,
    SubscribeKeyword,
    SubscribeTemplate,
    SubscribeTitle,
    SubscribeTitlePage,
)
from ._tags import Tag
from ._template import Industry, TemplateInfo
from ._ticket import JsapiSignature, sign_card, sign_jsapi
from ._token import AccessToken
from ._transport import OFFICIAL_DOMAINS
from ._user import FollowerPage, OpenidChange, UserInfo

__all__ = [
    "OFFICIAL_DOMAINS",
    "AccessToken",
    "Article",
    "Authorization",
    "AuthorizationCodeError",
    "AuthorizerInfo",
    "AuthorizerRefusedError",
    "AutoReplyInfo",
    "BankCard",
    "BatchPage",
    "BizLicense",
    "CallbackCheck",
    "Client",
    "Comment",
    "CommentPage",
    "ComponentAPI",
    "ComponentOAuthAPI",
    "ComponentTicketError",
    "ConfigurationError",
    "DraftArticle",
    "DraftItem",
    "DrivingLicense",
    "DuplicateSendError",
    "FollowerPage",
    "IPNotWhitelistedError",
    "IdCard",
    "Industry",
    "InvalidCredentialError",
    "JsapiSignature",
    "KfAccount",
    "KfOnline",
    "KfRecord",
    "KfRecordPage",
    "KfSession",
    "ListedAuthorizer",
    "MassCard",
    "MassContent",
    "MassImage",
    "MassNews",
    "MassSendResult",
    "MassSpeed",
    "MassStatus",
    "MassText",
    "MassVideo",
    "MassVoice",
    "MaterialCount",
    "MaterialItem",
    "MaterialVideo",
    "Menu",
    "MissingFieldError",
    "NewsItem",
    "OAuthToken",
    "OAuthUserInfo",
    "OCRImageSize",
    "OCRPoint",
    "OCRPosition",
    "OCRText",
    "OpenidChange",
    "PlateNumber",
    "PrintedText",
    "PublishJob",
    "PublishState",
    "PublishStatus",
    "PublishedItem",
    "QRCode",
    "Quota",
    "RateLimitError",
    "ReplyWindowError",
    "ResponseTooLargeError",
    "RidInfo",
    "SelfMenu",
    "ShortenData",
    "StatRow",
    "SubscribeCategory",
    "SubscribeKeyword",
    "SubscribeTemplate",
    "SubscribeTitle",
    "SubscribeTitlePage",
    "SystemBusyError",
    "Tag",
    "TemplateInfo",
    "TokenProvider",
    "UnauthorizedAPIError",
    "UnexpectedAnswerError",
    "UploadedMaterial",
    "UploadedMedia",
    "UserInfo",
    "UserRefusedError",
    "VehicleLicense",
    "WaitingCase",
    "WaitingList",
    "WeChatAPIError",
    "WeChatError",
    "WeChatNetworkError",
    "sign_card",
    "sign_jsapi",
]
