"""wxhook: WeChat Official Account (公众号) webhooks as decorated functions.

The names for building and serving a bot are importable from here; the API client and its models from
``wxhook.api``, the third-party platform from ``wxhook.platform``, the testing kit from ``wxhook.testing``
(docs/architecture.md, "The public surface"). Each module's ``__all__`` is its share of the names. The distribution
that installs this package is wxhook-mp (``wxhook`` on the package index is another project).
"""

from importlib import metadata as _metadata

from . import accounts, app, config, context, custom_messages, event_names, messages, replies, routing, stores, weblogin
from .accounts import *  # noqa: F403 - one line per module, its names in its own __all__
from .app import *  # noqa: F403
from .config import *  # noqa: F403
from .context import *  # noqa: F403
from .custom_messages import *  # noqa: F403
from .deprecation import moved_names as _moved_names
from .event_names import *  # noqa: F403
from .messages import *  # noqa: F403
from .replies import *  # noqa: F403
from .routing import *  # noqa: F403
from .stores import *  # noqa: F403
from .weblogin import *  # noqa: F403

__all__ = [
    *accounts.__all__,
    *app.__all__,
    *config.__all__,
    *context.__all__,
    *custom_messages.__all__,
    *event_names.__all__,
    *messages.__all__,
    *replies.__all__,
    *routing.__all__,
    *stores.__all__,
    *weblogin.__all__,
]

_API_NAMES = (
    "AutoReplyInfo", "CardBaseInfo", "CardDates", "CashCoupon", "Client", "Comment", "CommentPage",
    "DiscountCoupon", "DraftArticle", "DuplicateSendError", "GeneralCoupon", "GiftCoupon", "Groupon",
    "IPNotWhitelistedError", "InvalidCredentialError", "KfAccount", "KfOnline", "KfRecord", "KfRecordPage",
    "KfSession", "MassCard", "MassContent", "MassImage", "MassNews", "MassText", "MassVideo", "MassVoice",
    "MemberCard", "MemberForm", "MissingFieldError", "PublishState", "QRAction", "QRActionName", "QRCard",
    "RateLimitError", "ReplyWindowError", "ResponseTooLargeError", "RichField", "SelfMenu", "StatRow",
    "SubscribeScene", "SubscribeSceneName", "SystemBusyError", "UnauthorizedAPIError", "UnexpectedAnswerError",
    "UserRefusedError", "WaitingCase", "WaitingList", "WeChatAPIError", "WeChatError", "WeChatNetworkError",
)
_PLATFORM_NAMES = ("Authorizer", "Platform", "PlatformEvent")
__getattr__ = _moved_names(__name__, {
    **{name: f"wxhook.api.{name}" for name in _API_NAMES},
    **{name: f"wxhook.platform.{name}" for name in _PLATFORM_NAMES},
})
"""The names exported from here before the API's and the platform's got doors of their own: importable with a
DeprecationWarning (CHANGELOG.md, Deprecated)."""

try:  # the installed distribution's version, so pyproject.toml holds the only copy
    __version__ = _metadata.version("wxhook-mp")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
