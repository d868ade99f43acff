"""The comparison's parts run in turn, then the tables and the targets (see compare.py for the command)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import environment
import loadtest
from loadtest import (
    BARE,
    GUARDED,
    MODES,
    RAW,
    STARLETTE_WECHATPY,
    WEROBOT,
    WXHOOK,
    WXHOOK_LOGGED,
    WXHOOK_REDIS,
    WXHOOK_SQLITE,
    Row,
)
from services import SERVER_CPU, pinned, private_redis

Figures = dict[str, float]
Counts = dict[str, dict[str, float]]
"""Instructions per push by app (instructions.py's names: wxhook, guarded, accounts) and mode (plaintext, safe)."""
_STORES = ("memory", "sqlite", "redis")
_PER_RUN = 1.5
"""Seconds each (contender, mode) run takes besides its warm-up and measured run (a server started, probed,
stopped), for the estimate printed before the HTTP part."""


@dataclass(frozen=True, slots=True)
class Target:
    label: str
    value: float | None
    limit: float
    at_most: bool = False
    judged: bool = True
    """False in a smoke run: its figures are too short to mean anything."""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        if not self.judged:
            return "not judged (smoke)"
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


def _json_of(argv: list[str]) -> Any:
    run = subprocess.run(argv, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{run.stderr.strip()[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


@dataclass(frozen=True, slots=True)
class Result:
    """One (contender, mode) over the interleaved rounds: the median round counts, and any failed round fails it."""

    runs: tuple[Row, ...]
    """Round by round, in order."""

    @property
    def contender(self) -> str:
        return self.runs[0].contender

    @property
    def mode(self) -> str:
        return self.runs[0].mode

    @property
    def measured(self) -> list[Row]:
        """The rounds that did not fail, slowest first."""
        return sorted((run for run in self.runs if not run.failed), key=lambda run: run.rate)

    @property
    def failed(self) -> bool:
        return any(run.failed for run in self.runs)

    @property
    def rate(self) -> float:
        """The median req/s of the rounds (of an even number, the mean of the middle two)."""
        rates = [run.rate for run in self.measured]
        return statistics.median(rates) if rates else 0.0

    @property
    def median_run(self) -> Row | None:
        """The round whose latencies are reported: the median one (of an even number, the slower middle one)."""
        measured = self.measured
        return measured[(len(measured) - 1) // 2] if measured else None

    @property
    def spread(self) -> str:
        """The rounds' min–max req/s, and that range as a share of the median (of two rounds or more)."""
        measured = self.measured
        if len(measured) < 2 or not self.rate:
            return "—"
        low, high = measured[0].rate, measured[-1].rate
        return f"{low:,.0f}–{high:,.0f} ({(high - low) / self.rate:.0%})"

    @property
    def errors(self) -> int:
        """Socket errors, non-200 answers and wrong replies, over all the rounds."""
        return sum(run.errors for run in self.runs)

    @property
    def note(self) -> str:
        """Why a round failed (each one), else the rounds' notes."""
        problems = [f"round {n}: {run.problem or f'{run.wrong} wrong answers'}"
                    for n, run in enumerate(self.runs, 1) if run.failed]
        notes = [f"round {n}: {run.note}" for n, run in enumerate(self.runs, 1) if run.note and not run.failed]
        return "; ".join(problems or notes)


def http(options: argparse.Namespace) -> list[Result]:
    """Every contender in every mode once per round, the rounds one after another (so a slow spell of the shared
    machine falls on every contender alike rather than on one); each (contender, mode) is reported by its median
    round."""
    wrk = environment.ensure_wrk()
    if wrk is None:
        return []
    contenders = loadtest.chosen(options.only)
    runs = sum(len(contender.modes) for contender in contenders) * options.rounds
    seconds = runs * (options.warmup + options.duration + _PER_RUN)
    took = f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} s"
    print(f"http: {runs} runs ({options.rounds} × {runs // options.rounds}): about {took}, and the pushes' pools",
          flush=True)
    rounds: dict[tuple[str, str], list[Row]] = {}
    with tempfile.TemporaryDirectory() as directory, private_redis() as redis_url:
        size = int(options.max_rate * (options.warmup + options.duration + 1))
        load = loadtest.Load(wrk, Path(directory), size, options.warmup, options.duration, options.connections,
                             options.inside)
        for number in range(1, options.rounds + 1):
            for contender in contenders:
                for mode in contender.modes:
                    row = loadtest.measure(contender, mode, load, redis_url)
                    print(f"  round {number}: {row.contender}, {row.mode}: {row.rate:,.0f} req/s, {row.errors} "
                          f"errors {row.problem or row.note}", flush=True)
                    rounds.setdefault((row.contender, row.mode), []).append(row)
    return [Result(tuple(runs)) for runs in rounds.values()]


def dispatch(options: argparse.Namespace) -> Figures:
    print("dispatch ...", flush=True)
    smoke = ["--messages", "300", "--rounds", "1"] if options.smoke else []
    return _json_of(pinned([sys.executable, str(environment.BENCH / "dispatch.py"), "--json", *smoke], SERVER_CPU))


def instructions(options: argparse.Namespace) -> Counts | None:
    """Instructions per push (instructions.py, under valgrind): wxhook, the guarded floor and one of 1,000 accounts,
    both modes (plaintext only, and 50 pushes, in a smoke run). None when valgrind is missing."""
    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed (Debian: apt-get install valgrind): skipped", flush=True)
        return None
    print("instructions (valgrind) ...", flush=True)
    # Two valgrind runs at a time on two cores: the counts do not depend on it (instructions.py --jobs).
    argv = [sys.executable, str(environment.BENCH / "instructions.py"), "--json",
            "--jobs", str(min(2, os.cpu_count() or 1)), "--app", "wxhook", "--app", "guarded", "--app", "accounts",
            "--mode", "plaintext"]
    argv += ["--pushes", "50"] if options.smoke else ["--mode", "safe"]
    counts: Counts = _json_of(argv)
    return counts


def memory(options: argparse.Namespace) -> dict[str, Figures]:
    """The three stores side by side: nearly all of their time is the windows' waiting (the retry window or the
    nonce records' timestamp window, whichever is longer, after each batch)."""
    print("memory (each batch's windows really elapse) ...", flush=True)
    figures: dict[str, Figures] = {}
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


def targets(results: list[Result], routes: Figures | None, held: dict[str, Figures], counts: Counts | None,
            judged: bool = True) -> list[Target]:
    """The issue's targets (28), as ratios of medians within this one run; none is judged in a smoke run."""
    rates = {(result.contender, result.mode): result.rate for result in results if not result.failed}

    def ratio(a: tuple[str, str], b: tuple[str, str]) -> float | None:
        return rates[a] / rates[b] if a in rates and b in rates and rates[b] else None

    def per_push(app: str, than: str) -> float | None:
        """``app``'s instructions per plaintext push over ``than``'s."""
        plaintext = {name: modes["plaintext"] for name, modes in (counts or {}).items() if "plaintext" in modes}
        return plaintext[app] / plaintext[than] if app in plaintext and plaintext.get(than) else None

    valid = {store: figures for store, figures in held.items() if not figures["void"]}

    def held_per_push(store: str) -> float | None:
        if store not in valid or "memory" not in valid or valid["memory"]["held_bytes_per_push"] <= 0:
            return None
        return valid[store]["held_bytes_per_push"] / valid["memory"]["held_bytes_per_push"]

    plain, safe = "plaintext", "safe mode"
    goals = [
        Target("wxhook plaintext ≥ 0.9 × guarded floor plaintext", ratio((WXHOOK, plain), (GUARDED, plain)), 0.9),
        Target("wxhook safe mode ≥ 0.95 × guarded floor safe mode", ratio((WXHOOK, safe), (GUARDED, safe)), 0.95),
        Target("instructions per push, wxhook plaintext ≤ 1.15 × guarded floor", per_push("wxhook", "guarded"),
               1.15, at_most=True),
        Target("instructions per push, one of 1,000 accounts ≤ 1.1 × one account (plaintext)",
               per_push("accounts", "wxhook"), 1.1, at_most=True),
        Target("wxhook plaintext ≥ 1.5 × Starlette + wechatpy",
               ratio((WXHOOK, plain), (STARLETTE_WECHATPY, plain)), 1.5),
        Target("wxhook safe mode ≥ 1.75 × Starlette + wechatpy",
               ratio((WXHOOK, safe), (STARLETTE_WECHATPY, safe)), 1.75),
        Target("wxhook plaintext ≥ 4 × WeRoBot", ratio((WXHOOK, plain), (WEROBOT, plain)), 4.0),
        Target("wxhook safe mode ≥ 3 × WeRoBot", ratio((WXHOOK, safe), (WEROBOT, safe)), 3.0),
        Target("dispatch, 10,000 keywords + 1,000 keys ≤ 1.2 × one of each",
               routes["ratio"] if routes else None, 1.2, at_most=True),
        Target("RSS after batch 2 − after batch 1 ≤ 30 MB (memory store)",
               valid["memory"]["growth_mb"] if "memory" in valid else None, 30.0, at_most=True),
        Target("SQLite store req/s ≥ ½ × memory store", ratio((WXHOOK_SQLITE, plain), (WXHOOK, plain)), 0.5),
        Target("Redis store req/s ≥ ½ × memory store", ratio((WXHOOK_REDIS, plain), (WXHOOK, plain)), 0.5),
        Target("SQLite bytes held per push ≤ 2 × memory store", held_per_push("sqlite"), 2.0, at_most=True),
        Target("Redis bytes held per push ≤ 2 × memory store", held_per_push("redis"), 2.0, at_most=True),
    ]
    return goals if judged else [Target(g.label, g.value, g.limit, g.at_most, judged=False) for g in goals]


def reference(results: list[Result]) -> None:
    """The floors wxhook is read against, per mode: the raw floor (the protocol's work and nothing else), the
    guarded floor (that plus wxhook's default guarantees, inlined) and wxhook, with what the guarantees cost
    (guarded / raw) and what the framework costs on top (wxhook / guarded); the bare route, which reads nothing,
    for reference only."""
    rates = {(result.contender, result.mode): result.rate for result in results if not result.failed}
    bare = rates.get((BARE, "plaintext"))

    def figure(value: float | None, ratio: bool = False) -> str:
        return "—" if not value else f"{value:.2f}" if ratio else f"{value:,.0f}"

    def over(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    lines = []
    for mode in MODES:
        raw, guarded, ours = rates.get((RAW, mode)), rates.get((GUARDED, mode)), rates.get((WXHOOK, mode))
        if not (raw or guarded or ours):
            continue
        top = bare if mode == "plaintext" else None
        lines.append(f"| {mode} | {figure(raw)} | {figure(guarded)} | {figure(ours)} "
                     f"| {figure(over(guarded, raw), True)} | {figure(over(ours, guarded), True)} "
                     f"| {figure(top)} | {figure(over(ours, top), True)} |")
    if lines:
        print("\nReference (median req/s): the raw floor (minimal raw ASGI handler), the guarded floor and wxhook; "
              "guarded / raw is what the default guarantees cost, wxhook / guarded what the framework costs on top. "
              "The bare Starlette route reads nothing: for reference only.\n\n"
              "| mode | raw floor | guarded floor | wxhook | guarded / raw | wxhook / guarded | bare route "
              "| wxhook / bare |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        print("\n".join(lines))
    for mode in MODES:
        logged, ours = rates.get((WXHOOK_LOGGED, mode)), rates.get((WXHOOK, mode))
        if logged and ours:
            print(f"\nreference, {mode}: with its message log on (uvicorn's default level), wxhook runs at "
                  f"{logged / ours:.2f} × its rate at --log-level warning")


def inside(results: list[Result]) -> None:
    """With ``--inside``: where each request's time went, in microseconds, in each contender's median round. A
    request takes 1/(req/s) of the server's core; the app's call holds its own work, its ASGI sends (the response
    through the server to the socket) and receives (the body); the rest is the server's own (reading the request,
    the event loop)."""
    timed = [run for run in (result.median_run for result in results)
             if run is not None and run.inside is not None and run.rate > 0]
    if not timed:
        return
    print("\n| server | mode | µs per request | app call | its sends | its receives | app's own work | server's own |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in timed:
        assert row.inside is not None
        per_request, call, send, receive = 1e6 / row.rate, row.inside["call"], row.inside["send"], row.inside["receive"]
        print(f"| {row.contender} | {row.mode} | {per_request:.1f} | {call:.1f} | {send:.1f} | {receive:.1f} "
              f"| {call - send - receive:.1f} | {per_request - call:.1f} |")


def _http_table(results: list[Result], options: argparse.Namespace) -> None:
    print(f"\nhttp: median of {options.rounds} interleaved round(s), each {options.warmup} s of warm-up then "
          f"{options.duration} s measured, {options.connections} connections; p50 and p99 of the median round; "
          "errors over all rounds\n\n"
          "| server | mode | req/s | rounds min–max | p50 ms | p99 ms | errors | note |\n"
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for result in results:
        run = result.median_run
        p50, p99 = (f"{run.p50_ms:.1f}", f"{run.p99_ms:.1f}") if run else ("—", "—")
        print(f"| {result.contender} | {result.mode} | {result.rate:,.0f} | {result.spread} | {p50} | {p99} "
              f"| {result.errors} | {result.note} |")
    if options.rounds > 1:
        print("\n| contender, mode | " + " | ".join(f"round {n}" for n in range(1, options.rounds + 1))
              + " | median |\n| --- |" + " ---: |" * (options.rounds + 1))
        for result in results:
            rates = " | ".join("failed" if run.failed else f"{run.rate:,.0f}" for run in result.runs)
            print(f"| {result.contender}, {result.mode} | {rates} | {result.rate:,.0f} |")


def report(results: list[Result], routes: Figures | None, held: dict[str, Figures], counts: Counts | None,
           goals: list[Target], options: argparse.Namespace) -> None:
    if results:
        _http_table(results, options)
    inside(results)
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
    if counts:
        names = {"wxhook": "wxhook", "guarded": GUARDED, "accounts": "wxhook, one of 1,000 accounts"}
        print("\n| app | mode | instructions per push | × guarded floor |\n| --- | --- | ---: | ---: |")
        for app, modes in counts.items():
            for mode, per_push in modes.items():
                floor = counts.get("guarded", {}).get(mode)
                print(f"| {names.get(app, app)} | {mode} | {per_push:,.0f} "
                      f"| {f'{per_push / floor:.2f}' if floor else '—'} |")
    reference(results)
    print("\n| target | measured | verdict |\n| --- | ---: | --- |")
    for goal in goals:
        print(f"| {goal.label} | {'—' if goal.value is None else f'{goal.value:.2f}'} | {goal.verdict} |")


def run(options: argparse.Namespace) -> int:
    parts = options.parts.split(",")
    print(f"machine: {environment.machine()}\n{_versions()}", flush=True)
    if "http" in parts:
        print(f"http: {options.rounds} interleaved round(s) of every contender and mode, each run {options.warmup} s "
              f"of warm-up then {options.duration} s measured; each one's median round counts", flush=True)
    print(flush=True)
    results = http(options) if "http" in parts else []
    routes = dispatch(options) if "dispatch" in parts else None
    held = memory(options) if "memory" in parts else {}
    counts = instructions(options) if "instructions" in parts else None
    goals = targets(results, routes, held, counts, judged=not options.smoke)
    report(results, routes, held, counts, goals, options)
    broken = [result for result in results if result.failed]
    if broken:
        print(f"\n{len(broken)} contender(s) failed or answered wrongly: see their notes")
        return 1
    return 1 if options.check and any(goal.verdict == "FAIL" for goal in goals) else 0
