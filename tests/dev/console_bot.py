"""The bots the console tests chat with: one account's with every kind of reply, a slow handler past a short
deadline, and a handler that publishes a menu through the API; one naming the type of whatever it gets, in safe
mode only; and one serving many accounts and a platform's authorizers, answering with the account each message is
for."""

from __future__ import annotations

import asyncio

from wxhook import (
    Account,
    Article,
    Bot,
    ClickEvent,
    Context,
    Image,
    ImageMessage,
    LocationMessage,
    Message,
    Music,
    News,
    ScanEvent,
    SubscribeEvent,
    Text,
    TextMessage,
    ViewEvent,
)
from wxhook.platform import Platform

TOKEN = "console-token"
APPID = "wx2c2769f8efd9abc2"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>parent.__pwned = 1</script></svg>'
"""An "image" whose script, run on the console's origin, marks the page that framed it."""
PUBLISHED_MENU = [{"type": "click", "name": "Published", "key": "PUBLISHED"}]
SAFE = Account("wx1111111111111111", token="token-of-safe", aes_key=AES_KEY, secret="secret-of-safe",
               name="Safe shop")
PLAIN = Account("wx2222222222222222", token="token-of-plain", name="Plain shop")
"""No AppSecret: passive replies only."""
COMPONENT = Platform("wx9c0a0000000c0b01", "component-secret", "component-token",
                     "ComponentKeyComponentKeyComponentKeyCompon0")


def make_bot() -> Bot:
    bot = Bot(token=TOKEN, appid=APPID, aes_key=AES_KEY, deadline=0.5, allow_plaintext=True)

    @bot.on_text("slow")
    async def slow(msg: TextMessage) -> str:
        await asyncio.sleep(1)
        return "done thinking"

    @bot.on_text("news")
    def news(msg: TextMessage) -> News:
        return News([Article("Cover story", "The description", "https://example.com/a", "javascript:alert(1)")])

    @bot.on_text("music")
    def music(msg: TextMessage) -> Music:
        return Music("Song", "Singer", "https://example.com/a.mp3", "javascript:alert(2)", "THUMB")

    @bot.on_text("publish menu")
    async def publish(msg: TextMessage, ctx: Context) -> str:
        await ctx.api.menu.create(PUBLISHED_MENU)
        return "menu published"

    @bot.on_text
    def echo(msg: TextMessage) -> str:
        return msg.content or ""

    @bot.on_image
    def image(msg: ImageMessage) -> Image:
        return Image(msg.media_id or "")

    @bot.on_location
    def location(msg: LocationMessage) -> str:
        return f"{msg.label} at {msg.location_x}, {msg.location_y}"

    @bot.on_event("subscribe")
    def follow(event: SubscribeEvent) -> str:
        return f"welcome, scene {event.scene}"

    @bot.on_event("SCAN")
    def scan(event: ScanEvent) -> str:
        return f"scanned {event.scene}"

    @bot.on_event("CLICK")
    def click(event: ClickEvent) -> Text:
        return Text(f"clicked {event.event_key}")

    @bot.on_event("VIEW")
    def view(event: ViewEvent) -> None:
        return None

    return bot


CLOSE_CALL = 0.85
"""How much of ``naming_bot``'s deadline its "almost" handler takes."""


def naming_bot() -> Bot:
    """Answers each message and event with the class wxhook parsed it into (and any tag whose text its field could
    not hold); "almost" is answered close to the 1 s deadline, "late" past it, through the API (with "typing…"). In
    safe mode, refusing plaintext, as a production bot is."""
    bot = Bot(token=TOKEN, appid=APPID, aes_key=AES_KEY, deadline=1.0, typing=True)

    @bot.on_text("almost")
    async def almost(msg: TextMessage) -> str:
        await asyncio.sleep(CLOSE_CALL * bot.deadline)
        return "just in time"

    @bot.on_text("late")
    async def late(msg: TextMessage) -> str:
        await asyncio.sleep(bot.deadline + 0.3)
        return "sorry I'm late"

    @bot.on_default
    def name(msg: Message) -> str:
        return type(msg).__name__ + (f" unparsed {msg.unparsed}" if msg.unparsed else "")

    return bot


def accounts_bot(accounts: list[Account], platform: Platform | None = None) -> Bot:
    """A bot serving ``accounts`` (and ``platform``'s authorizers) that says which account each message is for;
    "slow" misses the deadline and is answered through the API."""
    bot = Bot(accounts=accounts, platform=platform, store="memory://", deadline=0.5)

    @bot.on_text("publish menu")
    async def publish(msg: TextMessage, ctx: Context) -> str:
        await ctx.api.menu.create([{"type": "click", "name": ctx.account.appid[-4:], "key": "OWN"}])
        return "menu published"

    @bot.on_text
    async def echo(msg: TextMessage, ctx: Context) -> str:
        if msg.content == "slow":
            await asyncio.sleep(1)
            return f"late for {ctx.account.appid}"
        return f"{ctx.account.name or ctx.account.appid} ({ctx.account.source}): {msg.content}"

    return bot


def recording_bot(runs: list[str]) -> Bot:
    """A bot whose one handler notes each text it gets: what a request that drove the console leaves behind."""
    bot = Bot(token=TOKEN)

    @bot.on_text
    def record(msg: TextMessage) -> str:
        runs.append(msg.content or "")
        return "ran"

    return bot


MENU = {"button": [
    {"type": "click", "name": "Ping", "key": "PING"},
    {"name": "More", "sub_button": [
        {"type": "click", "name": "Hours", "key": "HOURS"},
        {"type": "view", "name": "Site", "url": "https://example.com/"},
    ]},
]}
