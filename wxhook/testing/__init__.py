"""Test helpers for bots built on wxhook: a stand-in for the WeChat server that pushes messages (BotClient)
and a fake WeChat API on loopback (FakeWeChat)."""

from ._bot_client import BotClient, BotReply, ReplyError
from ._fake_state import RecordedCall
from .fake_wechat import FakeWeChat

__all__ = ["BotClient", "BotReply", "FakeWeChat", "RecordedCall", "ReplyError"]
