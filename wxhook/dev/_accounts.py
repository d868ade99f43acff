"""The accounts a follower can chat with in the console: the bot's own (its one account, or each of
``accounts=[...]``) and its platform's authorizers. Each knows where its pushes go below the bot's mount point, how
WeChat signs and seals them, and where its data lives in the console's FakeWeChat (the pictures a follower sends,
the menu the bot creates, the customer-service sends it is recorded with)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ..accounts import AccountSource, ServedAccount
from ..app import Bot
from ..testing import BotClient, FakeAccount, FakePlatform, FakeWeChat

Mode = Literal["plain", "compat", "safe"]
"""How WeChat pushes: in the clear (明文), both in the clear and sealed (兼容), sealed (安全)."""
MODES: tuple[Mode, ...] = ("plain", "compat", "safe")

Connect = Callable[[str, Mode], BotClient]
"""A client pushing to the account: given the bot's URL (``http://host:port/wechat/``) and the mode."""


@dataclass(frozen=True)
class ConsoleAccount:
    """One account the page can pick. ``appid`` names it to the page and the API ("" for a one-account bot without
    an appid); ``path`` is its push URL below the bot's mount point ("" for a one-account bot). ``modes``: how its
    pushes can come, as the bot serves them (sealed ones need its EncodingAESKey and appid; plaintext ones are
    refused once it has a key, unless ``allow_plaintext``; an authorizer's are always sealed)."""

    appid: str
    name: str | None
    source: AccountSource
    path: str
    modes: tuple[Mode, ...]
    data: FakeWeChat | FakeAccount
    """Its account in the console's FakeWeChat: its media, its menu; calls for it are recorded with its appid."""
    client: Connect = field(repr=False)
    """A client pushing to this account as WeChat would, sealed or not."""
    revoked: bool = False


def own_accounts(bot: Bot, fake: FakeWeChat) -> list[ConsoleAccount]:
    """The bot's accounts on their own credentials. A one-account bot's account is the fake's own (``bot.api``
    becomes ``fake.client()``); each of many is registered with the fake under its appid and secret, so its API
    client gets tokens of its own there (without a secret it still gets passive replies)."""
    if not bot.serves_many:
        return [_own(bot.configured_accounts[0], "", fake)]
    accounts = []
    for served in bot.configured_accounts:
        account = served.account
        data = fake.add_account(account.appid, account.secret, original_id=account.original_id, name=account.name)
        accounts.append(_own(served, account.appid, data))
    return accounts


def _own(served: ServedAccount, path: str, data: FakeWeChat | FakeAccount) -> ConsoleAccount:
    account = served.account
    token = account.token or ""  # a served account has one (Account.checked, or the one-account settings)

    def connect(bot_url: str, mode: Mode) -> BotClient:
        return BotClient(bot_url + path, token=token, appid=account.appid or None,
                         aes_key=None if mode == "plain" else account.aes_key, compatible=mode == "compat",
                         account=account.original_id or data.original_id)

    sealed = account.aes_key is not None and bool(account.appid)
    modes = tuple(mode for mode in MODES if (served.inbound.plaintext_allowed if mode == "plain" else sealed))
    return ConsoleAccount(account.appid, account.name, account.source, path, modes, data=data, client=connect)


def authorizers(platform: FakePlatform, fake: FakeWeChat) -> list[ConsoleAccount]:
    """The accounts that authorized the platform in the fake, revoked ones too: their pushes are signed and sealed
    with the platform's token, key and appid, ``ToUserName`` their gh_ id (``FakePlatform.bot_client``)."""
    accounts = []
    for appid, grant in platform.authorizations.items():
        def connect(bot_url: str, mode: Mode, appid: str = appid) -> BotClient:
            return platform.bot_client(bot_url + "$APPID$", appid)  # sealed: always

        data = fake.account(appid)
        accounts.append(ConsoleAccount(appid, data.name, "authorizer", appid, ("safe",), data=data, client=connect,
                                       revoked=grant.revoked))
    return accounts
