"""Exceptions of the API client, one class per family of errcodes callers handle differently."""

from __future__ import annotations

import re
from typing import ClassVar

from ..config import ConfigError

__all__ = [
    "AuthorizationCodeError", "AuthorizerRefusedError", "ComponentTicketError", "ConfigurationError",
    "DuplicateSendError", "IPNotWhitelistedError", "InvalidCredentialError", "MissingFieldError", "RateLimitError",
    "ReplyWindowError", "ResponseTooLargeError", "SystemBusyError", "UnauthorizedAPIError", "UnexpectedAnswerError",
    "UserRefusedError", "WeChatAPIError", "WeChatError", "WeChatNetworkError",
]

_RID = re.compile(r"rid:\s*([0-9A-Za-z-]+)")
_CALLER_IP = re.compile(r"invalid ip\s+([0-9A-Fa-f.:]+)")


class WeChatError(Exception):
    """Base of everything the API client raises about a call.

    ``transient`` says whether the same call may succeed later unchanged (system busy, network, 5xx,
    a per-minute limit): a delivery queue can retry those and give up on the rest.
    """

    transient: bool = False


class WeChatAPIError(WeChatError):
    """WeChat answered with a non-zero errcode."""

    codes: ClassVar[frozenset[int]] = frozenset()
    hint: ClassVar[str] = ""

    def __init__(self, errcode: int, errmsg: str, rid: str | None, path: str) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        self.rid = rid
        self.path = path
        super().__init__(self._message())

    def _message(self) -> str:
        text = f"WeChat API {self.path} failed: errcode {self.errcode}, {self.errmsg!r}"
        if self.rid:
            text += f" (rid {self.rid}; look it up with client.misc.rid_get)"
        return f"{text}. {self.hint}" if self.hint else text


class SystemBusyError(WeChatAPIError):
    codes = frozenset({-1})
    transient = True
    hint = "WeChat was busy; the client already retried with backoff, try again later."


class InvalidCredentialError(WeChatAPIError):
    codes = frozenset({40001, 40014, 42001})
    hint = (
        "The access token was refused even after one refresh: check the appid/secret pair (appid=, secret= "
        "or WXHOOK_APPID, WXHOOK_SECRET) and that no other service force-refreshes this appid's token."
    )


class RateLimitError(WeChatAPIError):
    codes = frozenset({45009, 45011, 45047})
    hint = (
        "A quota or rate limit was hit: 45011 clears within a minute, 45009 resets daily "
        "(client.misc.clear_quota), 45047 needs the follower to write again."
    )

    def __init__(self, errcode: int, errmsg: str, rid: str | None, path: str) -> None:
        super().__init__(errcode, errmsg, rid, path)
        self.transient = errcode == 45011


class IPNotWhitelistedError(WeChatAPIError):
    codes = frozenset({40164})

    @property
    def ip(self) -> str | None:
        """The caller IP WeChat saw, parsed from errmsg."""
        match = _CALLER_IP.search(self.errmsg)
        return match.group(1) if match else None

    def _message(self) -> str:
        where = self.ip or "this server's public IP"
        return (
            f"{super()._message()} Add {where} to the IP whitelist in the Official Account admin console "
            "(设置与开发 → 基本配置 → IP白名单) or route calls through a whitelisted proxy (api_base=)."
        )


class UnauthorizedAPIError(WeChatAPIError):
    codes = frozenset({48001})
    hint = (
        "This account is not authorised for this API (account type or verification); see the admin console."
    )


class ReplyWindowError(WeChatAPIError):
    codes = frozenset({45015})
    hint = "The follower has not interacted within 48 hours; use a template message instead."


class UserRefusedError(WeChatAPIError):
    codes = frozenset({43004, 43101, 48002})
    hint = (
        "The user does not follow the account, refuses its messages or has not subscribed to this "
        "notification (43101); do not retry."
    )


class DuplicateSendError(WeChatAPIError):
    """A mass send reused a ``clientmsgid`` accepted within the last 24 hours: the message went out once
    (perhaps from an earlier attempt whose answer was lost) and was not sent again."""

    codes = frozenset({45065})
    hint = (
        "A mass send with this clientmsgid was already accepted within 24 hours, so it was not sent again; "
        "treat the message as sent, or pass a new clientmsgid for a new message."
    )


class ComponentTicketError(WeChatAPIError):
    """A third-party platform's ``component_verify_ticket`` was refused: expired (61005) or invalid (61006)."""

    codes = frozenset({61005, 61006})
    hint = (
        "WeChat pushes a fresh component_verify_ticket every 10 minutes to the platform's authorization-event URL "
        "(https://your.host/mount/events): check that it reaches the bot and is answered success, or restart the "
        "pushes with bot.platform.api.start_push_ticket()."
    )


class AuthorizationCodeError(WeChatAPIError):
    """An authorization code was invalid or already used (61009) or expired (61010)."""

    codes = frozenset({61009, 61010})
    hint = "An authorization code works once, within about 10 minutes; the merchant can authorize again."


class AuthorizerRefusedError(WeChatAPIError):
    """The account has not authorized the platform (61003), or its refresh token is no longer valid (61023)."""

    codes = frozenset({61003, 61023})
    hint = (
        "The account de-authorized the platform or authorized it again elsewhere: rebuild the records with "
        "bot.platform.resync_authorizers(), or ask the merchant to authorize again."
    )


ConfigurationError = ConfigError
"""The API client's name for :class:`wxhook.ConfigError` (appid or secret missing)."""

_FAMILIES: tuple[type[WeChatAPIError], ...] = (
    SystemBusyError,
    InvalidCredentialError,
    RateLimitError,
    IPNotWhitelistedError,
    UnauthorizedAPIError,
    ReplyWindowError,
    UserRefusedError,
    DuplicateSendError,
    ComponentTicketError,
    AuthorizationCodeError,
    AuthorizerRefusedError,
)
_BY_CODE = {code: family for family in _FAMILIES for code in family.codes}


def api_error(errcode: int, errmsg: str, path: str) -> WeChatAPIError:
    """The most specific error class for an errcode, with the rid parsed out of errmsg."""
    match = _RID.search(errmsg)
    return _BY_CODE.get(errcode, WeChatAPIError)(errcode, errmsg, match.group(1) if match else None, path)


class WeChatNetworkError(WeChatError):
    """WeChat could not be reached or gave no usable answer, after the bounded retries.

    ``maybe_delivered`` says whether the request may have reached WeChat (a timeout or a dropped connection
    after it was sent, an HTTP 5xx, an answer that came back unusable): a send that failed so must not be
    repeated blindly. False means it provably never arrived (connection refused, connect or pool timeout),
    so repeating it cannot send twice.
    """

    def __init__(
        self,
        message: str,
        path: str,
        *,
        status: int | None = None,
        transient: bool = True,
        maybe_delivered: bool = True,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.status = status
        self.transient = transient
        self.maybe_delivered = maybe_delivered


class ResponseTooLargeError(WeChatNetworkError):
    """An answer grew past ``Client(max_response_size=...)``; reading stopped there, so memory stays bounded."""

    def __init__(self, path: str, limit: int, *, status: int | None = None) -> None:
        super().__init__(
            f"WeChat API {path} answered more than {limit} bytes, the limit set by Client(max_response_size=); "
            "raise it if such a large answer is expected, else check api_base= / WXHOOK_API_BASE",
            path,
            status=status,
            transient=False,
        )
        self.limit = limit


class UnexpectedAnswerError(WeChatNetworkError):
    """An answer WeChat's documentation does not allow: not JSON, not an object, a field missing or mistyped.

    The same call would get the same answer, so it is not transient; the request did reach the server.
    """

    def __init__(self, path: str, problem: str, *, status: int | None = None) -> None:
        super().__init__(
            f"WeChat API {path} answered {problem}; check api_base= / WXHOOK_API_BASE points at the WeChat "
            "API (or at a proxy that passes its answers through unchanged)",
            path,
            status=status,
            transient=False,
        )
        self.problem = problem


class MissingFieldError(UnexpectedAnswerError, KeyError):
    """A documented field WeChat left out of its answer. Also a KeyError, as indexing a plain dict would raise,
    so code written against ``.raw`` keeps working."""

    __str__ = Exception.__str__
