"""WeRoBot for bench/overload.py: werobot_echo.py (under one gunicorn gthread worker) with the same 2 ms burn
(burn.py) in its handler, and GET /__runs__."""

import os

from burn import burn, runs_wsgi
from werobot import WeRoBot

robot = WeRoBot(
    token=os.environ["WXHOOK_TOKEN"],
    app_id=os.environ["WXHOOK_APPID"],
    encoding_aes_key=os.environ.get("WXHOOK_AES_KEY"),
    SESSION_STORAGE=False,
)


@robot.text
def echo(message):  # type: ignore[no-untyped-def]
    burn(message.content)
    return message.content


app = runs_wsgi(robot.wsgi)
