"""wxhook serving 1,000 accounts (``Bot(accounts=[...])``, default settings otherwise), echoing text: the bench
pushes to the account whose credentials the WXHOOK_* variables carry, at ``/{appid}``; the 999 others are idle."""

import os

from wxhook import Account, Bot, TextMessage

ACCOUNTS = 1000

served = Account(os.environ["WXHOOK_APPID"], token=os.environ["WXHOOK_TOKEN"], aes_key=os.environ.get("WXHOOK_AES_KEY"))
idle = [Account(f"wx{n:016x}", token=f"token-{n}", aes_key=served.aes_key) for n in range(1, ACCOUNTS)]
bot = Bot(accounts=[served, *idle])


@bot.on_text
async def echo(msg: TextMessage) -> str | None:
    return msg.content
