"""Which QR code brought each follower: one parametric QR code (带参数二维码) per campaign.

    WXHOOK_TOKEN=... WXHOOK_APPID=... WXHOOK_SECRET=... WXHOOK_STORE=sqlite:///qrscene.db \
    QRSCENE_ADMINS=o_your_openid wxhook run examples.qrscene:bot

Print a code per poster, flyer or shop window, its campaign as the scene:

    wxhook qr create --scene spring-poster --expire 2592000 --out spring-poster.png

or send the bot "qr spring-poster" from an admin's WeChat. Someone who follows through a code arrives as a
``subscribe`` event carrying the scene; a follower who scans one again arrives as ``SCAN``. The first
campaign that brings a follower keeps the credit (unfollowing and following again through another code does
not move it), counted once however often WeChat retries. Admins send "stats" for the tally.
"""

from __future__ import annotations

import json
import os

from wxhook import Bot, ScanEvent, SubscribeEvent, TextMessage

CODE_LIFETIME = 30 * 24 * 3600  # the longest a temporary code lives; permanent codes are capped at 100,000
GREETINGS = {
    "spring-poster": "Welcome! Show this chat at the counter for your spring discount.",
    "metro-ad": "Welcome, commuter! Reply 'route' for the shop nearest your station.",
}
ADMINS = frozenset(os.environ.get("QRSCENE_ADMINS", "").split())

bot = Bot()


async def _count(what: str, campaign: str) -> None:
    """Add one to a campaign's tally. The lock makes read-and-write one step across workers."""
    async with bot.store.lock(f"qrscene:{campaign}"):
        tally = json.loads(await bot.store.get(f"qrscene:tally:{campaign}") or '{"follows": 0, "scans": 0}')
        tally[what] += 1
        await bot.store.set(f"qrscene:tally:{campaign}", json.dumps(tally))
    async with bot.store.lock("qrscene:campaigns"):
        campaigns = json.loads(await bot.store.get("qrscene:campaigns") or "[]")
        if campaign not in campaigns:
            await bot.store.set("qrscene:campaigns", json.dumps([*campaigns, campaign]))


@bot.on_event("subscribe")
async def followed(event: SubscribeEvent) -> str:
    campaign = event.scene
    if campaign is None:  # found by search, a shared card, an article: no code involved
        return "Welcome!"
    if await bot.store.set_if_absent(f"qrscene:follower:{event.openid}", campaign):  # first touch only
        await _count("follows", campaign)
    return GREETINGS.get(campaign, "Welcome!")


@bot.on_event("SCAN")
async def scanned_again(event: ScanEvent) -> str:
    await _count("scans", event.scene or "")
    return "Welcome back!"


@bot.on_text(regex=r"^qr (\S{1,64})$", when=lambda msg: msg.openid in ADMINS)
async def new_code(msg: TextMessage) -> str:
    campaign = (msg.content or "").removeprefix("qr ")
    code = await bot.api.qrcode.create(campaign, expire_seconds=CODE_LIFETIME)
    return f"QR code for {campaign}, valid 30 days: {bot.api.qrcode.url(code.ticket)}"


@bot.on_text("stats", when=lambda msg: msg.openid in ADMINS)
async def stats(msg: TextMessage) -> str:
    lines = []
    for campaign in json.loads(await bot.store.get("qrscene:campaigns") or "[]"):
        tally = json.loads(await bot.store.get(f"qrscene:tally:{campaign}") or "{}")
        lines.append(f"{campaign}: {tally.get('follows', 0)} new followers, {tally.get('scans', 0)} scans")
    return "\n".join(lines) or "No follows through a QR code yet."


@bot.on_default
def fallback(msg: object) -> str:
    return "Thanks for your message!"
