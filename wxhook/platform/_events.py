"""What WeChat pushes to a third-party platform's authorization-event URL, one class per ``InfoType``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..api import WeChatData

__all__ = ["Authorized", "PlatformEvent", "Unauthorized", "UpdateAuthorized", "VerifyTicket"]

REQUIRED = ("AppId", "CreateTime", "InfoType")
"""What every notification carries (decrypted): the platform's appid, the time and the kind."""


def _text(fields: Mapping[str, Any], tag: str) -> str:
    value = fields.get(tag)
    return value if isinstance(value, str) else ""


def _number(fields: Mapping[str, Any], tag: str) -> int:
    value = _text(fields, tag)
    return int(value) if value.isdigit() and len(value) < 19 else 0


@dataclass(frozen=True)
class PlatformEvent(WeChatData):
    """A notification to the platform; ``raw`` holds every field as pushed (kinds without a class of their own,
    such as ``notify_third_fasteregister``, arrive as this class)."""

    info_type: str
    appid: str
    create_time: int
    kind: ClassVar[str] = ""


@dataclass(frozen=True)
class VerifyTicket(PlatformEvent):
    """``component_verify_ticket``: pushed every 10 minutes, valid 12 hours; the platform's token is made from it."""

    ticket: str = field(default="", repr=False)
    kind: ClassVar[str] = "component_verify_ticket"


@dataclass(frozen=True)
class Authorized(PlatformEvent):
    """``authorized``: an account authorized the platform; its code is exchanged (by wxhook) for its tokens."""

    authorizer_appid: str = ""
    authorization_code: str = field(default="", repr=False)
    code_expires: int = 0
    """``AuthorizationCodeExpiredTime`` as pushed (seconds; whether absolute or relative is not documented)."""
    pre_auth_code: str = field(default="", repr=False)
    kind: ClassVar[str] = "authorized"


@dataclass(frozen=True)
class UpdateAuthorized(Authorized):
    """``updateauthorized``: an account changed the permission sets it granted; the same fields as ``authorized``."""

    kind: ClassVar[str] = "updateauthorized"


@dataclass(frozen=True)
class Unauthorized(PlatformEvent):
    """``unauthorized``: an account withdrew its authorization; its refresh token is dead."""

    authorizer_appid: str = ""
    kind: ClassVar[str] = "unauthorized"


def parse_platform_event(fields: Mapping[str, Any]) -> PlatformEvent:
    """The typed notification for decrypted fields (``REQUIRED`` checked already)."""
    info_type = _text(fields, "InfoType")
    common: dict[str, Any] = {"info_type": info_type, "appid": _text(fields, "AppId"),
                              "create_time": _number(fields, "CreateTime"), "raw": dict(fields)}
    if info_type == VerifyTicket.kind:
        return VerifyTicket(**common, ticket=_text(fields, "ComponentVerifyTicket"))
    if info_type in (Authorized.kind, UpdateAuthorized.kind):
        cls = Authorized if info_type == Authorized.kind else UpdateAuthorized
        return cls(**common, authorizer_appid=_text(fields, "AuthorizerAppid"),
                   authorization_code=_text(fields, "AuthorizationCode"),
                   code_expires=_number(fields, "AuthorizationCodeExpiredTime"),
                   pre_auth_code=_text(fields, "PreAuthCode"))
    if info_type == Unauthorized.kind:
        return Unauthorized(**common, authorizer_appid=_text(fields, "AuthorizerAppid"))
    return PlatformEvent(**common)
