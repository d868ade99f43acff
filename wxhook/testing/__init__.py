"""Test helpers for bots built on wxhook: a stand-in for the WeChat server that pushes messages."""

from ._bot_client import BotClient, BotReply, ReplyError

__all__ = ["BotClient", "BotReply", "ReplyError"]
