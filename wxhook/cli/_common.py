"""What every command shares: the one-line error, the exit statuses, the settings options."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import NoReturn

from ..config import setting


class CommandError(Exception):
    """A command failed; ``main`` prints ``wxhook: <message>`` and exits with ``status``."""

    status = 1


class UsageError(CommandError):
    """The command line cannot work as given (a missing setting, a contradictory option): exit 2."""

    status = 2


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line naming the help to read, not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see: {self.prog} --help)\n")


def summary(doc: str | None) -> str:
    """A module docstring's first paragraph, without its reST quoting, for ``--help``."""
    return (doc or "").split("\n\n")[0].replace("``", "")


def defaults(owner: bool) -> Callable[[object], object]:
    """``default=`` for an option that several parsers of one command line accept.

    argparse copies a subcommand's defaults over what the parser above it already parsed, so only the
    parser that owns an option gives it a default; the copies on the subcommands below default to nothing,
    and ``wxhook --token T send …`` and ``wxhook send … --token T`` both reach the command.
    """

    def default(value: object) -> object:
        return value if owner else argparse.SUPPRESS

    return default


def bot_options(parser: argparse.ArgumentParser, owner: bool) -> None:
    """The webhook's credentials, as the bot reads them: for commands that play WeChat against it."""
    d = defaults(owner)
    parser.add_argument("--token", default=d(None), help="the Token of the server configuration "
                        "(default: $WXHOOK_TOKEN)")
    parser.add_argument("--aes-key", default=d(None), metavar="KEY",
                        help="the 43-character EncodingAESKey; set, it turns safe mode on (default: $WXHOOK_AES_KEY)")


def appid_option(parser: argparse.ArgumentParser, owner: bool) -> None:
    parser.add_argument("--appid", default=defaults(owner)(None), help="the AppID, wx… (default: $WXHOOK_APPID)")


def api_options(parser: argparse.ArgumentParser, owner: bool) -> None:
    """What the API client reads: for commands that call the WeChat API."""
    d = defaults(owner)
    parser.add_argument("--secret", default=d(None), help="the AppSecret (default: $WXHOOK_SECRET)")
    parser.add_argument("--store", default=d(None), metavar="URL",
                        help="where the access token is cached, shared with the bot: memory://, sqlite:///path.db, "
                             "redis://host (default: $WXHOOK_STORE, else memory://)")
    parser.add_argument("--api-base", default=d(None), metavar="URL",
                        help="one base URL for API calls instead of WeChat's domains (default: $WXHOOK_API_BASE)")
    parser.add_argument("--mp-base", default=d(None), metavar="URL",
                        help="the host of QR-code images (default: $WXHOOK_MP_BASE, else https://mp.weixin.qq.com)")


def timeout_option(parser: argparse.ArgumentParser, owner: bool) -> None:
    parser.add_argument("--timeout", type=float, default=defaults(owner)(10.0), metavar="SECONDS",
                        help="how long to wait for an answer (default: 10)")


_VARIABLES = {"token": "WXHOOK_TOKEN", "aes_key": "WXHOOK_AES_KEY", "appid": "WXHOOK_APPID",
              "secret": "WXHOOK_SECRET", "store": "WXHOOK_STORE", "api_base": "WXHOOK_API_BASE",
              "mp_base": "WXHOOK_MP_BASE"}


def settings_options(parser: argparse.ArgumentParser) -> None:
    """Every setting a bot reads, for commands that import one (run, dev)."""
    bot_options(parser, owner=False)
    appid_option(parser, owner=False)
    api_options(parser, owner=False)


def export_settings(args: argparse.Namespace) -> None:
    """Hand the settings given as options to the bot this process imports, and to its workers, as the
    variables it reads: ``wxhook --token T run mybot:bot`` is ``WXHOOK_TOKEN=T wxhook run mybot:bot``."""
    for dest, variable in _VARIABLES.items():
        value = getattr(args, dest, None)
        if value is not None:
            os.environ[variable] = value


def require(value: str | None, variable: str, option: str, what: str) -> str:
    """The option's value, else the variable's; a usage error naming both when neither is set."""
    found = setting(value, variable)
    if found is None:
        raise UsageError(f"no {what}: set {variable} or pass {option}")
    return found
