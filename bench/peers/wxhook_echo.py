"""wxhook with default settings (``Bot()``: sessions on, the memory store unless WXHOOK_STORE names another),
echoing text; credentials from the WXHOOK_* variables, as a deployment sets them."""

from wxhook import Bot, TextMessage

bot = Bot()


@bot.on_text
async def echo(msg: TextMessage) -> str | None:
    return msg.content
