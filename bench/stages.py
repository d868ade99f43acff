"""Where a plaintext push's time goes in wxhook, stage by stage, beside what the guarded floor spends on the same
work (bench/peers/guarded_asgi.py): the profile behind docs/performance.md, "Against the guarded floor".

    python bench/stages.py [--pushes 20000] [--rounds 5]
    python bench/stages.py --instructions [--pushes 2000] [--jobs 2]    # instructions, counted by valgrind

Each stage runs alone over ``--pushes`` distinct pushes, prepared beforehand (the inputs a stage gets in the
pipeline: the query, the body, the parsed fields, the typed message …), and the best of ``--rounds`` interleaved
rounds counts. The stages add up to a little less than the whole push through the ASGI app (also measured, both
apps, through the same in-process driver): what is left is the call between them. Times move with the machine;
the shares, and the difference between the columns, are what to read.

``--instructions`` counts each stage's instructions instead, as bench/instructions.py counts a whole push: every
stage run ``--pushes`` times in a process of its own under cachegrind, on simulated clocks, less a run that prepares
the same pushes and runs nothing, less the harness's own call of an empty stage. The counts repeat from run to run
and do not depend on the machine's load; the whole push's row is bench/instructions.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import instructions
from pushes import APPID, TOKEN, Push, Signer, SimulatedTime, call

os.environ.update(WXHOOK_TOKEN=TOKEN, WXHOOK_APPID=APPID)
sys.path.insert(0, str(Path(__file__).resolve().parent / "peers"))

import guarded_asgi
import raw_asgi
import wxhook_echo
from lxml import etree

from wxhook.context import Context
from wxhook.delivery import Delivery
from wxhook.messages import dedupe_key, parse_message
from wxhook.protocol import parse_query
from wxhook.replies import Text
from wxhook.stores import MemoryStore
from wxhook.window import _kept, _render
from wxhook.xml import parse_xml

Stage = Callable[[int], Awaitable[None]]


def _requests(pushes: list[Push]) -> list[tuple[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]]]]:
    made = []
    for push in pushes:
        query = push.target.partition("?")[2]
        scope = {"type": "http", "method": "POST", "path": "/", "query_string": query.encode(),
                 "headers": [(b"content-length", str(len(push.body)).encode())]}
        event = {"type": "http.request", "body": push.body, "more_body": False}

        async def receive(event: dict[str, Any] = event) -> dict[str, Any]:
            return event

        made.append((scope, receive))
    return made


async def _no_send(message: Any) -> None:
    return None


def stages(pushes: list[Push]) -> list[tuple[str, Stage, Stage | None]]:
    """(stage, wxhook's, the floor's equivalent or None when the floor does without it), each over push ``i``."""
    bot = wxhook_echo.bot
    served = bot._single
    assert served is not None
    inbound = served.inbound
    requests = _requests(pushes)
    queries = [parse_query(scope) for scope, _ in requests]
    bodies = [push.body for push in pushes]
    raws = [parse_xml(body) for body in bodies]
    msgs = [parse_message(raw) for raw in raws]
    loop = asyncio.get_running_loop()
    runtime = bot._runtime.get(loop)
    contexts = [Context(msg, bot, runtime.background, served) for msg in msgs]
    deliveries = [Delivery(_no_send, loop, served, bot.observer) for _ in msgs]
    for delivery, msg in zip(deliveries, msgs, strict=True):
        delivery.msg = msg
    found = bot.resolve(msgs[0], APPID)
    store, floor_store = MemoryStore(), {}
    replay = inbound._replay
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    fields = [{child.tag: child.text or "" for child in etree.fromstring(body, parser)} for body in bodies]

    async def query_wx(i: int) -> None:
        inbound._verify(parse_query(requests[i][0], "signature", "timestamp", "nonce"))

    async def query_floor(i: int) -> None:
        query = dict(pair.partition("=")[::2] for pair in requests[i][0]["query_string"].decode().split("&"))
        assert raw_asgi._sign(TOKEN, query["timestamp"], query["nonce"]) == query["signature"]

    async def time_wx(i: int) -> None:
        replay.check_time(queries[i]["timestamp"])

    async def time_floor(i: int) -> None:
        assert abs(time.time() - int(queries[i]["timestamp"])) <= guarded_asgi.WINDOW

    async def body_wx(i: int) -> None:
        scope, receive = requests[i]
        await inbound._read_body(scope, receive, loop.time() + 10)

    async def body_floor(i: int) -> None:
        (await requests[i][1]())["body"]

    async def nonce_wx(i: int) -> None:
        replay.nonce(queries[i]["timestamp"], queries[i]["nonce"], 300.0, bodies[i])

    async def nonce_floor(i: int) -> None:
        f"{queries[i]['timestamp']}:{queries[i]['nonce']}", hashlib.blake2b(bodies[i], digest_size=12).hexdigest()

    async def parse_wx(i: int) -> None:
        parse_xml(bodies[i])

    async def parse_floor(i: int) -> None:
        {child.tag: child.text or "" for child in etree.fromstring(bodies[i], parser)}

    async def typed_wx(i: int) -> None:
        parse_message(raws[i])

    async def route_wx(i: int) -> None:
        Delivery(_no_send, loop, served, bot.observer).route(bot, msgs[i], bot.deadline)

    async def context_wx(i: int) -> None:
        Context(msgs[i], bot, runtime.background, served)

    async def key_wx(i: int) -> None:
        served.keys.message(dedupe_key(msgs[i])).state  # noqa: B018

    async def key_floor(i: int) -> None:
        guarded_asgi._key(fields[i])

    async def admit_wx(i: int) -> None:
        store.admit_now(f"n{i}", "digest", 300.0, f"s{i}", None, 2.0)  # the claim is written only if a handler waits

    async def admit_floor(i: int) -> None:
        floor_store.get(f"n{i}")
        floor_store[f"n{i}"] = "digest"
        floor_store.get(f"s{i}")

    async def handler_wx(i: int) -> None:
        await bot._dispatcher.run(contexts[i], found)

    async def render_wx(i: int) -> None:
        _kept(_render(msgs[i], Text(msgs[i].content)))  # type: ignore[attr-defined]

    async def render_floor(i: int) -> None:
        raw_asgi.echo(fields[i])

    async def outcome_wx(i: int) -> None:
        store.set_now(f"s{i}", "done+reply", 300.0)

    async def outcome_floor(i: int) -> None:
        floor_store[f"s{i}"] = "reply"

    async def log_wx(i: int) -> None:
        deliveries[i].log("passive")

    async def reply_wx(i: int) -> None:
        delivery = deliveries[i]
        delivery.answered = False  # answered once per round
        await delivery.reply("<xml>reply</xml>")

    async def reply_floor(i: int) -> None:
        await raw_asgi._answer(_no_send, 200, b"<xml>reply</xml>")

    return [
        ("query parsed, signature checked", query_wx, query_floor),
        ("timestamp window", time_wx, time_floor),
        ("body read (bounded by body_timeout)", body_wx, body_floor),
        ("replay record made (plaintext)", nonce_wx, nonce_floor),
        ("XML parsed", parse_wx, parse_floor),
        ("typed message built", typed_wx, None),
        ("delivery made, route chosen", route_wx, None),
        ("context made", context_wx, None),
        ("dedupe key and store keys", key_wx, key_floor),
        ("nonce recorded, message claimed", admit_wx, admit_floor),
        ("handler called (dispatcher, coerced reply)", handler_wx, None),
        ("reply rendered", render_wx, render_floor),
        ("outcome kept", outcome_wx, outcome_floor),
        ("counted, latency histogram, log check", log_wx, None),
        ("answered (HTTP start and body)", reply_wx, reply_floor),
    ]


async def _idle(i: int) -> None:
    """The harness alone: what calling a stage costs, taken off every stage's count."""


async def _run_one(count: int, prepared: int, which: int, column: int) -> None:
    """In a counted process: stage ``which`` (``column`` 0 wxhook's, 1 the floor's; ``which`` -1: the empty stage)
    ``count`` times, after the same preparation as every other counted process."""
    await wxhook_echo.bot.startup()
    logging.getLogger("wxhook").setLevel(logging.WARNING)
    table = stages(list(Signer(sealed=False).texts(prepared)))
    stage = _idle if which < 0 else table[which][1 + column]
    assert stage is not None
    for i in range(count):
        await stage(i)
    await wxhook_echo.bot.shutdown()


def _instructions(count: int, jobs: int) -> None:
    valgrind = instructions.find_valgrind()
    names = asyncio.run(_names())
    runs = [(-1, 0), *((i, column) for i, (_, has_floor) in enumerate(names) for column in (0, 1)
                       if column == 0 or has_floor)]

    def counted(which: int, column: int, times: int) -> int:
        return instructions.count(valgrind, [__file__, "--child", str(which), str(column), str(times), str(count)])

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        base = pool.submit(counted, -1, 0, 0)
        found = {run: pool.submit(counted, *run, count) for run in runs}
        idle = (found[(-1, 0)].result() - base.result()) / count
        per = {run: (future.result() - base.result()) / count - idle for run, future in found.items() if run[0] >= 0}
    print("| stage | wxhook instructions | guarded floor instructions | difference |\n| --- | ---: | ---: | ---: |")
    ours_total = floor_total = 0.0
    for i, (name, has_floor) in enumerate(names):
        ours, floor = per[(i, 0)], per[(i, 1)] if has_floor else 0.0
        ours_total, floor_total = ours_total + ours, floor_total + floor
        print(f"| {name} | {ours:,.0f} | {floor:,.0f} | {ours - floor:+,.0f} |")
    print(f"| **the stages** | **{ours_total:,.0f}** | **{floor_total:,.0f}** | **{ours_total - floor_total:+,.0f}** |")


async def _names() -> list[tuple[str, bool]]:
    """Each stage's name, and whether the floor has it."""
    return [(name, floor is not None) for name, _, floor in stages(list(Signer(sealed=False).texts(1)))]


async def _timed(stage: Stage, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        await stage(i)
    return (time.perf_counter() - started) / count * 1e6


async def main(count: int, rounds: int) -> None:
    signer = Signer(sealed=False)
    pushes = list(signer.texts(count))
    bot = wxhook_echo.bot
    await bot.startup()
    logging.getLogger("wxhook").setLevel(logging.WARNING)  # as the comparison serves it (--log-level warning)
    table = stages(pushes)
    best: dict[str, list[float]] = {name: [float("inf"), float("inf")] for name, _, _ in table}
    whole = {"wxhook": float("inf"), "guarded floor": float("inf")}
    for number in range(rounds):
        for name, ours, floor in table:
            best[name][0] = min(best[name][0], await _timed(ours, count))
            if floor is not None:
                best[name][1] = min(best[name][1], await _timed(floor, count))
        # The whole push, on pushes never sent before (a repeat would be answered from its kept outcome).
        for label, app in (("wxhook", bot), ("guarded floor", guarded_asgi.app)):
            fresh = list(signer.texts(count, (number + 1) * 10 * count + (count if label == "wxhook" else 0)))
            started = time.perf_counter()
            for push in fresh:
                await call(app, push)
            whole[label] = min(whole[label], (time.perf_counter() - started) / count * 1e6)
    await bot.shutdown()
    print("| stage | wxhook µs | guarded floor µs | difference |\n| --- | ---: | ---: | ---: |")
    ours_total = floor_total = 0.0
    for name, (ours, floor) in best.items():
        floor = 0.0 if floor == float("inf") else floor
        ours_total, floor_total = ours_total + ours, floor_total + floor
        print(f"| {name} | {ours:.2f} | {floor:.2f} | {ours - floor:+.2f} |")
    print(f"| **the stages** | **{ours_total:.2f}** | **{floor_total:.2f}** | **{ours_total - floor_total:+.2f}** |")
    print(f"| whole push through the ASGI app (in-process driver) | {whole['wxhook']:.2f} "
          f"| {whole['guarded floor']:.2f} | {whole['wxhook'] - whole['guarded floor']:+.2f} |")
    print(f"\nwxhook at {whole['wxhook'] / whole['guarded floor']:.2f} × the guarded floor's time per push; "
          f"{whole['wxhook'] - ours_total:.2f} µs of wxhook's whole push is outside the stages (the calls and "
          f"awaits between them, the reply window's bookkeeping), {whole['guarded floor'] - floor_total:.2f} µs of "
          "the floor's")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:  # a counted process of --instructions: stage, column, count, prepared
        which, column, times, prepared = map(int, sys.argv[2:6])
        SimulatedTime().run(_run_one(times, prepared, which, column))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pushes", type=int, help="pushes per stage (default 20000; 2000 with --instructions)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind instead")
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at a time, with --instructions")
    options = parser.parse_args()
    if options.instructions:
        _instructions(options.pushes or 2000, options.jobs)
    else:
        asyncio.run(main(options.pushes or 20000, options.rounds))
