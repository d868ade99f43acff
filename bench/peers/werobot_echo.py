"""WeRoBot echoing text, served by gunicorn (``werobot_echo:app``): its fastest configuration, sessions off
(its default SQLite session storage costs several times more per message). Safe mode when WXHOOK_AES_KEY is set;
WeRoBot then seals every reply, so the plaintext run leaves the key unset."""

import os
from collections.abc import Callable

from werobot import WeRoBot

robot = WeRoBot(
    token=os.environ["WXHOOK_TOKEN"],
    app_id=os.environ["WXHOOK_APPID"],
    encoding_aes_key=os.environ.get("WXHOOK_AES_KEY"),
    SESSION_STORAGE=False,
)


before_reply: Callable[[str], None] | None = None
"""The handler's own work on the text, run before the reply (the overload bench's burn: overload_werobot.py)."""


@robot.text
def echo(message):  # type: ignore[no-untyped-def]
    if before_reply is not None:
        before_reply(message.content)
    return message.content


app = robot.wsgi
