"""``wxhook dev module:bot``: the browser dev console (``wxhook.dev``), started from the command line.

It needs no WeChat account: without WXHOOK_TOKEN the bot is given a dev token, printed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import secrets
import sys

from ..config import setting
from ._common import Parser, UsageError, export_settings, settings_options, summary


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    dev = commands.add_parser("dev", help="chat with a bot from a browser, with a fake WeChat API",
                              description=summary(__doc__))
    dev.add_argument("target", metavar="MODULE:BOT", help="the bot, e.g. examples.echo:bot")
    dev.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    dev.add_argument("--port", type=int, default=8000, help="default: 8000")
    dev.add_argument("--menu", metavar="FILE", help="a menu file to show, as menu push takes it")
    dev.add_argument("--allow-host", action="append", default=[], metavar="NAME[:PORT]",
                     help="another name the browser may reach the console by (a tunnel, a LAN name), on any port "
                          "or only on PORT; repeat for more (default: 127.0.0.1, localhost and the --host address)")
    settings_options(dev)
    dev.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        console = importlib.import_module("wxhook.dev")  # its dependencies load only for this command
    except ImportError as exc:
        if exc.name != "wxhook.dev":
            raise
        raise UsageError("the dev console (wxhook.dev) is not part of this installation of wxhook") from None
    export_settings(args)
    if setting(None, "WXHOOK_TOKEN") is None:  # no WeChat account behind the console, but the bot needs a token
        token = os.environ["WXHOOK_TOKEN"] = f"dev-{secrets.token_hex(8)}"
        print(f"wxhook dev: no WXHOOK_TOKEN set, so the bot runs on the dev token {token} (set WXHOOK_TOKEN, or pass "
              "--token, to choose one)", file=sys.stderr)
    console.run(args.target, menu_file=args.menu, host=args.host, port=args.port, allowed_hosts=args.allow_host)
    return 0
