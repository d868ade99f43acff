"""The Open Platform's third-party platform (第三方平台): serve every official account that authorized it.

``Bot(platform=Platform(...))`` answers the platform's notifications at ``/events`` and its authorizers' pushes at
``/{appid}``; ``bot.platform`` holds its API, tokens and authorizer records. See docs/platform.md.
"""

from ._config import AuthorizedHook, AuthorizeHook, Platform
from ._events import Authorized, PlatformEvent, Unauthorized, UpdateAuthorized, VerifyTicket
from ._records import Authorizer
from ._release import TEST_ACCOUNTS
from ._service import EMPTY, NOT_A_TEST, AuthorizerRevokedError, NotAuthorizedError, NoTicketError, PlatformService

PLATFORM_STORE = "sqlite:///wxhook-platform.db"
"""Where a platform keeps its ticket and refresh tokens when no store is configured: a file in the working
directory (set ``store=`` or WXHOOK_STORE to put it elsewhere)."""

__all__ = [
    "EMPTY",
    "NOT_A_TEST",
    "PLATFORM_STORE",
    "TEST_ACCOUNTS",
    "AuthorizeHook",
    "Authorized",
    "AuthorizedHook",
    "Authorizer",
    "AuthorizerRevokedError",
    "NoTicketError",
    "NotAuthorizedError",
    "Platform",
    "PlatformEvent",
    "PlatformService",
    "Unauthorized",
    "UpdateAuthorized",
    "VerifyTicket",
]
