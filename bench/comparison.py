"""The comparison's three parts run in turn, then the tables and the targets (see compare.py for the command)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import environment
import loadtest
from loadtest import BARE, RAW, STARLETTE_WECHATPY, WEROBOT, WXHOOK, WXHOOK_LOGGED, WXHOOK_REDIS, WXHOOK_SQLITE, Row
from services import SERVER_CPU, pinned, private_redis

Figures = dict[str, float]
_STORES = ("memory", "sqlite", "redis")


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    value: float | None
    limit: float
    at_most: bool = False

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        held = self.value <= self.limit if self.at_most else self.value >= self.limit
        return "PASS" if held else "FAIL"


def _versions() -> str:
    found = []
    for name in ("uvicorn", "uvloop", "httptools", "starlette", "wechatpy", "WeRoBot", "gunicorn", "lxml",
                 "pycryptodome", "redis"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} missing")
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=environment.ROOT, capture_output=True,
                            text=True, check=False).stdout.strip()
    return f"wxhook {commit or '(no git)'}; " + ", ".join(found)


def _json_of(argv: list[str]) -> Figures:
    run = subprocess.run(argv, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{run.stderr.strip()[-2000:]}")
    figures: Figures = json.loads(run.stdout.strip().splitlines()[-1])
    return figures


def http(options: argparse.Namespace) -> list[Row]:
    """Every contender in every mode, --rounds times; the fastest run of each counts (a failed one always)."""
    wrk = environment.ensure_wrk()
    if wrk is None:
        return []
    best: dict[tuple[str, str], Row] = {}
    with tempfile.TemporaryDirectory() as directory, private_redis() as redis_url:
        size = int(options.max_rate * (options.warmup + options.duration + 1))
        load = loadtest.Load(wrk, Path(directory), size, options.warmup, options.duration, options.connections,
                             options.inside)
        for number in range(1, options.rounds + 1):
            for contender in loadtest.chosen(options.only):
                for mode in contender.modes:
                    row = loadtest.measure(contender, mode, load, redis_url)
                    print(f"  round {number}: {row.contender}, {row.mode}: {row.rate:,.0f} req/s, {row.errors} "
                          f"errors {row.problem or row.note}", flush=True)
                    kept = best.get((row.contender, row.mode))
                    if kept is None or row.failed or (not kept.failed and row.rate > kept.rate):
                        best[(row.contender, row.mode)] = row
    return list(best.values())


def dispatch(options: argparse.Namespace) -> Figures:
    print("dispatch ...", flush=True)
    smoke = ["--messages", "300", "--rounds", "1"] if options.smoke else []
    return _json_of(pinned([sys.executable, str(environment.BENCH / "dispatch.py"), "--json", *smoke], SERVER_CPU))


def memory(options: argparse.Namespace) -> dict[str, Figures]:
    """The three stores side by side: nearly all of their time is the windows' waiting (the retry window or the
    nonce records' timestamp window, whichever is longer, after each batch)."""
    print("memory (each batch's windows really elapse) ...", flush=True)
    figures = {}
    with ExitStack() as stack:
        processes = {}
        for store in ("memory", "sqlite", "redis"):
            messages = options.messages if store == "memory" else options.store_messages
            argv = [sys.executable, str(environment.BENCH / "memory.py"), "--json", "--store", store,
                    "--messages", str(messages), "--retry-window", str(options.retry_window),
                    "--timestamp-window", str(options.timestamp_window)]
            # Files, not pipes: a pipe nobody drains while another process is waited for fills with the message
            # log lines and stalls its writer, and so the batch, past its retry window.
            out, err = (stack.enter_context(tempfile.TemporaryFile("w+")) for _ in range(2))
            processes[store] = (subprocess.Popen(argv, stdout=out, stderr=err, text=True), out, err)
        for store, (process, out, err) in processes.items():
            process.wait()
            out.seek(0)
            err.seek(0)
            if process.returncode != 0:
                raise RuntimeError(f"memory.py --store {store} failed:\n{err.read().strip()[-2000:]}")
            figures[store] = json.loads(out.read().strip().splitlines()[-1])
            figures[store]["void"] = float(figures[store]["longest_batch_s"] >= options.retry_window)
    return figures


def targets(rows: list[Row], routes: Figures | None, held: dict[str, Figures]) -> list[Target]:
    """The issue's targets, as ratios within this one run."""
    rates = {(row.contender, row.mode): row.rate for row in rows if not row.failed}

    def ratio(a: tuple[str, str], b: tuple[str, str]) -> float | None:
        return rates[a] / rates[b] if a in rates and b in rates and rates[b] else None

    valid = {store: figures for store, figures in held.items() if not figures["void"]}

    def per_push(store: str) -> float | None:
        if store not in valid or "memory" not in valid or valid["memory"]["held_bytes_per_push"] <= 0:
            return None
        return valid[store]["held_bytes_per_push"] / valid["memory"]["held_bytes_per_push"]

    plain, safe = "plaintext", "safe mode"
    return [
        Target("wxhook plaintext ≥ 0.8 × bare Starlette route", ratio((WXHOOK, plain), (BARE, plain)), 0.8),
        Target("wxhook safe mode ≥ 1.5 × Starlette + wechatpy safe mode",
               ratio((WXHOOK, safe), (STARLETTE_WECHATPY, safe)), 1.5),
        Target("wxhook plaintext ≥ 4 × WeRoBot", ratio((WXHOOK, plain), (WEROBOT, plain)), 4.0),
        Target("wxhook safe mode ≥ 2.5 × WeRoBot", ratio((WXHOOK, safe), (WEROBOT, safe)), 2.5),
        Target("dispatch, 10,000 keywords + 1,000 keys ≤ 1.2 × one of each",
               routes["ratio"] if routes else None, 1.2, at_most=True),
        Target("RSS after batch 2 − after batch 1 ≤ 30 MB (memory store)",
               valid["memory"]["growth_mb"] if "memory" in valid else None, 30.0, at_most=True),
        Target("SQLite store req/s ≥ ½ × memory store", ratio((WXHOOK_SQLITE, plain), (WXHOOK, plain)), 0.5),
        Target("Redis store req/s ≥ ½ × memory store", ratio((WXHOOK_REDIS, plain), (WXHOOK, plain)), 0.5),
        Target("SQLite bytes held per push ≤ 2 × memory store", per_push("sqlite"), 2.0, at_most=True),
        Target("Redis bytes held per push ≤ 2 × memory store", per_push("redis"), 2.0, at_most=True),
    ]


def reference(rows: list[Row]) -> None:
    """Where the minimal raw ASGI handler (the protocol's work and nothing else) lands: the floor to read the
    targets' ratios against on this machine."""
    rates = {(row.contender, row.mode): row.rate for row in rows if not row.failed}
    for mode, ceiling in (("plaintext", (BARE, "plaintext")), ("safe mode", (STARLETTE_WECHATPY, "safe mode"))):
        raw, ours, top = rates.get((RAW, mode)), rates.get((WXHOOK, mode)), rates.get(ceiling)
        if raw and ours and top:
            print(f"\nreference, {mode}: the {RAW} runs at {raw / top:.2f} × {ceiling[0]} ({ceiling[1]}); "
                  f"wxhook at {ours / raw:.2f} × the {RAW}")
        logged = rates.get((WXHOOK_LOGGED, mode))
        if logged and ours:
            print(f"\nreference, {mode}: with its message log on (uvicorn's default level), wxhook runs at "
                  f"{logged / ours:.2f} × its rate at --log-level warning")


def inside(rows: list[Row]) -> None:
    """With ``--inside``: where each request's time went, in microseconds. A request takes 1/(req/s) of the
    server's core; the app's call holds its own work, its ASGI sends (the response through the server to the
    socket) and receives (the body); the rest is the server's own (reading the request, the event loop)."""
    timed = [row for row in rows if row.inside is not None and row.rate > 0]
    if not timed:
        return
    print("\n| server | mode | µs per request | app call | its sends | its receives | app's own work | server's own |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in timed:
        assert row.inside is not None
        per_request, call, send, receive = 1e6 / row.rate, row.inside["call"], row.inside["send"], row.inside["receive"]
        print(f"| {row.contender} | {row.mode} | {per_request:.1f} | {call:.1f} | {send:.1f} | {receive:.1f} "
              f"| {call - send - receive:.1f} | {per_request - call:.1f} |")


def report(rows: list[Row], routes: Figures | None, held: dict[str, Figures], goals: list[Target]) -> None:
    if rows:
        print("\n| server | mode | req/s | p50 ms | p99 ms | errors | note |\n"
              "| --- | --- | ---: | ---: | ---: | ---: | --- |")
        for row in rows:
            print(f"| {row.contender} | {row.mode} | {row.rate:,.0f} | {row.p50_ms:.1f} | {row.p99_ms:.1f} "
                  f"| {row.errors} | {row.problem or row.note} |")
    inside(rows)
    if routes:
        print(f"\ndispatch: {routes['one_us']:.1f} µs per push with 1 keyword + 1 CLICK key, "
              f"{routes['many_us']:.1f} µs with 10,000 keywords + 1,000 CLICK keys")
    if held:
        print("\n| store | bytes held per push, window open | RSS after batch 1 | RSS after batch 2 | growth "
              "| longest batch | note |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for store, figures in held.items():
            note = "void: a batch outlasted its retry window" if figures["void"] else ""
            print(f"| {store} | {figures['held_bytes_per_push']:,.0f} | {figures['rss_first_mb']:.1f} MB "
                  f"| {figures['rss_second_mb']:.1f} MB | {figures['growth_mb']:+.1f} MB "
                  f"| {figures['longest_batch_s']:.0f} s | {note} |")
    reference(rows)
    print("\n| target | measured | verdict |\n| --- | ---: | --- |")
    for goal in goals:
        print(f"| {goal.label} | {'—' if goal.value is None else f'{goal.value:.2f}'} | {goal.verdict} |")


def run(options: argparse.Namespace) -> int:
    parts = options.parts.split(",")
    print(f"machine: {environment.machine()}\n{_versions()}\n", flush=True)
    rows = http(options) if "http" in parts else []
    routes = dispatch(options) if "dispatch" in parts else None
    held = memory(options) if "memory" in parts else {}
    goals = targets(rows, routes, held)
    report(rows, routes, held, goals)
    broken = [row for row in rows if row.failed]
    if broken:
        print(f"\n{len(broken)} contender(s) failed or answered wrongly: see their notes")
        return 1
    return 1 if options.check and any(goal.verdict == "FAIL" for goal in goals) else 0
