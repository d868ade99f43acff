"""Test helpers for bots built on wxhook: ``BotClient`` pushes messages to a bot the way the WeChat server does
(in-process, or to a URL), ``serve`` runs a bot under a real uvicorn, and ``FakeWeChat`` is a fake WeChat API on
loopback, for many accounts (``FakeAccount``) and as the open platform of a third-party platform
(``FakePlatform``); ``start_afresh(bot)`` leaves nothing of an earlier test in a bot. The pytest plugin
(``wxhook.testing.pytest_plugin``) turns them into the ``wechat`` and ``bot_client`` fixtures."""

from ..protocol import render_message as message_xml
from ._bot_client import BotClient, BotReply, ReplyError, SyncBotClient
from ._fake_account import FakeAccount
from ._fake_component import AuthorizationRecord, EventPush
from ._fake_platform import Authorized, FakePlatform
from ._fake_release import ReleaseCase, ReleaseReport
from ._fake_state import RecordedCall
from ._in_process import start_afresh
from ._replies import DeferredReply
from ._serve import serve
from .fake_wechat import FakeWeChat

__all__ = [
    "AuthorizationRecord",
    "Authorized",
    "BotClient",
    "BotReply",
    "DeferredReply",
    "EventPush",
    "FakeAccount",
    "FakePlatform",
    "FakeWeChat",
    "RecordedCall",
    "ReleaseCase",
    "ReleaseReport",
    "ReplyError",
    "SyncBotClient",
    "message_xml",
    "serve",
    "start_afresh",
]
