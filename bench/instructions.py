"""Instructions per push, counted by valgrind: a figure that does not move with the neighbours' load.

    python bench/instructions.py                    # wxhook (default settings) and the minimal raw handler
    python bench/instructions.py --app wxhook --mode plaintext --pushes 5000
    python bench/instructions.py --app wxhook --app accounts    # one account, and one of 1,000 on one bot
    python bench/instructions.py --app wxhook --app guarded --json --jobs 2    # as compare.py runs it

On a shared machine req/s moves by 10 to 25 % from one run to the next, which hides any change smaller than that;
an instruction count, under one string-hash seed (``--hash-seed``) and with the counted process on simulated time
(its clocks advance with its work, not with the wall: ``SimulatedTime``), by well under 0.1 %, whatever the load.
It is the tool for a before-and-after of one change to the hot path (run it on both commits), not a replacement for
compare.py: it does not see cache misses, the server's own work or the system calls, and under valgrind
pycryptodome cannot use the CPU's AES instructions, so the safe-mode figures overweight AES.

Each figure is two runs under ``valgrind --tool=cachegrind``: the same pushes prepared, then ``--pushes`` more of
them sent through the ASGI app in-process than in the first run; the difference over ``--pushes`` leaves out
start-up, imports and the pushes' own preparation. wxhook runs with its start-up done, at the level the comparison
serves it with (``--log-level warning``: no message line); ``--log-level info`` (uvicorn's default) counts the
message line too, as a server would write it. Needs valgrind (Debian: apt-get install valgrind).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pushes import AES_KEY, APPID, TOKEN, Signer, SimulatedTime, call

_WARM = 300
"""Pushes sent in both runs before the counted ones: caches and lazily built tables are warm in both."""
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def _app(name: str, sealed: bool) -> Any:
    os.environ.update(WXHOOK_TOKEN=TOKEN, WXHOOK_APPID=APPID)
    if sealed:
        os.environ["WXHOOK_AES_KEY"] = AES_KEY
    sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))
    if name == "wxhook":
        import wxhook_echo

        return wxhook_echo.bot
    if name == "accounts":
        import wxhook_accounts

        return wxhook_accounts.bot
    if name == "guarded":
        import guarded_asgi

        return guarded_asgi.app
    import raw_asgi

    return raw_asgi.app


async def _send(app: Any, name: str, sealed: bool, counted: int, prepared: int, level: str) -> None:
    path = f"/{APPID}" if name == "accounts" else "/"
    pushes = list(Signer(sealed=sealed, path=path).texts(_WARM + prepared))[:_WARM + counted]
    if name in ("wxhook", "accounts"):
        await app.startup()
        logging.getLogger("wxhook").setLevel(level.upper())  # as uvicorn's --log-level sets it
    for push in pushes:
        status, _ = await call(app, push)
        if status != 200:
            raise SystemExit(f"{name} answered {status}")
    if name in ("wxhook", "accounts"):
        await app.shutdown()


def find_valgrind() -> str:
    """valgrind's path; SystemExit with how to install it when it is missing (also bench/stages.py's)."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind (Debian), then run again")
    return valgrind


def count(valgrind: str, script: list[str], seed: str = "0") -> int:
    """Instructions ``python *script`` executes in all, counted by cachegrind (also bench/stages.py's counter)."""
    argv = [valgrind, "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", sys.executable,
            *script]
    # One string-hash seed for every run: another seed lays out the dicts differently, which alone moved a push
    # by up to 1 %, as much as a small change.
    run = subprocess.run(argv, capture_output=True, text=True, check=False, env={**os.environ, "PYTHONHASHSEED": seed})
    found = _REFS.search(run.stderr)
    if run.returncode != 0 or found is None:
        raise SystemExit(f"{' '.join(argv)} failed:\n{run.stderr.strip()[-2000:]}")
    return int(found.group(1).replace(",", ""))


def _count(valgrind: str, name: str, mode: str, counted: int, prepared: int, level: str, seed: str) -> int:
    return count(valgrind, [__file__, "--child", "--app", name, "--mode", mode, "--pushes", str(counted), "--prepared",
                            str(prepared), "--log-level", level], seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", choices=("wxhook", "accounts", "raw", "guarded"), action="append",
                        help="wxhook (Bot() echoing text), accounts (one of 1,000 accounts on one bot: "
                             "bench/peers/wxhook_accounts.py), raw (bench/peers/raw_asgi.py) or guarded (the raw "
                             "handler plus wxhook's default guarantees: bench/peers/guarded_asgi.py); wxhook and raw "
                             "by default")
    parser.add_argument("--mode", choices=("plaintext", "safe"), action="append", help="both by default")
    parser.add_argument("--pushes", type=int, default=2000, help="pushes counted (default 2000)")
    parser.add_argument("--log-level", choices=("warning", "info"), default="warning",
                        help="wxhook's, as uvicorn's --log-level sets it: info counts the message line (default: "
                             "warning, as the comparison serves it)")
    parser.add_argument("--hash-seed", default="0",
                        help="PYTHONHASHSEED of the counted runs (default 0): keep it for a before-and-after")
    parser.add_argument("--jobs", type=int, default=1,
                        help="valgrind runs at a time (default 1); the counts do not depend on it, only the time "
                             "taken: most of each run's dozen seconds is the interpreter starting under valgrind")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON line, {app: {mode: instructions per push}}, instead of the table")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepared", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        name, sealed = options.app[0], options.mode[0] == "safe"
        SimulatedTime().run(_send(_app(name, sealed), name, sealed, options.pushes, options.prepared,
                                  options.log_level))
        return
    valgrind = find_valgrind()
    figures = [(name, mode) for name in options.app or ("wxhook", "raw")
               for mode in options.mode or ("plaintext", "safe")]
    found: dict[str, dict[str, float]] = {}
    if not options.json:
        print("| app | mode | instructions per push |\n| --- | --- | ---: |", flush=True)
    pool = ThreadPoolExecutor(max(1, options.jobs))  # each thread only waits on its valgrind
    try:
        counts = {(name, mode, counted): pool.submit(_count, valgrind, name, mode, counted, options.pushes,
                                                     options.log_level, options.hash_seed)
                  for name, mode in figures for counted in (0, options.pushes)}
        for name, mode in figures:
            base, full = counts[(name, mode, 0)].result(), counts[(name, mode, options.pushes)].result()
            found.setdefault(name, {})[mode] = per_push = (full - base) / options.pushes
            if not options.json:
                print(f"| {name} | {mode} | {per_push:,.0f} |", flush=True)
    finally:
        pool.shutdown(cancel_futures=True)  # after a failed run, start no more of them
    if options.json:
        print(json.dumps(found))


if __name__ == "__main__":
    main()
