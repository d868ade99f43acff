"""examples/menu.py and menu.json: a valid menu whose every CLICK key is answered, and the same answers by
keyword — the console demo (`wxhook dev examples.menu:bot --menu examples/menu.json`), run in-process."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from wxhook import Article, News, Text
from wxhook.testing import BotClient, FakeWeChat

ROOT = Path(__file__).resolve().parents[2]
MENU = json.loads((ROOT / "examples" / "menu.json").read_text(encoding="utf-8"))


def fresh_example() -> ModuleType:
    sys.modules.pop("examples.menu", None)
    return importlib.import_module("examples.menu")


def leaves(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [leaf for b in buttons for leaf in b.get("sub_button", [b])]


async def test_menu_json_is_accepted_by_menu_create() -> None:
    async with FakeWeChat() as fake, fake.client() as client:
        await client.menu.create(MENU["button"])
        assert fake.menu is not None and fake.menu["button"] == MENU["button"]


async def test_every_click_key_and_keyword_is_answered() -> None:
    menu = fresh_example()
    clicks = [leaf["key"] for leaf in leaves(MENU["button"]) if leaf["type"] == "click"]
    assert sorted(clicks) == ["CONTACT", "HELP", "HOURS", "TODAY"]
    today = News([Article("Today: hand-pulled noodles", "Fresh from the kitchen at 11:30, while they last.",
                          "https://example.com/today", "https://example.com/noodles.jpg")])
    expected = {
        "TODAY": today,
        "HOURS": Text("We are open 9:00–18:00, Monday to Saturday."),
        "CONTACT": Text("Call 010-1234 5678, or write to hello@example.com."),
        "HELP": Text("Tap the menu below, or send one of: today, hours, contact."),
    }
    async with BotClient(menu.bot) as wechat:
        for key in clicks:
            assert (await wechat.send_event("CLICK", EventKey=key)).reply == expected[key], key
        for word, key in {"today": "TODAY", "hours": "HOURS", "contact": "CONTACT", "help": "HELP"}.items():
            assert (await wechat.send_text(word)).reply == expected[key], word
        website = await wechat.send_event("VIEW", EventKey="https://example.com/", MenuId=1)
        assert website.status == 200 and website.is_empty
        welcome = await wechat.send_event("subscribe")
        assert welcome.reply == Text("Welcome! Tap the menu below, or send one of: today, hours, contact.")
        assert (await wechat.send_text("what?")).reply == Text("Send 'help' to see what I can do.")
