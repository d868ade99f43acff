"""wxhook: WeChat Official Account (公众号) webhooks as decorated functions.

Everything public is importable from here; the modules behind it are internal. The distribution that installs
this package is wxhook-mp (``wxhook`` on the package index is another project).
"""

from importlib import metadata as _metadata

from .accounts import Account, AccountLookup, AccountSource, ServedAccount
from .api import (
    Article,
    AutoReplyInfo,
    Client,
    Comment,
    CommentPage,
    DraftArticle,
    DuplicateSendError,
    InvalidCredentialError,
    IPNotWhitelistedError,
    KfAccount,
    KfOnline,
    KfRecord,
    KfRecordPage,
    KfSession,
    MassCard,
    MassContent,
    MassImage,
    MassNews,
    MassText,
    MassVideo,
    MassVoice,
    MissingFieldError,
    PublishState,
    RateLimitError,
    ReplyWindowError,
    ResponseTooLargeError,
    SelfMenu,
    StatRow,
    SystemBusyError,
    UnauthorizedAPIError,
    UnexpectedAnswerError,
    UserRefusedError,
    WaitingCase,
    WaitingList,
    WeChatAPIError,
    WeChatError,
    WeChatNetworkError,
)
from .app import Bot
from .config import ConfigError
from .context import Context
from .messages import *  # noqa: F403 - one class per message and event type, listed in messages.__all__
from .messages import __all__ as _message_names
from .names import EventName, EventType, QRAction, QRActionName, SubscribeScene, SubscribeSceneName
from .platform import Authorizer, Platform, PlatformEvent
from .replies import (
    Image,
    Music,
    News,
    Reply,
    Text,
    TransferCustomerService,
    Video,
    Voice,
)
from .routing import Router
from .stores import LockTimeout, MemoryStore, ResilientStore, SQLiteStore, Store, StoreUnavailable, open_store
from .weblogin import WebLogin

__all__ = [
    "Account",
    "AccountLookup",
    "AccountSource",
    "Article",
    "Authorizer",
    "AutoReplyInfo",
    "Bot",
    "Client",
    "Comment",
    "CommentPage",
    "ConfigError",
    "Context",
    "EventName",
    "EventType",
    "DraftArticle",
    "DuplicateSendError",
    "IPNotWhitelistedError",
    "Image",
    "InvalidCredentialError",
    "KfAccount",
    "KfOnline",
    "KfRecord",
    "KfRecordPage",
    "KfSession",
    "LockTimeout",
    "MassCard",
    "MassContent",
    "MassImage",
    "MassNews",
    "MassText",
    "MassVideo",
    "MassVoice",
    "MemoryStore",
    "MissingFieldError",
    "Music",
    "QRAction",
    "QRActionName",
    "News",
    "Platform",
    "PlatformEvent",
    "PublishState",
    "RateLimitError",
    "Reply",
    "ReplyWindowError",
    "ResponseTooLargeError",
    "ResilientStore",
    "Router",
    "SQLiteStore",
    "SelfMenu",
    "ServedAccount",
    "StatRow",
    "SystemBusyError",
    "Store",
    "SubscribeScene",
    "SubscribeSceneName",
    "StoreUnavailable",
    "Text",
    "TransferCustomerService",
    "UnauthorizedAPIError",
    "UnexpectedAnswerError",
    "UserRefusedError",
    "Video",
    "Voice",
    "WaitingCase",
    "WaitingList",
    "WeChatAPIError",
    "WeChatError",
    "WeChatNetworkError",
    "WebLogin",
    "open_store",
    *_message_names,
]

try:  # the installed distribution's version, so pyproject.toml holds the only copy
    __version__ = _metadata.version("wxhook-mp")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
