from typing import Any

import pytest

from wxhook import Bot, Context, MemoryStore, Message, parse_message
from wxhook.session import load_session


class CountingStore(MemoryStore):
    """A real memory store that counts the writes reaching it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self.writes.append(key)
        await super().set(key, value, ttl)

    async def delete(self, key: str) -> None:
        self.writes.append(f"delete {key}")
        await super().delete(key)


async def test_saved_only_when_changed_including_nested_values() -> None:
    store = CountingStore()
    session = await load_session(store, "s")
    await session.save(store, 60)
    assert store.writes == []  # empty and untouched
    session["cart"] = ["tea"]
    await session.save(store, 60)
    await session.save(store, 60)
    assert store.writes == ["s"]
    again = await load_session(store, "s")
    assert again["cart"] == ["tea"]
    await again.save(store, 60)
    assert store.writes == ["s"]
    again["cart"].append("coffee")  # nested mutation is seen
    await again.save(store, 60)
    assert store.writes == ["s", "s"]
    again.clear()
    await again.save(store, 60)
    assert store.writes[-1] == "delete s" and await store.get("s") is None


async def test_values_must_be_json() -> None:
    store = CountingStore()
    session = await load_session(store, "s")
    session["when"] = object()
    with pytest.raises(TypeError, match="JSON-serialisable"):
        await session.save(store, 60)


def text(openid: str, content: str) -> Message:
    return parse_message({"ToUserName": "gh", "FromUserName": openid, "CreateTime": "1", "MsgType": "text",
                          "Content": content, "MsgId": "1"})


async def test_handlers_that_only_read_the_session_cause_no_write() -> None:
    store = CountingStore()
    bot = Bot(token="t", store=store, session_ttl=120)

    @bot.on_text("remember")
    def remember(msg: Message, ctx: Context) -> None:
        ctx.session["seen"] = True

    @bot.on_text("ask")
    def ask(msg: Message, ctx: Context) -> str:
        return "yes" if ctx.session.get("seen") else "no"

    assert (await bot.handle(text("o_a", "ask"))).content == "no"  # type: ignore[union-attr]
    assert store.writes == []
    await bot.handle(text("o_a", "remember"))
    assert len(store.writes) == 1 and store.writes[0].endswith(":session:o_a")
    assert (await bot.handle(text("o_a", "ask"))).content == "yes"  # type: ignore[union-attr]
    assert (await bot.handle(text("o_b", "ask"))).content == "no"  # type: ignore[union-attr]
    assert len(store.writes) == 1


async def test_sessions_can_be_turned_off() -> None:
    bot = Bot(token="t", sessions=False)
    seen: list[Any] = []

    @bot.on_text
    def handler(msg: Message, ctx: Context) -> None:
        with pytest.raises(RuntimeError, match="sessions=True"):
            ctx.session  # noqa: B018
        seen.append(True)

    await bot.handle(text("o", "x"))
    assert seen == [True]
