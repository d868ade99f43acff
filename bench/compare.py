"""wxhook against its peers, and against the performance targets, in one run.

    python3 bench/compare.py                # the full comparison (20 to 30 minutes)
    python3 bench/compare.py --smoke        # a few seconds per target, as CI runs it
    python3 bench/compare.py --check        # exit 1 when a target is missed
    python3 bench/compare.py --parts http --only wxhook,raw --inside    # where a request's time goes

Needs only Python 3.10+ on Linux: the peers (wechatpy, WeRoBot, gunicorn, uvicorn[standard]) are installed into
bench/.peers-venv on first use, together with this checkout of wxhook, and wrk from Debian's packages when it is
missing; then the script runs again inside that venv. Three parts, each printed as Markdown:

- http: each contender served by one worker pinned to core 0, wrk on core 1 sending distinct, correctly signed
  pushes and checking every answer (loadtest.py); the best of --rounds runs counts.
- dispatch: 10,000 keywords and 1,000 CLICK keys against one of each (dispatch.py).
- memory: two batches of distinct pushes, each followed by its windows (retry, and the nonce records'
  timestamp window), per store (memory.py).

Exits 1 when a contender cannot be served or answers wrongly, whatever the figures; with --check also when a
target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys

import environment


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds per target; the figures mean little")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--parts", default="http,dispatch,memory", help="which parts to run, comma-separated")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each measured wrk run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up before each")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per contender and mode; the fastest counts")
    parser.add_argument("--only", default="",
                        help="HTTP contenders to run, comma-separated names or parts of names (default: all)")
    parser.add_argument("--connections", type=int, default=32, help="wrk's open connections")
    parser.add_argument("--inside", action="store_true",
                        help="serve each ASGI contender through a timing layer and report where a request's time goes "
                             "(the layer costs about a microsecond a request: its req/s are not the comparison's)")
    parser.add_argument("--max-rate", type=int, default=40_000,
                        help="requests/s the pool of distinct pushes is sized for")
    parser.add_argument("--messages", type=int, default=100_000, help="pushes per memory batch, memory store")
    parser.add_argument("--store-messages", type=int, default=5000,
                        help="pushes per memory batch, SQLite and Redis stores")
    parser.add_argument("--retry-window", type=float, default=60.0, help="the bots' retry_window in the memory part")
    parser.add_argument("--timestamp-window", type=float, default=300.0,
                        help="the bots' timestamp_window in the memory part (how long nonce records live)")
    options = parser.parse_args()
    if options.smoke:
        options.duration, options.warmup, options.rounds, options.max_rate = 1.0, 1.0, 1, 5000
        options.messages, options.store_messages, options.retry_window, options.timestamp_window = 1000, 300, 1.0, 5.0
    unknown = set(options.parts.split(",")) - {"http", "dispatch", "memory"}
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}: choose from http, dispatch, memory")
    return options


def main() -> int:
    options = _options()
    if not environment.in_venv():
        python = str(environment.ensure_venv())
        os.execv(python, [python, __file__, *sys.argv[1:]])
    from comparison import run  # needs the venv: wxhook, httpx, redis

    return run(options)


if __name__ == "__main__":
    sys.exit(main())
