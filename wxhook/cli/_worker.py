"""``wxhook worker module:bot``: run a bot's ``queue=True`` handlers and ``ctx.enqueue`` jobs off its job queue."""

from __future__ import annotations

import argparse

from ..queue import QueueUnavailable
from ..stores import StoreUnavailable
from ..worker import add_arguments, run_worker
from ._common import CommandError, Parser, UsageError, export_settings, settings_options, summary


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    worker = commands.add_parser("worker", help="run a bot's queued handlers and jobs (Bot(queue=...))",
                                 description=summary(__doc__))
    add_arguments(worker)
    settings_options(worker)
    worker.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be 1 or more, not {args.concurrency}")
    export_settings(args)
    try:
        run_worker(args.target, concurrency=args.concurrency, check=args.check)
    except (QueueUnavailable, StoreUnavailable) as exc:
        raise CommandError(str(exc)) from None
    return 0
