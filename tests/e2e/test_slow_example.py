"""examples/slow.py in-process: the fast handler answers directly; the slow one answers timeout_reply at the
deadline, shows "typing…", and its answer arrives through the customer-service API."""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import pytest

from wxhook import Text
from wxhook.testing import BotClient


def fresh_example(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    sys.modules.pop("examples.slow", None)
    slow = importlib.import_module("examples.slow")
    monkeypatch.setattr(slow, "THINKING_SECONDS", 1.0)
    monkeypatch.setattr(slow.bot, "deadline", 0.5)
    return slow


async def test_slow_answer_is_deferred_and_fast_one_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    slow = fresh_example(monkeypatch)
    async with BotClient(slow.bot) as wechat:
        assert wechat.appid == "wx2c2769f8efd9abc2" and wechat.token == "wxhook-slow"
        pong = await wechat.send_text("ping", openid="o_quick")
        assert pong.encrypted and pong.reply == Text("pong")
        assert wechat.deferred == []

        holding = await wechat.send_text("what is wxhook?", openid="o_patient")
        assert holding.encrypted
        assert holding.reply == Text("Thinking… the answer will follow in a moment.")
        answer = await wechat.next_deferred(timeout=10)
        assert answer.openid == "o_patient"
        assert answer.reply == Text("You asked “what is wxhook?”. After careful thought: 42.")
        assert wechat.fake is not None
        typing = wechat.fake.calls("/cgi-bin/message/custom/typing")
        assert [call.json for call in typing][:1] == [{"touser": "o_patient", "command": "Typing"}]
    assert slow.bot.stats["deadline_passed"] == 1 and slow.bot.stats["delivered"] == 1
