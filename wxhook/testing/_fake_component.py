"""The open platform's records in the fake: one component's tickets, tokens, codes and authorizations, with the
rules WeChat applies to each (open-platform.md §1–§2). Everything here runs under the fake's lock; the pushes
these records produce are delivered by ``_fake_push``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, Issued, Shared, random_id

__all__ = ["AuthorizationRecord", "EventPush"]

TICKET_TTL = 12 * 3600
TICKET_GRACE = 1200
"""How long the ticket before the latest keeps working: one missed 10-minute push, and a token fetch racing the
push that replaced it. WeChat publishes no figure."""
PRE_AUTH_TTL = 600
CODE_TTL = 600
DEFAULT_FUNC_INFO = (1, 2, 3, 4, 6, 7, 11, 15)
"""Permission sets a merchant grants unless a test says otherwise: messages, users, account, web pages, customer
service, mass and notifications, material, menu."""
OPTIONS = {"location_report": (("0", "1", "2"), 2), "voice_recognize": (("0", "1"), 1),
           "customer_service": (("0", "1"), 6)}
"""Authorizer options: the values each takes and the permission set it needs (61007 without)."""
INVALID_CODE = (61009, "code is invalid")
NOT_AUTHORIZED = (61003, "component is not authorized by this account")


@dataclass
class AuthorizationRecord:
    """An authorizer's grant to the component, as ``platform.authorizations`` shows it."""

    appid: str
    refresh_token: str = field(repr=False)
    func_info: tuple[int, ...]
    auth_time: int
    exchanged: bool = False
    """Whether a code of it was exchanged: ``api_get_authorizer_list`` shows the refresh token only then."""
    revoked: bool = False
    options: dict[str, str] = field(default_factory=dict)

    def func_info_json(self) -> list[dict[str, Any]]:
        return [{"funcscope_category": {"id": scope}} for scope in self.func_info]


@dataclass
class AuthCode:
    appid: str
    refresh_token: str
    """The refresh token of the authorization it was made for: a code outlives neither a revocation nor a
    re-authorization."""
    expires_at: float
    used: bool = False
    token: str | None = None
    """The authorizer token its exchange handed out (the 全网发布 check follows it)."""


@dataclass(frozen=True)
class EventPush:
    """A push the fake made to a bot's authorization-event URL, and what the bot answered."""

    url: str
    fields: Mapping[str, Any]
    """What was pushed, decrypted: ``AppId``, ``CreateTime``, ``InfoType``…"""
    status: int | None
    """The HTTP status the bot answered; None when it could not be reached (``error`` says why)."""
    body: bytes
    error: str = ""

    @property
    def info_type(self) -> str:
        return str(self.fields["InfoType"])

    @property
    def ok(self) -> bool:
        """The bot answered the literal ``success``, as WeChat requires."""
        return self.status == 200 and self.body == b"success"


@dataclass(frozen=True)
class Merchant:
    """Who is signed in to mp.weixin.qq.com in the browser that opens the authorization page."""

    appid: str
    original_id: str | None
    name: str | None
    func_info: tuple[int, ...]


@dataclass(eq=False)
class Component:
    """One third-party platform: its credentials, and what WeChat keeps for it."""

    appid: str
    secret: str
    token: str
    aes_key: str
    origin: FakeState
    """The fake's default account: new authorizer accounts take its settings."""
    events_url: str | None = None
    push_delay: float | None = None
    tickets: list[tuple[str, float]] = field(default_factory=list)
    """(ticket, pushed at), newest last."""
    tokens: dict[str, Issued] = field(default_factory=dict)
    pre_auth_codes: dict[str, float] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    authorizations: dict[str, AuthorizationRecord] = field(default_factory=dict)
    merchant: Merchant | None = None
    pushes: list[EventPush] = field(default_factory=list)
    """Every push delivered (or tried) to the bot's authorization-event URL, oldest first."""
    clear_quota_count: int = 0

    @property
    def shared(self) -> Shared:
        return self.origin.shared

    # -- tickets and the component token ---------------------------------------------------------------

    def new_ticket(self) -> str:
        ticket = f"ticket@@@{random_id(86)}"
        self.tickets.append((ticket, self.shared.now()))
        return ticket

    def check_ticket(self, ticket: str) -> None:
        """The latest ticket for 12 h; the one before it for ``TICKET_GRACE`` after it was replaced."""
        now = self.shared.now()
        recent = self.tickets[-2:]
        for index, (value, pushed_at) in enumerate(recent):
            if value != ticket:
                continue
            if now >= pushed_at + TICKET_TTL:
                raise Fault(61005, "component ticket is expired")
            if index == len(recent) - 1 or now < recent[-1][1] + TICKET_GRACE:
                return
        raise Fault(61006, "component ticket is invalid")

    def issue_token(self) -> str:
        return self.shared.issue(self.tokens, self.appid, "component", self.origin.token_ttl,
                                 overlap=self.origin.overlap)

    # -- authorizations ---------------------------------------------------------------------------------

    def new_pre_auth_code(self) -> str:
        code = f"preauthcode@@@{random_id(48)}"
        self.pre_auth_codes[code] = self.shared.now() + PRE_AUTH_TTL
        return code

    def take_pre_auth_code(self, code: str) -> str | None:
        """Use up a pre_auth_code; what is wrong with it, or None."""
        expires_at = self.pre_auth_codes.pop(code, None)
        if expires_at is None:
            return "the pre_auth_code is unknown or was used already (it works once): make a new one"
        if self.shared.now() >= expires_at:
            return "the pre_auth_code expired: make a new one with api_create_preauthcode"
        return None

    def account(self, appid: str, original_id: str | None, name: str | None) -> FakeState:
        """The authorizer's account in the fake, registered on its first authorization."""
        account = self.shared.accounts.get(appid)
        if account is None:
            return self.origin.sibling(appid, random_id(32, "0123456789abcdef"), original_id, name)
        if original_id and original_id != account.original_id:
            raise ValueError(f"{appid} is already an account of the fake with original id {account.original_id}, "
                             f"not {original_id}")
        return account

    def grant(self, merchant: Merchant, *, renew: bool) -> tuple[str, str]:
        """The merchant authorizes: a new authorization (``renew``, or none is live: ``authorized``) or an update of
        the live one (``updateauthorized``); returns the InfoType and a fresh code."""
        self.account(merchant.appid, merchant.original_id, merchant.name)
        current = self.authorizations.get(merchant.appid)
        if renew or current is None or current.revoked:
            self.revoke(merchant.appid)
            self.authorizations[merchant.appid] = AuthorizationRecord(
                merchant.appid, f"refreshtoken@@@{random_id(43)}", merchant.func_info, self.shared.wall())
            info_type = "authorized"
        else:
            current.func_info = merchant.func_info
            info_type = "updateauthorized"
        return info_type, self.new_code(merchant.appid)

    def revoke(self, appid: str) -> None:
        """End an authorization: its refresh token, codes and authorizer tokens stop working."""
        current = self.authorizations.get(appid)
        if current is not None:
            current.revoked = True
        account = self.shared.accounts.get(appid)
        for issued in account.tokens.values() if account is not None else ():
            if issued.issuer == self.appid:
                issued.revoked = True

    def live(self, appid: Any) -> AuthorizationRecord:
        current = self.authorizations.get(appid) if isinstance(appid, str) else None
        if current is None or current.revoked:
            raise Fault(*NOT_AUTHORIZED)
        return current

    def new_code(self, appid: str) -> str:
        """An authorization code for the live authorization of ``appid``, good for 10 minutes."""
        value = f"queryauthcode@@@{random_id(86)}"
        self.codes[value] = AuthCode(appid, self.live(appid).refresh_token, self.shared.now() + CODE_TTL)
        return value

    def exchange(self, value: str) -> tuple[AuthorizationRecord, str]:
        """``api_query_auth``: a code works once (a second exchange answers 61009, as an unknown code does; what
        WeChat answers is unverified), within its 10 minutes (61010), while its authorization stands."""
        code = self.codes.get(value)
        if code is None or code.used:
            raise Fault(*INVALID_CODE)
        if self.shared.now() >= code.expires_at:
            raise Fault(61010, "code is expired")
        current = self.authorizations.get(code.appid)
        if current is None or current.revoked or current.refresh_token != code.refresh_token:
            raise Fault(*INVALID_CODE)
        code.used, current.exchanged = True, True
        code.token = self.authorizer_token(current)
        return current, code.token

    def refresh(self, appid: Any, refresh_token: Any) -> tuple[AuthorizationRecord, str]:
        """``api_authorizer_token``: 61003 for an account that never authorized, 61023 for a refresh token that is
        wrong or whose authorization was revoked or replaced."""
        current = self.authorizations.get(appid) if isinstance(appid, str) else None
        if current is None:
            raise Fault(*NOT_AUTHORIZED)
        if current.revoked or refresh_token != current.refresh_token:
            raise Fault(61023, "refresh_token is invalid")
        return current, self.authorizer_token(current)

    def authorizer_token(self, current: AuthorizationRecord) -> str:
        """A token that works on every official-account endpoint as the authorizer; older ones stay usable for
        the fake's ``overlap``, as a new basic token leaves them."""
        account = self.shared.accounts[current.appid]
        return self.shared.issue(account.tokens, current.appid, "authorizer", account.token_ttl,
                                 overlap=account.overlap, issuer=self.appid)

    # -- what is pushed ---------------------------------------------------------------------------------

    def event(self, info_type: str, **fields: Any) -> dict[str, Any]:
        """The decrypted fields of a push to the authorization-event URL."""
        return {"AppId": self.appid, "CreateTime": self.shared.wall(), "InfoType": info_type, **fields}

    def ticket_event(self) -> dict[str, Any]:
        return self.event("component_verify_ticket", ComponentVerifyTicket=self.new_ticket())

    def authorization_event(self, info_type: str, code_value: str, pre_auth_code: str) -> dict[str, Any]:
        """``authorized`` / ``updateauthorized``. ``AuthorizationCodeExpiredTime`` is the Unix time the code
        expires (whether WeChat sends that or a number of seconds is unverified)."""
        code = self.codes[code_value]
        expires = self.shared.wall() + round(code.expires_at - self.shared.now())
        return self.event(info_type, AuthorizerAppid=code.appid, AuthorizationCode=code_value,
                          AuthorizationCodeExpiredTime=expires, PreAuthCode=pre_auth_code)


def component_of(st: FakeState, req: FakeRequest) -> Component:
    """The component whose token the call carries, in ``component_access_token`` or (as newer docs spell it)
    ``access_token``; a ``component_appid`` in the body must name that component."""
    token = req.query.get("component_access_token") or req.query.get("access_token")
    shared = st.shared
    holder = shared.owners.get(token or "")
    component = shared.platforms.get(holder or "")
    if component is None:
        if not token:
            raise Fault(41001, "access_token missing")
        raise Fault(40014 if holder is None else 40001, "invalid access_token: not a component_access_token")
    shared.check(component.tokens, token)
    named = req.call.json.get("component_appid") if isinstance(req.call.json, dict) else None
    if named is not None and named != component.appid:
        raise Fault(40013, "invalid appid: component_appid is not the component the token was issued to")
    return component


def platform_named(st: FakeState, appid: Any) -> Component:
    """The component an appid names (40013 for one the fake does not know)."""
    component = st.shared.platforms.get(appid) if isinstance(appid, str) else None
    if component is None:
        raise Fault(40013, "invalid appid")
    return component
