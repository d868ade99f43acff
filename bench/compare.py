"""wxhook against its peers, and against the performance targets, in one run.

    python3 bench/compare.py                # the full comparison (about half an hour; the http part ~15 min)
    python3 bench/compare.py --smoke        # a few seconds per target, as CI runs it; no target judged
    python3 bench/compare.py --check        # exit 1 when a target is missed
    python3 bench/compare.py --parts http --only wxhook,guarded --rounds 5    # wxhook against the guarded floor
    python3 bench/compare.py --parts http --only wxhook,raw --inside    # where a request's time goes

Needs only Python 3.10+ on Linux: the peers (wechatpy, WeRoBot, gunicorn, uvicorn[standard]) are installed into
bench/.peers-venv on first use, together with this checkout of wxhook, and wrk from Debian's packages when it is
missing; then the script runs again inside that venv. Four parts, each printed as Markdown:

- http: each contender served by one worker pinned to core 0, wrk on core 1 sending distinct, correctly signed
  pushes and checking every answer (loadtest.py). --rounds interleaved rounds (every contender and mode once per
  round, so a slow spell of the shared machine falls on all of them); each one's median round counts, and its
  min–max is shown. wxhook is judged against the guarded floor (peers/guarded_asgi.py: the raw handler plus
  wxhook's default guarantees, inlined) and its peers; the bare Starlette route is there for reference only.
- dispatch: 10,000 keywords and 1,000 CLICK keys against one of each (dispatch.py).
- memory: two batches of distinct pushes, each followed by its windows (retry, and the nonce records'
  timestamp window), per store (memory.py).
- instructions: instructions per push under valgrind (instructions.py) of wxhook, the guarded floor and one of
  1,000 accounts, both modes; skipped, its targets "not measured", when valgrind is missing.

Exits 1 when a contender cannot be served or answers wrongly, whatever the figures; with --check also when a
target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys

import environment

_PARTS = ("http", "dispatch", "memory", "instructions")


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="a second or two per contender and mode, one round, 50 pushes per instruction count; "
                             "no target judged")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--parts", default=",".join(_PARTS), help="which parts to run, comma-separated")
    # wrk takes whole seconds. 5 rounds of (2 + 6) s for the 15 (contender, mode) pairs: about 15 minutes.
    parser.add_argument("--duration", type=int, default=6, help="seconds of each measured wrk run (default 6)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up before each (default 2)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="interleaved rounds: every contender and mode once per round; the median counts "
                             "(default 5)")
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
        options.duration, options.warmup, options.rounds, options.max_rate = 1, 1, 1, 5000
        options.messages, options.store_messages, options.retry_window, options.timestamp_window = 1000, 300, 1.0, 5.0
    unknown = set(options.parts.split(",")) - set(_PARTS)
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}: choose from {', '.join(_PARTS)}")
    if min(options.duration, options.warmup, options.rounds) < 1:
        parser.error("--duration, --warmup and --rounds must be at least 1")
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
