"""``wxhook platform resync module:bot``: rebuild a third-party platform's authorizer records from WeChat.

After a lost store (a Redis flushed, a SQLite file gone) the platform no longer holds its authorizers' refresh
tokens, and every call on their behalf fails until each merchant authorizes again. WeChat's list of authorizers
(``api_get_authorizer_list``) still carries them: this writes one record per authorizer from it.
"""

from __future__ import annotations

import argparse
import asyncio

from ..loading import load_bot
from ._common import CommandError, Parser, UsageError, export_settings, settings_options, summary


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    platform = commands.add_parser("platform", help="a third-party platform's records (Bot(platform=...))",
                                   description=summary(__doc__))
    actions = platform.add_subparsers(dest="action", metavar="ACTION", required=True)
    resync = actions.add_parser("resync", help="rebuild the authorizers' records from WeChat's list",
                                description=summary(__doc__))
    resync.add_argument("target", metavar="MODULE:BOT", help="the bot, e.g. app:bot, with its platform and store")
    settings_options(resync)
    resync.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    export_settings(args)
    try:
        bot = load_bot(args.target)
    except (ImportError, ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    if bot.platform is None:
        raise UsageError(f"{args.target} has no third-party platform: build it with Bot(platform=Platform(...))")
    service = bot.platform

    async def resync() -> int:
        try:
            return await service.resync_authorizers()
        finally:
            await bot.shutdown()

    written = asyncio.run(resync())
    if not written:
        raise CommandError("WeChat's list names no authorizer with a refresh token: nothing was written")
    print(f"{written} authorizer record(s) written to {bot.store!r}")
    return 0
