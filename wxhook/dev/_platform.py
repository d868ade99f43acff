"""The console's FakeWeChat playing the open platform for the bot's third-party platform: the ticket the bot needs
for a component token, accounts authorizing it, and authorizations revoked, each pushed to the bot's
``/wechat/events`` as WeChat would."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from ..platform import Platform
from ..testing import EventPush, FakeAuthorization, FakeWeChat


class ConsolePlatform:
    """The open platform's side, on the bot's platform credentials: ``play`` is the fake's ``FakePlatform``.

    The console learns its own address from the first request it serves, so the events URL is set and the first
    ticket pushed then (``ready``), before anything needs a component token.
    """

    def __init__(self, fake: FakeWeChat, config: Platform) -> None:
        self.play = fake.platform(appid=config.component_appid, secret=config.component_secret,
                                  token=config.component_token, aes_key=config.encoding_aes_key)
        self._lock = asyncio.Lock()
        self._ticket = False
        self.error: str | None = None
        """Why the last ticket push failed; None once one succeeded."""

    async def ready(self, bot_url: str) -> None:
        """Point the platform's pushes at ``{bot_url}events`` and push a ticket, until one is answered ``success``."""
        async with self._lock:
            if self._ticket:
                return
            self.play.events_url = f"{bot_url}events"
            push = await self.play.push_ticket()
            self._ticket, self.error = push.ok, refusal(push)

    async def authorize(self, name: str) -> FakeAuthorization:
        """A new account (a fresh appid and gh_ id) authorizes the platform; the bot gets the ``authorized`` push
        and exchanges its code against the fake."""
        appid, original_id = "wx" + secrets.token_hex(8), "gh_" + secrets.token_hex(6)
        return await self.play.authorize(appid, original_id=original_id, name=name or None)

    async def revoke(self, appid: str) -> EventPush | None:
        """The authorizer revokes the authorization: the bot gets the ``unauthorized`` push. ValueError when
        ``appid`` has no live authorization."""
        return await self.play.unauthorize(appid)

    def describe(self) -> dict[str, Any]:
        return {"appid": self.play.appid, "events_url": self.play.events_url, "error": self.error}


def refusal(push: EventPush | None) -> str | None:
    """What went wrong with a push the bot should have answered ``success``; None when it did."""
    if push is None or push.ok:
        return None
    if push.status is None:
        return f"the {push.info_type} push did not reach the bot: {push.error}"
    answer = push.body[:200].decode("utf-8", errors="replace").strip()
    return f"the bot answered the {push.info_type} push with HTTP {push.status} {answer!r}, not success"
