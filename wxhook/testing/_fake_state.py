"""What the fake WeChat remembers, and the small vocabulary its endpoints are written in."""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..logs import masked

if TYPE_CHECKING:
    from ._fake_component import Component

__all__ = ["RecordedCall"]

_ALPHABET = string.ascii_letters + string.digits


def random_id(length: int, alphabet: str = _ALPHABET + "_-") -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class RecordedCall:
    """One request the fake received, as the client sent it, and once answered what the fake answered."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    body: bytes
    headers: dict[str, str]
    appid: str | None = None
    """The account the call was made for: the one its access token was issued to (an authorizer token's
    authorizer), else the one it names: ``authorizer_appid``, ``appid``, then the component (a component token's
    holder, ``component_appid``)."""
    status: int | None = None
    """The HTTP status the fake answered with; None while it is still answering (``fake.calls()`` during a
    scripted ``delay``). Listeners of ``fake.subscribe`` always get the answered call."""
    response: bytes = b""
    """The body the fake answered with: see ``answer``."""

    @property
    def answer(self) -> Any:
        """The JSON the fake answered with (``{"errcode": 45015, …}`` for a failure); None before the answer and
        for answers that are not JSON (media, a page, a redirect)."""
        try:
            return json.loads(self.response) if self.response else None
        except ValueError:
            return None

    @property
    def errcode(self) -> int:
        """The errcode of the fake's answer; 0 for none (a success, an answer that is not JSON)."""
        return _errcode(self.answer)

    @property
    def failure(self) -> str | None:
        """How the fake refused the call (``45015 response out of time limit …``, ``HTTP 500``); None when it did
        not (or has not answered yet)."""
        if self.status is not None and self.status != 200:
            return f"HTTP {self.status}"
        answer = self.answer  # parsed once
        errcode = _errcode(answer)
        if errcode == 0:
            return None
        errmsg = answer.get("errmsg")  # an errcode came in a JSON object
        return f"{errcode} {errmsg}" if isinstance(errmsg, str) else str(errcode)

    def __repr__(self) -> str:
        """Credentials masked (the AppSecret of a token fetch, an access token, a login code): a failing test's
        output, or a log of it, does not carry them."""
        return (f"RecordedCall(method={self.method!r}, path={self.path!r}, query={masked(self.query)!r}, "
                f"json={masked(self.json)!r}, body=<{len(self.body)} bytes>, appid={self.appid!r}, "
                f"status={self.status!r}, answer={masked(self.answer)!r})")


def _errcode(answer: Any) -> int:
    errcode = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    return errcode if isinstance(errcode, int) else 0


@dataclass
class Rule:
    """A scripted misbehaviour: answer ``path`` with an errcode / HTTP status, possibly after a delay."""

    path: str
    errcode: int | None
    status: int | None
    delay: float | None
    times: int | None
    openid: str | None
    errmsg: str | None
    appid: str | None = None

    def matches(self, call: RecordedCall) -> bool:
        if call.path != self.path or self.times == 0 or self.appid not in (None, call.appid):
            return False
        if self.openid is None:
            return True
        body = call.json if isinstance(call.json, dict) else {}
        return self.openid in (body.get("touser"), body.get("openid"), call.query.get("openid"))


class Fault(Exception):
    """Raised by an endpoint to answer ``{"errcode": …, "errmsg": "… rid: …"}``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass(frozen=True)
class FakeRequest:
    call: RecordedCall
    client_ip: str
    base_url: str
    files: dict[str, tuple[str, str, bytes]]
    after: list[tuple[Callable[[], Coroutine[Any, Any, object]], bool]] = field(default_factory=list)
    """Work the endpoint left for after the lock (see :meth:`then`), and whether the answer waits for it."""

    @property
    def query(self) -> dict[str, str]:
        return self.call.query

    def body(self) -> dict[str, Any]:
        """The JSON object body; 47001 for anything else, as WeChat answers."""
        if not isinstance(self.call.json, dict):
            raise Fault(47001, "data format error")
        return self.call.json

    def need(self, value: Any, errcode: int, errmsg: str) -> Any:
        if value is None or value == "" or value == [] or value == {}:
            raise Fault(errcode, errmsg)
        return value

    def then(self, work: Callable[[], Coroutine[Any, Any, object]], *, wait: bool) -> None:
        """Run ``work`` (I/O, such as a push to a bot) once the fake's lock is released: before the answer goes
        out when ``wait``, else in the background. Endpoints run under the lock, so they cannot await."""
        self.after.append((work, wait))


@dataclass
class Issued:
    kind: str
    expires_at: float
    revoked: bool = False
    issuer: str | None = None
    """The component that issued an authorizer token (its revocation ends the token)."""


@dataclass(eq=False, repr=False)
class Shared:
    """What the accounts of one fake share: the clock, the browser, the platforms, who holds which token (a call
    is attributed to the account its token was issued to), and the lock that guards all of the fake's data."""

    accounts: dict[str, FakeState] = field(default_factory=dict)
    platforms: dict[str, Component] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    """Every access token issued (an account's, an authorizer's, a component's) → the appid that holds it."""
    paths: frozenset[str] = frozenset()
    """Every path the fake serves (the quota API answers only for those)."""
    clock_offset: float = 0.0
    browser_user: tuple[str, bool] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.monotonic() + self.clock_offset

    def wall(self) -> int:
        """Unix time on the fake's clock, for the CreateTime and expiry times a push carries."""
        return int(time.time() + self.clock_offset)

    def issue(self, tokens: dict[str, Issued], owner: str, kind: str, ttl: float, *, overlap: float | None,
              issuer: str | None = None) -> str:
        """A new token in ``tokens``; with ``overlap``, older ones of its kind (and issuer) stay usable that long."""
        now = self.now()
        if overlap is not None:
            for issued in tokens.values():
                if issued.kind == kind and issued.issuer == issuer:
                    issued.expires_at = min(issued.expires_at, now + overlap)
        token = random_id(136)
        tokens[token] = Issued(kind, now + ttl, issuer=issuer)
        self.owners[token] = owner
        return token

    def check(self, tokens: dict[str, Issued], token: str | None) -> Issued:
        if not token:
            raise Fault(41001, "access_token missing")
        issued = tokens.get(token)
        if issued is None:
            raise Fault(40014, "invalid access_token")
        if issued.revoked:
            raise Fault(40001, "invalid credential, access_token is invalid or not latest")
        if self.now() >= issued.expires_at:
            raise Fault(42001, "access_token expired")
        return issued

    def owner(self, query: dict[str, str], body: Any) -> str | None:
        """The appid a call is for (see ``RecordedCall.appid``); None when it carries and names none."""
        fields = body if isinstance(body, dict) else {}
        token = query.get("access_token") or query.get("component_access_token") or ""
        holder = self.owners.get(token)
        if holder is not None and holder not in self.platforms:
            return holder
        if token and holder is None:  # a follower's web-login token
            found = next((st.appid for st in self.accounts.values() if token in st.user_tokens), None)
            if found is not None:
                return found
        for named in (fields.get("authorizer_appid"), query.get("appid"), fields.get("appid"), holder,
                      fields.get("component_appid"), query.get("component_appid")):
            if isinstance(named, str) and named:
                return named
        return None


@dataclass(eq=False, repr=False)
class FakeState:
    """All data of one fake account. Endpoints run under the fake's lock, so plain dicts suffice. No repr of its
    own: it holds the secret and every token the fake issued."""

    appid: str
    secret: str
    token_ttl: int
    overlap: int
    page_size: int
    original_id: str = ""
    """The account's gh_ id, ToUserName of its pushes; derived from the appid unless given."""
    name: str = ""
    shared: Shared = field(default_factory=Shared, repr=False)
    tokens: dict[str, Issued] = field(default_factory=dict)
    stable: str | None = None
    force_refreshes: int = 0
    tickets: dict[str, str] = field(default_factory=dict)
    followers: dict[str, dict[str, Any]] = field(default_factory=dict)
    blacklist: list[str] = field(default_factory=list)
    tags: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_tag_id: int = 100
    industry: tuple[str, str] | None = None
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    template_msgids: dict[tuple[str, str], int] = field(default_factory=dict)
    next_msgid: int = 1_000_000
    qrcodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    menu: dict[str, Any] | None = None
    media: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)
    short_keys: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    oauth_codes: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    """code → (openid, scope, the component that started the login or None)"""
    used_codes: set[str] = field(default_factory=set)
    user_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)
    rids: dict[str, dict[str, Any]] = field(default_factory=dict)
    # articles and broadcasts: drafts, publish jobs and published articles, permanent material, mass sends,
    # subscription-notification templates (ids from next_content_id)
    drafts: dict[str, dict[str, Any]] = field(default_factory=dict)
    publish_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    materials: dict[str, dict[str, Any]] = field(default_factory=dict)
    mass_sends: dict[int, dict[str, Any]] = field(default_factory=dict)
    mass_clientmsgids: dict[str, float] = field(default_factory=dict)
    mass_speed: int = 0
    mass_media: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What ``media/uploadvideo`` and ``media/uploadnews`` made: media_id → type, expiry and content."""
    subscribe_templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    one_time_grants: set[tuple[str, str, str]] = field(default_factory=set)
    """Unused consents to a one-time subscription message: (openid, template_id, scene)."""
    next_content_id: int = 1_000_000_000
    counts: dict[str, int] = field(default_factory=dict)
    clear_quota_count: int = 0
    # customer service, conditional menus, comments, console settings, the retired shorturl
    kf_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    kf_sessions: dict[str, tuple[str, int]] = field(default_factory=dict)
    kf_waiting: dict[str, int] = field(default_factory=dict)
    kf_records: list[dict[str, Any]] = field(default_factory=list)
    conditional_menus: list[dict[str, Any]] = field(default_factory=list)
    next_menuid: int = 400_000_000
    articles: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    next_comment_id: int = 1
    autoreply: dict[str, Any] = field(default_factory=dict)
    ocr_results: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What an OCR recognizer answers instead of its documented sample (``set_ocr_result``)."""
    shorturl_retired: bool = True
    # cards: card templates, the codes followers hold ((card_id, code) → holder, status, membership), deposited codes
    # (card_id → code → handed out yet), encrypted codes, the test white list, filled-in activation forms
    # (activate_ticket → answers)
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    card_codes: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    card_deposits: dict[str, dict[str, bool]] = field(default_factory=dict)
    encrypted_codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    card_whitelist: set[str] = field(default_factory=set)
    member_forms: dict[str, dict[str, Any]] = field(default_factory=dict)
    # invoices: the merchant's contact, orders ((s_pappid, order_id) → authorization), followers' invoices
    # ((card_id, encrypt_code) → invoice)
    invoice_contact: dict[str, Any] | None = None
    invoice_orders: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    invoices: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.appid in self.shared.accounts:
            raise ValueError(f"FakeWeChat already has an account {self.appid}")
        self.original_id = self.original_id or "gh_" + hashlib.sha1(self.appid.encode()).hexdigest()[:12]
        self.name = self.name or f"公众号 {self.appid}"
        self.shared.accounts[self.appid] = self

    def sibling(self, appid: str, secret: str, original_id: str | None, name: str | None) -> FakeState:
        """Another account of the same fake: the same settings, clock and token registry, data of its own."""
        return FakeState(appid, secret, self.token_ttl, self.overlap, self.page_size, original_id or "", name or "",
                         shared=self.shared)

    def now(self) -> float:
        return self.shared.now()

    def issue_token(self, kind: str) -> str:
        """A new token; a new basic token leaves older basic ones usable for ``overlap`` seconds."""
        overlap = self.overlap if kind == "basic" else None
        return self.shared.issue(self.tokens, self.appid, kind, self.token_ttl, overlap=overlap)

    def check_token(self, token: str | None) -> None:
        self.shared.check(self.tokens, token)

    def check_app(self, appid: Any, secret: Any = None, *, with_secret: bool = True) -> None:
        if appid != self.appid:
            raise Fault(40013, "invalid appid")
        if with_secret and secret != self.secret:
            raise Fault(40125, "invalid appsecret")

    def follower(self, openid: Any) -> dict[str, Any]:
        if openid not in self.followers:
            raise Fault(40003, "invalid openid")
        return self.followers[openid]


Handler = Callable[[FakeState, FakeRequest], "dict[str, Any] | Response"]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    needs_token: bool


def endpoint(method: str, path: str, *, token: bool = True) -> Callable[[Handler], Endpoint]:
    """Declare a handler as the fake's answer to ``method path``; ``token=False`` for the endpoints that take
    appid/secret or no credential. The modules that hold endpoints are listed in ``_fake_app``."""

    def declare(handler: Handler) -> Endpoint:
        return Endpoint(method, path, handler, token)

    return declare


def collect(*modules: ModuleType) -> dict[str, Endpoint]:
    """Every endpoint the modules declare (by name, or in a tuple of them), by path; a path declared twice is
    a mistake caught at import."""
    table: dict[str, Endpoint] = {}
    for module in modules:
        for value in vars(module).values():
            for found in value if isinstance(value, tuple) else (value,):
                if isinstance(found, Endpoint):
                    if found.path in table:
                        raise RuntimeError(f"FakeWeChat endpoint {found.path} is declared twice")
                    table[found.path] = found
    return table
