"""wxhook for bench/overload.py: default settings (``Bot()``), its text handler burning 2 ms of CPU then echoing.

The handler is ``async def``: the burn is CPU work, which a thread pool would only share out among 40 threads
holding one GIL on one core (each push then takes 40 times as long, and the event loop waits for the GIL too);
on the loop it runs one push at a time, as it does in the Starlette peer. ``OVERLOAD_SYNC=1`` makes it a
``def``, run in the thread pool, to compare. Late replies go to the bench's fake customer-service API
(WXHOOK_API_BASE)."""

import os

from burn import burn, runs_asgi

from wxhook import Bot, TextMessage

bot = Bot()

if os.environ.get("OVERLOAD_SYNC") == "1":
    @bot.on_text
    def echo(msg: TextMessage) -> str | None:
        burn(msg.content)
        return msg.content
else:
    @bot.on_text
    async def echo(msg: TextMessage) -> str | None:  # type: ignore[misc]
        burn(msg.content)
        return msg.content

app = runs_asgi(bot)
