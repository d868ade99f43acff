"""``Client``: the API groups over one transport, one token cache and one state store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import httpx

from ..config import setting
from ..logs import install_redaction
from ..stores import Store, open_store
from ..stores.keys import credential_key
from ._caller import Caller, Credentials
from ._card import CardAPI
from ._comment import CommentAPI
from ._component import ComponentAPI
from ._customer_service import CustomerServiceAPI
from ._datacube import DatacubeAPI
from ._draft import DraftAPI
from ._invoice import InvoiceAPI
from ._mass import MassAPI
from ._material import MaterialAPI
from ._media import MediaAPI
from ._menu import MenuAPI
from ._message import MessageAPI
from ._misc import MiscAPI
from ._oauth import OAuthAPI
from ._ocr import OCRAPI
from ._publish import PublishAPI
from ._qrcode import QRCodeAPI
from ._shorturl import ShortURLAPI
from ._subscription import SubscriptionAPI
from ._tags import TagsAPI
from ._template import TemplateAPI
from ._ticket import TicketAPI
from ._token import AccessToken, CachedCredential, Fetcher, issued
from ._transport import MP_BASE, OFFICIAL_DOMAINS, OPEN_BASE, RetryPolicy, Transport
from ._user import UserAPI

__all__ = ["Client", "TokenProvider"]

DEFAULT_MAX_RESPONSE_SIZE = 20 * 1024 * 1024
"""20 MiB: twice the largest body WeChat serves (a 10 MB image or video material; voice is at most 2 MB and
JSON answers stay far below, 10,000 openids are about 300 KB), so a real answer always fits, while a broken or
hostile server cannot make the client hold more than this per call."""

TokenProvider = Callable[[str | None], Awaitable[AccessToken]]
"""``async def provider(stale: str | None) -> AccessToken``; ``stale`` is the token WeChat just refused."""


def _domains(api_base: str | None, domains: Sequence[str] | None) -> Sequence[str]:
    """An explicit argument beats the environment; ``api_base`` pins a single base (tests, proxies)."""
    if api_base and domains:
        raise ValueError("pass either api_base= (one base URL) or domains= (a failover list), not both")
    if api_base:
        return [api_base]
    if domains:
        return domains
    env = setting(None, "WXHOOK_API_BASE")
    return [env] if env else OFFICIAL_DOMAINS


class Client:
    """The WeChat Official Account API, async and typed.

    Use ``async with Client(...) as client:`` or call :meth:`aclose`. The access token lives in ``store``
    (shared by every process using it) under a key that includes the appid: a ``Store``, or a store URL as
    the bot takes (``redis://…``, ``sqlite:///…``; WXHOOK_STORE by default, else process memory).

    Each call (token fetch and one token refresh included) ends within ``retry_deadline`` seconds, each
    attempt within ``timeout``; an answer longer than ``max_response_size`` bytes (default
    :data:`DEFAULT_MAX_RESPONSE_SIZE`) is not read further and raises ``ResponseTooLargeError``. Constructing
    a Client masks access tokens and secrets in httpx's request log lines (:func:`wxhook.logs.install_redaction`).
    """

    def __init__(
        self,
        appid: str | None = None,
        secret: str | None = None,
        *,
        store: str | Store | None = None,
        api_base: str | None = None,
        domains: Sequence[str] | None = None,
        mp_base: str | None = None,
        open_base: str | None = None,
        token_mode: Literal["stable", "basic"] = "stable",
        token_provider: TokenProvider | None = None,
        timeout: float | httpx.Timeout = 10.0,
        max_retries: int = 3,
        backoff: float = 0.2,
        backoff_max: float = 2.0,
        retry_deadline: float = 15.0,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        token_margin: float = 60.0,
        lock_wait: float = 30.0,
    ) -> None:
        install_redaction()
        if token_mode not in ("stable", "basic"):
            raise ValueError(f"token_mode must be 'stable' (default) or 'basic', got {token_mode!r}")
        self.store = open_store(store if store is not None else setting(None, "WXHOOK_STORE"))
        self._owns_store = not isinstance(store, Store)
        self._owns_transport = True
        self._token_mode = token_mode
        self._token_margin = token_margin
        self._lock_wait = lock_wait
        self._transport = Transport(
            _domains(api_base, domains),
            setting(mp_base, "WXHOOK_MP_BASE") or MP_BASE,
            setting(open_base, "WXHOOK_OPEN_BASE") or OPEN_BASE,
            timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            RetryPolicy(max_retries, backoff, backoff_max, retry_deadline),
            max_response_size,
        )
        self._assemble(setting(appid, "WXHOOK_APPID"), setting(secret, "WXHOOK_SECRET"), token_provider, "token")

    def _assemble(self, appid: str | None, secret: str | None, token_provider: TokenProvider | None, kind: str,
                  token_param: str = "access_token", oauth: Callable[[Caller], OAuthAPI] = OAuthAPI) -> None:
        """The credentials, the token cache (under the store key ``wxhook:<kind>:<appid>``) and the API groups."""
        self._credentials = Credentials(appid, secret)
        fetch = token_provider or (self._stable_token if self._token_mode == "stable" else self._basic_token)
        token_margin, lock_wait = self._token_margin, self._lock_wait
        token = self._cache(kind, fetch, token_margin, lock_wait)
        self._caller = Caller(self._transport, token, self._credentials, token_param)
        self.template = TemplateAPI(self._caller)
        self.qrcode = QRCodeAPI(self._caller)
        self.user = UserAPI(self._caller)
        self.message = MessageAPI(self._caller)
        self.menu = MenuAPI(self._caller)
        self.media = MediaAPI(self._caller)
        self.tags = TagsAPI(self._caller)
        self.misc = MiscAPI(self._caller)
        self.shorturl = ShortURLAPI(self._caller)
        self.oauth = oauth(self._caller)
        self.draft = DraftAPI(self._caller)
        self.publish = PublishAPI(self._caller)
        self.material = MaterialAPI(self._caller)
        self.mass = MassAPI(self._caller)
        self.subscription = SubscriptionAPI(self._caller)
        self.customer_service = CustomerServiceAPI(self._caller)
        self.datacube = DatacubeAPI(self._caller)
        self.comment = CommentAPI(self._caller)
        self.ocr = OCRAPI(self._caller)
        self.ticket = TicketAPI(
            self._caller,
            lambda kind, fetcher: self._cache(f"ticket:{kind}", fetcher, token_margin, lock_wait),
        )
        self.card = CardAPI(self._caller)
        self.invoice = InvoiceAPI(self._caller, self.ticket)

    def sibling(
        self,
        appid: str,
        secret: str | None = None,
        *,
        token_provider: TokenProvider | None = None,
        store: Store | None = None,
        token_kind: str = "token",
        oauth: Callable[[Caller], OAuthAPI] = OAuthAPI,
    ) -> Client:
        """A client for another account that shares this one's connection pool, domains, timeouts and retries:
        what a bot serving many accounts makes per account. ``store`` defaults to this client's; ``token_kind``
        names the cached credential (``authorizer_token`` for a platform's authorizers, whose ``oauth`` is the
        platform's variant). Closing a sibling leaves the shared pool open: close the client it came from."""
        return self._sibling(appid, secret, token_provider, store, token_kind, "access_token", oauth)

    def _sibling(self, appid: str, secret: str | None, token_provider: TokenProvider | None, store: Store | None,
                 token_kind: str, token_param: str, oauth: Callable[[Caller], OAuthAPI]) -> Client:
        client = object.__new__(Client)
        client.store = store if store is not None else self.store
        client._owns_store = False
        client._owns_transport = False
        client._token_mode = self._token_mode
        client._token_margin = self._token_margin
        client._lock_wait = self._lock_wait
        client._transport = self._transport
        client._assemble(appid, secret, token_provider, token_kind, token_param, oauth)
        return client

    def component(self, appid: str, secret: str, ticket: Callable[[], Awaitable[str | None]],
                  no_ticket: Callable[[], Exception], *, store: Store | None = None) -> ComponentAPI:
        """A third-party platform's own API on this client's connections, its ``component_access_token`` cached in
        ``store`` (this client's by default) and fetched with what ``ticket`` reads (``no_ticket`` makes the error
        when there is none yet)."""
        api: ComponentAPI | None = None

        async def fetch(stale: str | None) -> AccessToken:
            assert api is not None
            return await api.component_token(stale)

        client = self._sibling(appid, secret, fetch, store, "component_token", "component_access_token", OAuthAPI)
        api = ComponentAPI(client._caller, client._credentials.secret, ticket, no_ticket)
        return api

    def _cache(self, kind: str, fetch: Fetcher, margin: float, lock_wait: float) -> CachedCredential:
        def key() -> str:
            return credential_key(kind, self._credentials.appid())

        return CachedCredential(self.store, key, fetch, margin=margin, lock_wait=lock_wait)

    @property
    def appid(self) -> str | None:
        return self._credentials.appid_value

    @property
    def domains(self) -> tuple[str, ...]:
        return self._transport.domains

    @property
    def token_fetches(self) -> int:
        """Access tokens this process fetched from WeChat (each one a refresh the others then share)."""
        return self._caller.token.fetches

    async def access_token(self) -> str:
        """The current access token (cached; fetched when missing), for APIs this client does not wrap."""
        return await self._caller.token.get()

    async def call(
        self,
        method: Literal["GET", "POST"],
        path: str,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        *,
        safe: bool | None = None,
    ) -> dict[str, Any]:
        """Any JSON API this client does not wrap yet, with the same token, healing, retries and errors.

        ``path`` is e.g. ``"/cgi-bin/message/mass/speed/get"``; ``params`` go in the query next to the
        token, ``body`` is sent as JSON (a POST without one sends ``{}``). ``safe`` says whether the call
        may be repeated after a failure that may have reached WeChat: by default a GET is, a POST is not,
        since a POST of unknown meaning may send or create something. Returns WeChat's JSON answer.
        """
        verb = method.upper()
        if verb not in ("GET", "POST"):
            raise ValueError(f"method must be 'GET' or 'POST', got {method!r}")
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/' and leave out the host, got {path!r}")
        if verb == "GET" and body is not None:
            raise ValueError("a GET carries no body; pass the fields as params=")
        repeatable = verb == "GET" if safe is None else safe
        if verb == "GET":
            return await self._caller.get(path, params, safe=repeatable)
        return await self._caller.post(path, body or {}, params=params, safe=repeatable)

    async def _stable_token(self, _stale: str | None) -> AccessToken:
        """stable_token leaves other holders of the appid's token alone, unlike cgi-bin/token."""
        body = {
            "grant_type": "client_credential",
            "appid": self._credentials.appid(),
            "secret": self._credentials.secret(),
            "force_refresh": False,
        }
        return issued(await self._caller.post("/cgi-bin/stable_token", body, with_token=False), "access_token")

    async def _basic_token(self, _stale: str | None) -> AccessToken:
        params = {
            "grant_type": "client_credential",
            "appid": self._credentials.appid(),
            "secret": self._credentials.secret(),
        }
        return issued(await self._caller.get("/cgi-bin/token", params, with_token=False), "access_token")

    async def aclose(self) -> None:
        """Close the connection pool, and the store when this client opened it from a URL (a ``Store``
        passed in belongs to whoever passed it and stays open)."""
        if self._owns_transport:
            await self._transport.aclose()
        if self._owns_store:
            await self.store.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
