"""``wxhook worker module:bot``: run a bot's ``queue=True`` handlers and ``ctx.enqueue`` jobs off its job queue."""

from __future__ import annotations

import argparse
import importlib

from ._common import Parser, UsageError, export_settings, settings_options, summary


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    worker = commands.add_parser("worker", help="run a bot's queued handlers and jobs (Bot(queue=...))",
                                 description=summary(__doc__))
    worker.add_argument("target", metavar="MODULE:BOT", help="the bot, e.g. app:bot (its queue= or WXHOOK_QUEUE)")
    worker.add_argument("--concurrency", type=int, default=100, help="jobs run at once (default %(default)s)")
    settings_options(worker)
    worker.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be 1 or more, not {args.concurrency}")
    try:
        worker = importlib.import_module("wxhook.worker")
    except ImportError as exc:
        raise UsageError(f"wxhook worker needs the job queue's packages ({exc.name}): "
                         "pip install 'wxhook-mp[queue]'") from None
    export_settings(args)
    worker.run_worker(args.target, concurrency=args.concurrency)
    return 0
