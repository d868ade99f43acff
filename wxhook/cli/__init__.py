"""``wxhook``: serve a bot, play WeChat against it, and manage the account from a shell.

    wxhook run mybot:bot --workers 2             # uvicorn with production defaults
    wxhook send http://127.0.0.1:8000/ text "hello"
    wxhook send http://127.0.0.1:8000/ event subscribe --scene promo-42
    wxhook verify https://example.com/wechat/    # the check the admin console does when the URL is saved
    wxhook token | menu push menu.toml | qr create --scene promo-42 --out qr.png
    wxhook dev mybot:bot                         # the browser dev console
    wxhook fake                                  # a fake WeChat API printing the calls (late replies) a bot makes
    wxhook worker mybot:bot                      # run queue=True handlers off the job queue
    wxhook send http://127.0.0.1:8000/wx1234567890abcdef --platform text "hi"   # an authorizer's push
    wxhook platform resync mybot:bot             # a platform's authorizer records, rebuilt from WeChat

Settings come from the WXHOOK_* variables the bot reads (or the options named after them, accepted before or
after the command). Exit status: 0 on success, 1 when a check fails or the other side refuses, 2 on a usage
error; every error is one line.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .. import __version__
from ..api import WeChatError
from ..config import ConfigError
from . import _account, _dev, _fake, _platform, _run, _send, _verify, _worker
from ._common import CommandError, Parser, api_options, appid_option, bot_options, summary, timeout_option

__all__ = ["main"]


def _parser() -> Parser:
    parser = Parser(prog="wxhook", description=summary(__doc__),
                    epilog="Run 'wxhook COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    bot_options(parser, owner=True)
    appid_option(parser, owner=True)
    api_options(parser, owner=True)
    timeout_option(parser, owner=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (_run, _send, _verify, _account, _dev, _fake, _worker, _platform):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``wxhook`` command; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        status: int = args.handler(args)
    except CommandError as exc:
        print(f"wxhook: {exc}", file=sys.stderr)
        return exc.status
    except ConfigError as exc:
        print(f"wxhook: {exc}", file=sys.stderr)
        return 2
    except WeChatError as exc:
        print(f"wxhook: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line, never a traceback: name the failure and where it came from
        print(f"wxhook: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return status
