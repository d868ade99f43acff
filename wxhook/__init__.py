"""wxhook: WeChat Official Account (公众号) webhooks as decorated functions.

Everything public is importable from here; the modules behind it are internal.
"""

from .api import (
    AutoReplyInfo,
    Client,
    Comment,
    CommentPage,
    InvalidCredentialError,
    IPNotWhitelistedError,
    KfAccount,
    KfOnline,
    KfRecord,
    KfRecordPage,
    KfSession,
    RateLimitError,
    ReplyWindowError,
    SelfMenu,
    StatRow,
    UnauthorizedAPIError,
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
from .replies import (
    Article,
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
from .stores import LockTimeout, MemoryStore, SQLiteStore, Store, open_store

__all__ = [
    "Article",
    "AutoReplyInfo",
    "Bot",
    "Client",
    "Comment",
    "CommentPage",
    "ConfigError",
    "Context",
    "IPNotWhitelistedError",
    "Image",
    "InvalidCredentialError",
    "KfAccount",
    "KfOnline",
    "KfRecord",
    "KfRecordPage",
    "KfSession",
    "LockTimeout",
    "MemoryStore",
    "Music",
    "News",
    "RateLimitError",
    "Reply",
    "ReplyWindowError",
    "Router",
    "SQLiteStore",
    "SelfMenu",
    "StatRow",
    "Store",
    "Text",
    "TransferCustomerService",
    "UnauthorizedAPIError",
    "UserRefusedError",
    "Video",
    "Voice",
    "WaitingCase",
    "WaitingList",
    "WeChatAPIError",
    "WeChatError",
    "WeChatNetworkError",
    "open_store",
    *_message_names,
]
__version__ = "0.1.0"
