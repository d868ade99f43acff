"""The 全网发布 (release) check WeChat runs against a third-party platform before it goes live (open-platform.md §4),
played by the fake against a bot over real HTTP.

In order: a ticket push answered ``success``; one of the five test official accounts authorizes the platform
(the ``authorized`` push answered ``success``); a fan's ``TESTCOMPONENT_MSG_TYPE_TEXT`` answered passively with
``TESTCOMPONENT_MSG_TYPE_TEXT_callback``; a fan's ``QUERY_AUTH_CODE:<code>`` answered empty (or ``success``) within
5 s, then ``api_query_auth`` with that code and a customer-service text ``<code>_from_api`` to the fan with the
authorizer token that exchange returned. Two optional cases follow, which older runs included and WeChat's current
page no longer lists: an event (``LOCATION``) answered passively with ``LOCATIONfrom_callback``, and the
``unauthorized`` push answered ``success``. The mini-program case is not played (its wording is unverified).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from . import _bot_client
from ._fake_component import Component, EventPush
from ._fake_state import random_id
from ._replies import CUSTOM_SEND

if TYPE_CHECKING:
    from ._bot_client import BotClient, BotReply
    from ._fake_platform import FakePlatform
    from .fake_wechat import FakeWeChat

__all__ = ["ReleaseCase", "ReleaseReport"]

TEST_ACCOUNTS = {
    1: ("wx570bc396a51b8ff8", "gh_3c884a361561"),
    2: ("wx9252c5e0bb1836fc", "gh_c0f28a78b318"),
    3: ("wx8e1097c5bc82cde9", "gh_3f222ed8d140"),
    4: ("wx14550af28c71a144", "gh_26128078e9ab"),
    5: ("wxa35b9c23cfe664eb", "gh_2b3713f184a6"),
}
"""The test official accounts of the five groups: appid, original id."""
TEXT = "TESTCOMPONENT_MSG_TYPE_TEXT"
QUERY_AUTH_CODE = "QUERY_AUTH_CODE:"
ANSWER_WITHIN = 5.0
_QUERY_AUTH = "/cgi-bin/component/api_query_auth"
_POLL = 0.05


@dataclass(frozen=True)
class ReleaseCase:
    """One step of the check: whether the bot passed it, and what it did."""

    name: str
    ok: bool
    detail: str
    required: bool = True
    """False for the cases WeChat's current page no longer lists; ``report.passed`` does not count them."""


@dataclass(frozen=True)
class ReleaseReport:
    """What :meth:`FakePlatform.release_test` found; ``str(report)`` lists every case, for an assertion message."""

    group: int
    appid: str
    cases: tuple[ReleaseCase, ...]

    @property
    def passed(self) -> bool:
        """Every required case passed."""
        return all(case.ok for case in self.cases if case.required)

    def case(self, name: str) -> ReleaseCase:
        return next(case for case in self.cases if case.name == name)

    def __str__(self) -> str:
        lines = [f"全网发布 with test group {self.group} ({self.appid}): {'passed' if self.passed else 'FAILED'}"]
        for case in self.cases:
            mark = "ok  " if case.ok else ("FAIL" if case.required else "fail (optional)")
            lines.append(f"  {mark} {case.name}: {case.detail}")
        return "\n".join(lines)


def _answered(name: str, push: EventPush | None, *, required: bool = True) -> ReleaseCase:
    if push is not None and push.ok:
        return ReleaseCase(name, True, f"{push.info_type} push answered success", required)
    if push is None or push.status is None:
        return ReleaseCase(name, False, f"the push got no answer: {push.error if push else 'not pushed'}", required)
    return ReleaseCase(name, False, f"{push.info_type} push answered HTTP {push.status} {push.body[:120]!r}, "
                                    "not the literal success", required)


async def _send(name: str, send: Awaitable[BotReply], *, required: bool = True) -> BotReply | ReleaseCase:
    """The bot's reply, or the failed case when it gave none WeChat could read."""
    try:
        return await send
    except httpx.TimeoutException:
        return ReleaseCase(name, False, f"no answer within {ANSWER_WITHIN:g} s", required)
    except (httpx.HTTPError, _bot_client.ReplyError) as exc:
        return ReleaseCase(name, False, f"{type(exc).__name__}: {exc}", required)


def _passive(name: str, reply: BotReply, fan: str, original_id: str, expected: str, *,
             required: bool = True) -> ReleaseCase:
    """The reply must be a text of exactly ``expected``, from the test account to the fan, sealed."""
    if reply.status != 200:
        return ReleaseCase(name, False, f"HTTP {reply.status} {reply.body[:120]!r}", required)
    if reply.msg_type != "text" or reply.content != expected:
        got = "an empty answer" if reply.is_empty else f"a {reply.msg_type} reply {reply.content!r}"
        return ReleaseCase(name, False, f"expected the passive text {expected!r}, got {got}", required)
    if (reply.fields.get("ToUserName"), reply.fields.get("FromUserName")) != (fan, original_id):
        return ReleaseCase(name, False, f"the reply goes to {reply.fields.get('ToUserName')!r} from "
                                        f"{reply.fields.get('FromUserName')!r}, not to the fan from {original_id}",
                           required)
    return ReleaseCase(name, True, f"passive text {expected!r}, sealed with the component's key", required)


async def _api_case(wechat: BotClient, fake: FakeWeChat, component: Component, code: str, fan: str,
                    within: float) -> ReleaseCase:
    name = "api reply"
    loop = asyncio.get_running_loop()
    started = loop.time()
    reply = await _send(name, wechat.send_text(QUERY_AUTH_CODE + code, fan))
    if isinstance(reply, ReleaseCase):
        return reply
    if reply.status != 200 or not reply.is_empty:
        return ReleaseCase(name, False, f"answered HTTP {reply.status} with a {reply.msg_type or 'body'} "
                                        f"{reply.content or reply.body[:120]!r}: it must answer an empty string (or "
                                        "success) at once and reply through the customer-service API")
    content = f"{code}_from_api"
    expected = {"touser": fan, "msgtype": "text", "text": {"content": content}}
    while True:
        with component.shared.lock:
            token = component.codes[code].token
        exchanged = any(isinstance(call.json, dict) and call.json.get("authorization_code") == code
                        for call in fake.calls(_QUERY_AUTH))
        sends = [call for call in fake.calls(CUSTOM_SEND) if call.json and call.json.get("touser") == fan]
        if token is not None and any(call.query.get("access_token") == token and call.json == expected
                                     for call in sends):
            return ReleaseCase(name, True, f"empty answer, then api_query_auth and the customer-service text "
                                           f"{code[:24]}…_from_api with that exchange's authorizer token")
        if loop.time() - started > within:
            break
        await asyncio.sleep(_POLL)
    if not exchanged:
        return ReleaseCase(name, False, f"no api_query_auth with the code within {within:g} s")
    if token is None:
        return ReleaseCase(name, False, "api_query_auth with the code did not succeed (see fake.calls)")
    mine = [call.json for call in sends if call.query.get("access_token") == token]
    return ReleaseCase(name, False, f"no customer-service text {content[:24]}…_from_api to the "
                                    f"fan with the authorizer token from that exchange within {within:g} s; with "
                                    f"it: {mine or 'nothing'}, with other tokens: {len(sends) - len(mine)} sends")


async def run(platform: FakePlatform, fake: FakeWeChat, component: Component, message_url: str, events_url: str,
              group: int | None, within: float) -> ReleaseReport:
    """The check against the bot at ``events_url`` and ``message_url`` (``$APPID$`` becomes the test appid)."""
    group = random.randint(1, len(TEST_ACCOUNTS)) if group is None else group
    if group not in TEST_ACCOUNTS:
        raise ValueError(f"group is 1 to {len(TEST_ACCOUNTS)} (or None, for one at random), not {group}")
    appid, original_id = TEST_ACCOUNTS[group]
    fan = "o" + random_id(27)
    cases = [_answered("ticket", await platform.push_ticket(events_url))]
    authorized = await platform.authorize(appid, original_id=original_id, name=f"全网发布测试{group}",
                                          events_url=events_url)
    cases.append(_answered("authorized", authorized.push))
    async with platform.bot_client(message_url, appid, timeout=ANSWER_WITHIN) as wechat:
        reply = await _send("text reply", wechat.send_text(TEXT, fan))
        cases.append(reply if isinstance(reply, ReleaseCase)
                     else _passive("text reply", reply, fan, original_id, TEXT + "_callback"))
        cases.append(await _api_case(wechat, fake, component, platform.authorization_code(appid), fan, within))
        location = wechat.send_event("LOCATION", fan, Latitude=23.137466, Longitude=113.352425, Precision=119.385)
        reply = await _send("event reply", location, required=False)
        cases.append(reply if isinstance(reply, ReleaseCase)
                     else _passive("event reply", reply, fan, original_id, "LOCATIONfrom_callback", required=False))
    cases.append(_answered("unauthorized", await platform.unauthorize(appid, events_url=events_url), required=False))
    return ReleaseReport(group, appid, tuple(cases))
