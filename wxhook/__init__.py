"""wxhook: WeChat Official Account (公众号) webhooks as decorated functions.

Everything public is importable from here; the modules behind it are internal.
"""

from .api import (
    Article,
    Client,
    DraftArticle,
    DuplicateSendError,
    InvalidCredentialError,
    IPNotWhitelistedError,
    MassCard,
    MassContent,
    MassImage,
    MassNews,
    MassText,
    MassVideo,
    MassVoice,
    PublishState,
    RateLimitError,
    ReplyWindowError,
    SystemBusyError,
    UnauthorizedAPIError,
    UserRefusedError,
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
    "Article",
    "Bot",
    "Client",
    "ConfigError",
    "Context",
    "DraftArticle",
    "DuplicateSendError",
    "IPNotWhitelistedError",
    "Image",
    "InvalidCredentialError",
    "LockTimeout",
    "MassCard",
    "MassContent",
    "MassImage",
    "MassNews",
    "MassText",
    "MassVideo",
    "MassVoice",
    "MemoryStore",
    "Music",
    "News",
    "PublishState",
    "RateLimitError",
    "Reply",
    "ReplyWindowError",
    "ResilientStore",
    "Router",
    "SQLiteStore",
    "SystemBusyError",
    "Store",
    "StoreUnavailable",
    "Text",
    "TransferCustomerService",
    "UnauthorizedAPIError",
    "UserRefusedError",
    "Video",
    "Voice",
    "WeChatAPIError",
    "WeChatError",
    "WeChatNetworkError",
    "WebLogin",
    "open_store",
    *_message_names,
]
__version__ = "0.1.0"
