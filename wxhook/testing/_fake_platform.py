"""``FakePlatform``: a FakeWeChat playing the open platform for one third-party platform (component) under test —
the side that pushes tickets and authorization events to the bot, and the authorizations it keeps."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _bot_client, _fake_release
from ._fake_component import CODE_TTL, DEFAULT_FUNC_INFO, AuthorizationRecord, Component, EventPush, Merchant
from ._fake_push import deliver
from ._fake_state import Fault

if TYPE_CHECKING:
    from ._bot_client import BotClient
    from ._fake_release import ReleaseReport
    from .fake_wechat import FakeWeChat

__all__ = ["FakeAuthorization", "FakePlatform"]


@dataclass(frozen=True)
class FakeAuthorization:
    """An authorization :meth:`FakePlatform.authorize` made (or updated): the code its push carried."""

    appid: str
    code: str
    expires_in: int
    pre_auth_code: str
    info_type: str
    """``authorized`` or ``updateauthorized``."""
    push: EventPush | None
    """The push and the bot's answer; None with ``push=False``."""


class FakePlatform:
    """The open platform, for the component ``appid``: get one with ``fake.platform(...)``.

    It serves the component APIs (``/cgi-bin/component/...``) and the authorization pages on the fake's URL, and
    pushes to the bot's authorization-event URL (``events_url``) sealed with the component's ``token``,
    ``aes_key`` and ``appid``. Its authorizers are accounts of the fake (``fake.account(appid)``): their
    authorizer tokens work on every official-account endpoint, and calls made with them are recorded with the
    authorizer's appid.
    """

    def __init__(self, fake: FakeWeChat, component: Component, lock: threading.Lock) -> None:
        self._fake = fake
        self._component = component
        self._lock = lock

    def __repr__(self) -> str:
        return f"FakePlatform(appid={self.appid!r})"

    @property
    def appid(self) -> str:
        return self._component.appid

    @property
    def secret(self) -> str:
        return self._component.secret

    @property
    def token(self) -> str:
        """The message-check token pushes are signed with."""
        return self._component.token

    @property
    def aes_key(self) -> str:
        """The EncodingAESKey pushes (and the authorizers' messages) are sealed with."""
        return self._component.aes_key

    @property
    def events_url(self) -> str | None:
        """The bot's authorization-event URL (授权事件接收URL), used when a method is given none."""
        with self._lock:
            return self._component.events_url

    @events_url.setter
    def events_url(self, url: str | None) -> None:
        with self._lock:
            self._component.events_url = url

    @property
    def push_delay(self) -> float | None:
        """When the authorization page pushes ``authorized``: None (the default) before it redirects, having
        waited for the bot's answer; a number of seconds: that long after redirecting at once."""
        with self._lock:
            return self._component.push_delay

    @push_delay.setter
    def push_delay(self, seconds: float | None) -> None:
        with self._lock:
            self._component.push_delay = seconds

    @property
    def ticket(self) -> str | None:
        """The latest component_verify_ticket, or None before the first."""
        with self._lock:
            return self._component.tickets[-1][0] if self._component.tickets else None

    @property
    def authorizations(self) -> dict[str, AuthorizationRecord]:
        """Every authorization by appid (copies): refresh token, permission sets, exchanged, revoked."""
        with self._lock:
            return {appid: dataclasses.replace(grant, options=dict(grant.options))
                    for appid, grant in self._component.authorizations.items()}

    @property
    def pushes(self) -> list[EventPush]:
        """Every push made to the authorization-event URL (the background ones too), oldest first."""
        with self._lock:
            return list(self._component.pushes)

    def _url(self, events_url: str | None) -> str:
        url = events_url or self.events_url
        if url is None:
            raise ValueError("no authorization-event URL: pass events_url= or set platform.events_url")
        return url

    def _live(self, appid: str) -> AuthorizationRecord:
        try:
            return self._component.live(appid)
        except Fault:
            raise ValueError(f"{appid} has no live authorization of platform {self.appid}: "
                             "await platform.authorize(appid) first") from None

    # -- tickets ---------------------------------------------------------------------------------------

    def new_ticket(self) -> str:
        """A new ticket, as a push the bot missed would leave: ``api_component_token`` takes it from now on (and
        the one before it for a while)."""
        with self._lock:
            return self._component.new_ticket()

    async def push_ticket(self, events_url: str | None = None) -> EventPush:
        """Push a new ``component_verify_ticket``; returns the push with the bot's answer (``push.ok``: it
        answered ``success``)."""
        url = self._url(events_url)
        with self._lock:
            fields = self._component.ticket_event()
        return await deliver(self._component, url, fields)

    # -- authorizations --------------------------------------------------------------------------------

    def sign_in_merchant(self, appid: str, *, original_id: str | None = None, name: str | None = None,
                         func_info: Sequence[int] = DEFAULT_FUNC_INFO) -> None:
        """Who the authorization pages (``/cgi-bin/componentloginpage``, ``/safe/bindcomponent``) find signed in:
        the official account that authorizes there, with the permission sets it grants."""
        with self._lock:
            self._component.account(appid, original_id, name)
            self._component.merchant = Merchant(appid, original_id, name, tuple(func_info))

    def authorization_code(self, appid: str) -> str:
        """A fresh authorization code for the live authorization of ``appid`` (10 minutes, once), without a push."""
        with self._lock:
            self._live(appid)
            return self._component.new_code(appid)

    async def _grant(self, merchant: Merchant, renew: bool, events_url: str | None, push: bool) -> FakeAuthorization:
        url = self._url(events_url) if push else None
        with self._lock:
            info_type, code = self._component.grant(merchant, renew=renew)
            pre_auth_code = self._component.new_pre_auth_code()
            self._component.take_pre_auth_code(pre_auth_code)  # spent on this authorization
            fields = self._component.authorization_event(info_type, code, pre_auth_code)
        sent = await deliver(self._component, url, fields) if url is not None else None
        return FakeAuthorization(merchant.appid, code, CODE_TTL, pre_auth_code, info_type, sent)

    async def authorize(self, appid: str, *, original_id: str | None = None, name: str | None = None,
                        func_info: Sequence[int] = DEFAULT_FUNC_INFO, events_url: str | None = None,
                        push: bool = True) -> FakeAuthorization:
        """The account ``appid`` authorizes the platform, as if through the authorization page: registered as an
        account of the fake on first use (``original_id``, ``name``), a new authorization (any earlier one, its
        refresh token and tokens end), a code, and the ``authorized`` push (unless ``push=False``)."""
        return await self._grant(Merchant(appid, original_id, name, tuple(func_info)), True, events_url, push)

    async def update_authorization(self, appid: str, *, func_info: Sequence[int] | None = None,
                                   events_url: str | None = None, push: bool = True) -> FakeAuthorization:
        """The authorizer changes the permission sets it grants: same refresh token, a new code, the
        ``updateauthorized`` push."""
        with self._lock:
            granted = self._live(appid).func_info
        merchant = Merchant(appid, None, None, granted if func_info is None else tuple(func_info))
        return await self._grant(merchant, False, events_url, push)

    async def unauthorize(self, appid: str, *, events_url: str | None = None, push: bool = True) -> EventPush | None:
        """The authorizer revokes the authorization: its tokens get 40001, its refresh token 61023, its codes
        61009; then the ``unauthorized`` push (unless ``push=False``)."""
        url = self._url(events_url) if push else None
        with self._lock:
            self._live(appid)
            self._component.revoke(appid)
            fields = self._component.event("unauthorized", AuthorizerAppid=appid)
        return await deliver(self._component, url, fields) if url is not None else None

    # -- the authorizers' messages ---------------------------------------------------------------------

    def bot_client(self, message_url: str, appid: str, **options: Any) -> BotClient:
        """A :class:`BotClient` that pushes messages of the authorizer ``appid`` as WeChat does for a platform: to
        ``message_url`` (as entered in the platform's settings: ``$APPID$`` becomes the appid; without it every
        authorizer's messages go to that one URL), ``ToUserName`` the authorizer's gh_ id, sealed with the
        component's token, key and appid; replies are opened with them. ``options`` go to ``BotClient``."""
        with self._lock:
            self._live(appid)
            original_id = self._component.shared.accounts[appid].original_id
        return _bot_client.BotClient(message_url.replace("$APPID$", appid), token=self.token, appid=self.appid,
                                     aes_key=self.aes_key, account=original_id, **{"fake": self._fake, **options})

    async def release_test(self, message_url: str, *, events_url: str | None = None, group: int | None = None,
                           within: float = 10.0) -> ReleaseReport:
        """Run WeChat's 全网发布 check against the bot (see ``_fake_release``): ``group`` 1–5 picks the test
        account (None: one at random, as WeChat does), ``within`` is how long the bot has to send the
        customer-service reply of the QUERY_AUTH_CODE case."""
        return await _fake_release.run(self, self._fake, self._component, message_url, self._url(events_url), group,
                                       within)
