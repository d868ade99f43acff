"""Which official account a push is for, and what is served per account.

An ``Account`` is one account's credentials, a value. A bot serves one account (built from its settings) or
many: accounts configured up front, accounts looked up by appid while serving (from a database), and a
third-party platform's authorizers. For each it keeps a ``ServedAccount``: the account, the store keys of its state,
the checks its pushes are opened with, and its API client. A push carries its ``ServedAccount`` through the
pipeline (``ctx.account``, ``ctx.api``), so nothing per account is process-global and nothing of one account
can serve another's message.
"""

from __future__ import annotations

import functools
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from .config import ConfigError
from .crypto import decode_aes_key
from .loops import SingleFlight

if TYPE_CHECKING:
    from .api import Client
    from .protocol import Inbound
    from .stores.keys import BotKeys

__all__ = ["Account", "AccountLookup", "AccountSource", "ServedAccount"]

APPID = re.compile(r"wx[0-9a-fA-F]{16}")
"""What an appid looks like: a path segment that does not is answered 404 without a lookup."""

AccountSource = Literal["configured", "looked up", "authorizer"]


@dataclass(frozen=True, slots=True)
class Account:
    """One official account's credentials, as its admin shows them (设置与开发 → 基本配置).

    ``token`` and ``aes_key`` (the 43-character EncodingAESKey, for safe and compatibility mode) check and open its
    pushes; ``secret`` (the AppSecret) fetches its access token for the API. ``original_id`` is the ``gh_…`` id
    pushes carry as ``ToUserName``; ``name`` is for people. ``source`` says where the bot got it: configured
    (``Bot(accounts=[...])`` or the one-account settings), looked up (``Bot(accounts=load)``), or an authorizer
    of the bot's third-party platform, whose pushes are checked with the platform's token and key and whose API
    calls use its authorizer token (so its ``token``, ``aes_key`` and ``secret`` are None). ``repr`` shows none
    of the secrets.
    """

    appid: str
    token: str | None = field(default=None, repr=False)
    aes_key: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    original_id: str | None = None
    name: str | None = None
    source: AccountSource = "configured"

    def __post_init__(self) -> None:
        if not isinstance(self.appid, str):
            raise ConfigError(f"Account(appid=...) takes the AppID string (wx…), got {type(self.appid).__name__}")
        if self.aes_key is not None:
            try:
                decode_aes_key(self.aes_key)
            except ValueError as exc:
                raise ConfigError(f"account {self.appid}: invalid EncodingAESKey ({exc}); copy the 43-character "
                                  "EncodingAESKey from the account's server configuration") from None

    @property
    def key(self) -> bytes | None:
        """The AES key behind ``aes_key``."""
        return None if self.aes_key is None else decode_aes_key(self.aes_key)

    def checked(self) -> Account:
        """This account, if it can be served on its own credentials: ConfigError naming it otherwise."""
        if not APPID.fullmatch(self.appid):
            raise ConfigError(f"account {self.appid!r}: an AppID is 'wx' and 16 hex digits, as the admin shows it")
        if not self.token:
            raise ConfigError(f"account {self.appid}: no token; give Account(token=...) the Token of its server "
                              "configuration (accounts never read WXHOOK_TOKEN)")
        return self


class ServedAccount:
    """One account as a bot serves it: ``account`` and ``api``, its API client (made when first used), what
    ``await bot.account(appid)`` gives outside a push; inside, the store keys of its state and the checks its
    pushes are opened with."""

    __slots__ = ("_client", "_make_client", "account", "inbound", "keys", "label")

    def __init__(self, account: Account, keys: BotKeys, inbound: Inbound,
                 make_client: Callable[[Account], Client], label: str = "") -> None:
        self.account = account
        self.keys = keys
        self.inbound = inbound
        self.label = label
        """What the message log and the metrics call the account: its appid, or nothing for a one-account bot."""
        self._make_client = make_client
        self._client: Client | None = None

    @property
    def api(self) -> Client:
        if self._client is None:
            self._client = self._make_client(self.account)
        return self._client

    @property
    def client(self) -> Client | None:
        """The API client if one was made (or set), without making one."""
        return self._client

    @client.setter
    def client(self, client: Client | None) -> None:
        self._client = client


Load = Callable[[str], Awaitable["Account | None"]]
"""``async def load(appid) -> Account | None``: an account by appid (from a database), None when there is none."""


class AccountLookup:
    """Accounts found by appid while serving: ``Bot(accounts=AccountLookup(load, ttl=60))``, or just
    ``Bot(accounts=load)``.

    A found account is kept ``ttl`` seconds (a removed one is served until then), "none" for ``miss_ttl`` seconds
    (an added one is served within that time; meanwhile a flood of pushes for unknown appids costs no lookups).
    At most ``capacity`` accounts of each kind are remembered, the least recently used forgotten first. One appid
    is looked up by one call at a time.
    """

    def __init__(self, load: Load, *, ttl: float = 60.0, miss_ttl: float = 5.0, capacity: int = 10_000) -> None:
        if not callable(load):
            raise ConfigError("AccountLookup(load) takes an async function appid -> Account | None")
        for name, value in (("ttl", ttl), ("miss_ttl", miss_ttl)):
            if value <= 0:
                raise ConfigError(f"AccountLookup({name}=...) must be a positive number of seconds, got {value}")
        if capacity < 1:
            raise ConfigError(f"AccountLookup(capacity=...) must be at least 1, got {capacity}")
        self.load = load
        self.ttl = ttl
        self.miss_ttl = miss_ttl
        self.capacity = capacity


class _Recent:
    """A bounded map whose entries expire: what lookups found, and what they did not."""

    __slots__ = ("_capacity", "_items")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, tuple[float, ServedAccount | None]] = OrderedDict()

    def get(self, appid: str, now: float) -> tuple[bool, ServedAccount | None]:
        """(found, value): whether a live entry exists, and what it holds (None: known not to exist)."""
        item = self._items.get(appid)
        if item is None:
            return False, None
        if item[0] <= now:
            del self._items[appid]
            return False, None
        self._items.move_to_end(appid)
        return True, item[1]

    def put(self, appid: str, value: ServedAccount | None, until: float) -> None:
        self._items[appid] = (until, value)
        self._items.move_to_end(appid)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def values(self) -> list[ServedAccount]:
        return [value for _, value in self._items.values() if value is not None]


class Registry:
    """The accounts one bot serves, by appid: configured ones, then looked-up ones, then (with a platform) any
    other well-formed appid as an authorizer. ``make`` builds the ``ServedAccount`` of an account; ``authorizer`` that
    of an appid authorized through the platform."""

    def __init__(
        self,
        make: Callable[[Account], ServedAccount],
        configured: Iterable[Account] = (),
        lookup: AccountLookup | None = None,
        authorizer: Callable[[str], ServedAccount] | None = None,
    ) -> None:
        self._make = make
        self.configured: dict[str, ServedAccount] = {}
        for account in configured:
            if account.appid in self.configured:
                raise ConfigError(f"account {account.appid} is configured twice in Bot(accounts=[...])")
            self.configured[account.appid] = make(account.checked())
        self._lookup = lookup
        self._authorizer = authorizer
        capacity = lookup.capacity if lookup is not None else 10_000
        self._found = _Recent(capacity)
        self._missing = _Recent(capacity)
        self._authorizers = _Recent(capacity)
        self._loading: SingleFlight[str, ServedAccount | None] = SingleFlight()

    def cached(self, appid: str) -> ServedAccount | None:
        """The account if it is known without a lookup (configured, or remembered)."""
        served = self.configured.get(appid)
        if served is not None:
            return served
        now = time.monotonic()
        for recent in (self._found, self._authorizers):
            hit, value = recent.get(appid, now)
            if hit:
                return value
        return None

    async def resolve(self, appid: str) -> ServedAccount | None:
        """The account pushes to ``/{appid}`` are for, or None (answered 404)."""
        served = self.configured.get(appid)
        if served is not None:
            return served
        if not APPID.fullmatch(appid):
            return None
        if self._lookup is not None:
            served = await self._looked_up(appid, self._lookup)
            if served is not None:
                return served
        if self._authorizer is None:
            return None
        now = time.monotonic()
        hit, served = self._authorizers.get(appid, now)
        if not hit or served is None:
            served = self._authorizer(appid)
            self._authorizers.put(appid, served, now + 3600.0)
        return served

    async def _looked_up(self, appid: str, lookup: AccountLookup) -> ServedAccount | None:
        now = time.monotonic()
        for recent in (self._found, self._missing):
            hit, value = recent.get(appid, now)
            if hit:
                return value
        return await self._loading.run(appid, functools.partial(self._load, appid, lookup))

    async def _load(self, appid: str, lookup: AccountLookup) -> ServedAccount | None:
        account = await lookup.load(appid)
        now = time.monotonic()
        if account is None:
            self._missing.put(appid, None, now + lookup.miss_ttl)
            return None
        if not isinstance(account, Account):
            raise ConfigError(f"the account lookup returned {type(account).__name__} for {appid}; return an "
                              "Account(...) or None")
        if account.appid != appid:
            raise ConfigError(f"the account lookup asked for {appid} returned the account {account.appid}")
        served = self._make(replace(account, source="looked up").checked())
        self._found.put(appid, served, now + lookup.ttl)
        return served

    def known(self) -> list[ServedAccount]:
        """The configured accounts and those remembered now."""
        return [*self.configured.values(), *self._found.values(), *self._authorizers.values()]
