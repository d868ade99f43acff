"""Test helpers for bots built on wxhook: ``serve`` runs a bot under a real uvicorn, ``BotClient`` pushes
messages to it the way the WeChat server does, and ``FakeWeChat`` is a fake WeChat API on loopback."""

from ..protocol import render_message as message_xml
from ._bot_client import BotClient, BotReply, ReplyError
from ._fake_state import RecordedCall
from ._serve import serve
from .fake_wechat import FakeWeChat

__all__ = ["BotClient", "BotReply", "FakeWeChat", "RecordedCall", "ReplyError", "message_xml", "serve"]
