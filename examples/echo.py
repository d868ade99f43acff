"""The echo bot: ``uvicorn examples.echo:bot``.

Runs as is on demo credentials (safe mode included); set WXHOOK_TOKEN, WXHOOK_APPID and WXHOOK_AES_KEY to
the values of your Official Account's server configuration to serve real followers.
"""

import os

from wxhook import Bot, Image, Text

# Demo credentials, used only when the WXHOOK_* variables are unset. The key is the public test
# EncodingAESKey from WeChat's own sample code: never use it for a real account.
os.environ.setdefault("WXHOOK_TOKEN", "wxhook-echo")
os.environ.setdefault("WXHOOK_APPID", "wx2c2769f8efd9abc2")
os.environ.setdefault("WXHOOK_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")

bot = Bot()


@bot.on_text("help")
def help_(msg):
    return "Send me anything and I'll echo it."


@bot.on_text
async def echo(msg):
    return msg.content


@bot.on_image
async def echo_image(msg):
    return Image(msg.media_id)


@bot.on_event("subscribe")
def welcome(event):
    return Text("Thanks for following! Send me anything and I'll echo it.")


@bot.on_default
def fallback(msg):
    return "I echo text and images; try sending some."
