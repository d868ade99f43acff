"""WeRoBot for bench/overload.py: werobot_echo.py (under one gunicorn gthread worker) with the same 2 ms burn
(burn.py) in its handler, and GET /__runs__."""

import werobot_echo
from burn import burn, runs_wsgi

werobot_echo.before_reply = burn
app = runs_wsgi(werobot_echo.app)
