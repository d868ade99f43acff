"""``python -m wxhook.worker module:bot``: run a bot's queued handlers and jobs (the same as ``wxhook worker``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .queue import run_worker


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wxhook.worker", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    run_worker(args.target, concurrency=args.concurrency)
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The worker's arguments, shared with ``wxhook worker``."""
    parser.add_argument("target", help="the bot as module:attribute, e.g. app:bot (its queue= or WXHOOK_QUEUE)")
    parser.add_argument("--concurrency", type=int, default=100, help="jobs run at once (default %(default)s)")


if __name__ == "__main__":
    sys.exit(main())
