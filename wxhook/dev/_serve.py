"""Serving the console: for ``python -m wxhook.dev`` now and the ``wxhook dev`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from ..app import Bot
from ..loading import load_bot
from ._console import BOT_PATH, create_console

_GRACE = 1  # seconds: an open page's event stream would otherwise hold shutdown until the tab closes
_WILDCARDS = ("0.0.0.0", "::", "")


def serve_console(bot: Bot, host: str = "127.0.0.1", port: int = 8000, menu_file: str | Path | None = None,
                  allowed_hosts: Iterable[str] = ()) -> None:
    """Serve the console for ``bot`` until interrupted (Ctrl-C); ``allowed_hosts`` as ``create_console`` takes
    them (the ``host`` it is started on is allowed already)."""
    _serve(create_console(bot, menu_file, allowed_hosts=_own_hosts(host, port, allowed_hosts)), host, port)


def _own_hosts(host: str, port: int, allowed_hosts: Iterable[str]) -> list[str]:
    """The allowed hosts and the name the console is started on (``--host devbox.lan``): the browser sends it."""
    if host in _WILDCARDS:  # every interface: each connection's own address is allowed as it comes
        return list(allowed_hosts)
    return [*allowed_hosts, f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]


def _serve(app: Starlette, host: str, port: int) -> None:
    shown = "127.0.0.1" if host in _WILDCARDS else host
    bot = f"the bot's accounts at {BOT_PATH}{{appid}}" if app.state.console.bot.serves_many else \
        f"the bot itself at {BOT_PATH}"
    print(f"wxhook dev console: http://{shown}:{port}/  ({bot})", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=_GRACE)


def run(target: str, *, menu_file: str | Path | None = None, host: str = "127.0.0.1", port: int = 8000,
        allowed_hosts: Iterable[str] = ()) -> None:
    """Serve the console for the Bot named ``module:attribute``, imported from the current directory."""
    serve_console(load_bot(target), host, port, menu_file, allowed_hosts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wxhook.dev",
                                     description="Chat with a bot from a browser, with a fake WeChat API.")
    parser.add_argument("target", help="the bot, as module:attribute (e.g. examples.echo:bot)")
    parser.add_argument("--menu", help="a menu JSON file, as menu/create takes it ({\"button\": [...]})")
    parser.add_argument("--host", default="127.0.0.1", help="default %(default)s")
    parser.add_argument("--port", type=int, default=8000, help="default %(default)s")
    parser.add_argument("--allow-host", action="append", default=[], metavar="NAME[:PORT]",
                        help="one more Host the console answers to (see wxhook dev --help); repeatable")
    args = parser.parse_args(argv)
    try:
        app = create_console(load_bot(args.target), args.menu,
                             allowed_hosts=_own_hosts(args.host, args.port, args.allow_host))
    except (ImportError, ValueError, TypeError) as exc:
        print(f"wxhook dev: {exc}", file=sys.stderr)
        return 2
    _serve(app, args.host, args.port)
    return 0
