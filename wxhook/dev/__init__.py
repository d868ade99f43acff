"""The dev console: chat with a bot from a browser as a follower would, with a FakeWeChat as its API.

``run("mybot:bot")`` (what ``wxhook dev mybot:bot`` calls) serves it on http://127.0.0.1:8000/;
``create_console(bot)`` is the ASGI app, to serve some other way.
"""

from ._console import create_console, load_menu
from ._serve import run, serve_console

__all__ = ["create_console", "load_menu", "run", "serve_console"]
