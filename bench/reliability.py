"""Evidence at volume and under faults: real uvicorn processes, signed pushes as WeChat sends them, counted outcomes.

    python bench/reliability.py load --store memory|sqlite|redis [--scale small|full]
    python bench/reliability.py faults [--only api|token|sigterm|sigkill|hang] [--scale small|full]
    python bench/reliability.py all [--scale small|full]

Every scenario prints its figures and exits non-zero when its invariant breaks, so each doubles as a check
(tests/e2e/test_reliability_smoke.py runs ``all --scale small`` in CI). The bot under test is
``bench/apps/reliability_bot.py``; the WeChat API is a FakeWeChat served from this process; Redis is a private
redis-server on a free port. docs/reliability.md states what each scenario proves and the figures of a run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import inspect
import itertools
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wxhook import Bot  # noqa: E402
from wxhook.observe import follower_tag  # noqa: E402
from wxhook.protocol import render_message, sign_query  # noqa: E402
from wxhook.testing import FakeWeChat  # noqa: E402
from wxhook.xml import parse_xml  # noqa: E402

TOKEN = "reliability"
SEND = "/cgi-bin/message/custom/send"
STABLE_TOKEN = "/cgi-bin/stable_token"


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout|Exit)\b")


class Broken(Exception):
    """An invariant did not hold; the message says which and how often."""


@dataclass(frozen=True)
class Scale:
    messages: int
    concurrency: int
    per_fault: int
    kills: int


SCALES = {"small": Scale(1_000, 50, 4, 120), "full": Scale(20_000, 200, 40, 1_000)}


# -- processes -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_available() -> bool:
    """Whether the Redis runs can happen; a missing binary fails when WXHOOK_REQUIRE_REDIS is set (as in CI)."""
    if shutil.which("redis-server") is not None:
        return True
    if os.environ.get("WXHOOK_REQUIRE_REDIS"):
        raise Broken("redis-server is not installed (Debian: apt-get install redis-server), and "
                     "WXHOOK_REQUIRE_REDIS is set")
    return False


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free port, nothing persisted."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Broken("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise Broken("the private redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@dataclass
class Fleet:
    """The bot's uvicorn processes, their shared run record, logs and counters."""

    workdir: Path
    urls: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def runs_file(self) -> Path:
        return self.workdir / "runs.txt"

    def runs(self) -> list[tuple[str, int, int]]:
        """Each recorded step as (event, msgid, pid)."""
        lines = self.runs_file.read_text().split("\n") if self.runs_file.exists() else []
        return [(event, int(msg_id), int(pid)) for event, msg_id, pid in (line.split() for line in lines if line)]

    def count(self, event: str) -> Counter[int]:
        return Counter(msg_id for kind, msg_id, _ in self.runs() if kind == event)

    def log(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.workdir.glob("server-*.log")))

    def errors(self) -> Counter[str]:
        """The exceptions in the bot's log (each traceback's last line, cut short), most frequent first."""
        return Counter(line[:100] for line in self.log().splitlines() if _EXCEPTION_LINE.match(line))

    def stats(self) -> Counter[str]:
        """bot.stats summed over the workers that shut down cleanly."""
        total: Counter[str] = Counter()
        for path in (self.workdir / "stats").glob("*.json"):
            total.update(json.loads(path.read_text()))
        return total

    def start(self, env: dict[str, str], workers: int = 1) -> subprocess.Popen[bytes]:
        port = free_port()
        log = (self.workdir / f"server-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.apps.reliability_bot:app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        self.urls.append(url)
        self.processes.append(process)
        seen: set[str] = set()
        deadline = time.monotonic() + 60
        while len(seen) < workers:  # every worker answers
            if process.poll() is not None or time.monotonic() > deadline:
                raise Broken(f"the bot did not start; its log:\n{self.log()[-2000:]}")
            try:
                seen.add(httpx.get(url, timeout=2).headers.get("x-worker", ""))
            except httpx.TransportError:
                time.sleep(0.1)
        return process

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
        """SIGTERM and wait: the bot drains and leaves its counters. Returns the seconds it took."""
        started = time.monotonic()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise Broken(f"the bot did not exit within {timeout:g}s of SIGTERM") from None
        return time.monotonic() - started


@contextlib.contextmanager
def fleet(env: dict[str, str], instances: int = 1, workers: int = 1) -> Iterator[Fleet]:
    """``instances`` uvicorn servers of ``workers`` workers each, stopped (drained) on exit."""
    with tempfile.TemporaryDirectory(prefix="wxhook-reliability-") as tmp:
        group = Fleet(Path(tmp))
        (group.workdir / "stats").mkdir()
        full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")},
                    "WXHOOK_TOKEN": TOKEN, "RUNS_FILE": str(group.runs_file),
                    "STATS_DIR": str(group.workdir / "stats"), **env}
        full_env["WXHOOK_STORE"] = full_env.get("WXHOOK_STORE", "memory://").replace(
            "{dir}", str(group.workdir))
        try:
            for _ in range(instances):
                group.start(full_env, workers)
            yield group
        finally:
            for process in group.processes:
                if process.poll() is None:
                    group.stop(process)


def api_env(fake: FakeWeChat) -> dict[str, str]:
    return {"WXHOOK_APPID": fake.appid, "WXHOOK_SECRET": fake.secret, "WXHOOK_API_BASE": fake.url}


# -- WeChat's side ---------------------------------------------------------------------------------------


_msg_ids = itertools.count(random.randrange(1 << 40, 1 << 41))


@dataclass
class Push:
    """One message as WeChat pushes it; ``query`` is the first delivery's, which a retry may reuse."""

    msg_id: int
    openid: str
    content: str
    body: bytes
    query: dict[str, str]

    @classmethod
    def new(cls, content: str, openid: str | None = None) -> Push:
        msg_id = next(_msg_ids)
        openid = openid or f"o_{msg_id}"
        fields = {"ToUserName": "gh_reliability", "FromUserName": openid, "CreateTime": int(time.time()),
                  "MsgType": "text", "Content": content, "MsgId": msg_id}
        return cls(msg_id, openid, content, render_message(fields).encode(), fresh_query())

    @property
    def reply(self) -> str:
        return f"echo: {self.content}"


def fresh_query() -> dict[str, str]:
    """A new timestamp and nonce, as WeChat signs each try (the nonce is unique, so no guard mistakes it)."""
    return sign_query(TOKEN, nonce=str(secrets.randbits(62)))


@dataclass
class Answer:
    status: int  # 0: no HTTP answer (the connection failed)
    text: str  # the reply's Content, "success", or the error
    seconds: float
    worker: str


class Wire:
    """A lean HTTP/1.1 keep-alive client: at volume, httpx's own cost would be what the figures measured.

    A request on a reused connection that fails before any byte of the answer arrived is sent once more on a
    new one (the server closed it idle, and saw nothing), as every HTTP client does.
    """

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}

    async def post(self, url: str, query: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = httpx.URL(url)
        where = (parts.host, parts.port or 80)
        head = (f"POST {parts.path}?{urlencode(query)} HTTP/1.1\r\nHost: {where[0]}:{where[1]}\r\n"
                f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        idle = self._idle.setdefault(where, [])
        while True:
            reused = bool(idle)
            reader, writer = idle.pop() if reused else await asyncio.open_connection(*where)
            try:
                writer.write(head + body)
                await writer.drain()
                status_line = await reader.readline()
                if not status_line:
                    raise ConnectionResetError("the server closed the connection")
            except OSError:
                writer.close()
                if reused:
                    continue
                raise
            try:
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                content = await reader.readexactly(int(headers.get("content-length", "0")))
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
                raise
            if headers.get("connection", "").lower() == "close":
                writer.close()
            else:
                idle.append((reader, writer))
            return int(status_line.split()[1]), headers, content

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()

    async def __aenter__(self) -> Wire:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


async def deliver(wire: Wire, url: str, push: Push, *, same_query: bool = True) -> Answer:
    started = time.perf_counter()
    query = push.query if same_query else fresh_query()
    try:
        status, headers, content = await wire.post(url, query, push.body)
    except (OSError, asyncio.IncompleteReadError) as exc:
        return Answer(0, f"{type(exc).__name__}: {exc}", time.perf_counter() - started, "")
    seconds = time.perf_counter() - started
    worker = headers.get("x-worker", "")
    if status != 200 or content == b"success":
        return Answer(status, content.decode(errors="replace"), seconds, worker)
    return Answer(200, str(parse_xml(content).get("Content")), seconds, worker)


async def deliver_all(wire: Wire, url: str, pushes: list[Push], concurrency: int = 20) -> list[Answer]:
    """Each push once, in order, at most ``concurrency`` at a time (the fault runs' deadlines are short)."""
    slots = asyncio.Semaphore(concurrency)

    async def one(push: Push) -> Answer:
        async with slots:
            return await deliver(wire, url, push)

    return await asyncio.gather(*(one(push) for push in pushes))


async def settle(done: Callable[[], bool], timeout: float) -> bool:
    """Poll ``done`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


def logged(openid: str) -> str:
    """How wxhook's log lines name a follower: the message log's hash, never the openid."""
    return f"user={follower_tag(openid)}"


def sends_by_openid(fake: FakeWeChat) -> dict[str, list[str]]:
    sent: dict[str, list[str]] = {}
    for call in fake.calls(SEND):
        sent.setdefault(call.json["touser"], []).append(call.json.get("text", {}).get("content", ""))
    return sent


def table(title: str, rows: list[tuple[str, object]]) -> None:
    print(f"\n{title}")
    for name, value in rows:
        print(f"  {name:<34} {value:,}" if isinstance(value, int) else f"  {name:<34} {value}")


def check(failures: list[str]) -> None:
    if failures:
        raise Broken("; ".join(failures))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# -- load ------------------------------------------------------------------------------------------------

LOAD_DEADLINE = 2.0
SLOW_MS = 2_500  # past the deadline: the reply goes through the customer-service API


@dataclass
class Planned:
    push: Push
    sleep_ms: int
    retries: list[tuple[str, bool]]  # (when: "overlap" | "after", same query?)
    answers: list[tuple[Answer, str]] = field(default_factory=list)  # (answer, which delivery)


def plan(count: int, rng: random.Random) -> list[Planned]:
    """70 % answer at once, 25 % after up to 300 ms, 5 % after the deadline; 30 % delivered two or three times."""
    planned = []
    for _ in range(count):
        roll = rng.random()
        sleep_ms = 0 if roll < 0.70 else rng.randrange(300) if roll < 0.95 else SLOW_MS
        retries = []
        if rng.random() < 0.30:
            retries = [(rng.choice(("overlap", "after")), rng.random() < 0.5) for _ in range(rng.choice((1, 2)))]
        planned.append(Planned(Push.new(f"m {sleep_ms}"), sleep_ms, retries))
    return planned


async def drive(urls: list[str], planned: list[Planned], concurrency: int, rng: random.Random) -> float:
    """Deliver every message and its retries, at most ``concurrency`` requests in flight; returns the wall time."""
    slots = asyncio.Semaphore(concurrency)
    queue: asyncio.Queue[Planned] = asyncio.Queue()
    for item in planned:
        queue.put_nowait(item)

    async with Wire() as http:

        async def one(item: Planned, label: str, same_query: bool) -> None:
            async with slots:
                answer = await deliver(http, rng.choice(urls), item.push, same_query=same_query)
            item.answers.append((answer, label))

        async def message(item: Planned) -> None:
            first = asyncio.create_task(one(item, "first", True))
            overlapping = []
            for when, same in item.retries:
                if when == "overlap":
                    await asyncio.sleep(rng.uniform(0, max(item.sleep_ms, 50) / 1000))
                    overlapping.append(asyncio.create_task(one(item, "overlap", same)))
            await first
            for when, same in item.retries:
                if when == "after":
                    await asyncio.sleep(rng.uniform(0, 0.2))
                    await one(item, "after", same)
            await asyncio.gather(*overlapping)

        async def worker() -> None:
            while not queue.empty():
                await message(queue.get_nowait())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started


async def load_run(store: str, scale: Scale, seed: int) -> None:
    rng = random.Random(seed)
    instances, workers, label = {"memory": (1, 1, "1 worker"), "sqlite": (1, 2, "2 workers on one file"),
                                 "redis": (2, 1, "2 instances on one redis-server")}[store]
    with contextlib.ExitStack() as stack:
        url = {"memory": "memory://", "sqlite": "sqlite:///{dir}/state.db"}.get(store)
        if url is None:
            url = stack.enter_context(private_redis())
        fake = stack.enter_context(FakeWeChat())
        group = stack.enter_context(fleet({**api_env(fake), "WXHOOK_STORE": url, "DEADLINE": str(LOAD_DEADLINE)},
                                          instances, workers))
        planned = plan(scale.messages, rng)
        elapsed = await drive(group.urls, planned, scale.concurrency, rng)
        unanswered = {item.push.openid for item in planned
                      if not any(a.text == item.push.reply for a, _ in item.answers)}
        await settle(lambda: unanswered <= set(sends_by_openid(fake)), 30)
        await asyncio.sleep(0.5)  # a duplicate send would arrive about now
        for process in group.processes:
            group.stop(process)
        report_load(store, label, scale, planned, elapsed, group, sends_by_openid(fake))


def report_load(store: str, label: str, scale: Scale, planned: list[Planned], elapsed: float, group: Fleet,
                sent: dict[str, list[str]]) -> None:
    answers = [(a, which) for item in planned for a, which in item.answers]
    runs = group.count("run")
    failures: list[str] = []
    wrong = unexplained_success = lost = twice_shown = retries_right = 0
    for item in planned:
        sends = sent.get(item.push.openid, [])
        passive = [a for a, _ in item.answers if a.text == item.push.reply]
        if len(sends) > 1 or any(text != item.push.reply for text in sends):
            failures.append(f"message {item.push.msg_id}: customer-service sends {sends}")
        if sends and passive:
            twice_shown += 1
        if not sends and not passive:
            lost += 1
        for answer, which in item.answers:
            if answer.status == 200 and answer.text == "success":
                legit = bool(sends) or answer.seconds >= LOAD_DEADLINE * 0.95
                unexplained_success += not legit
                right = legit
            else:
                right = answer.status == 200 and answer.text == item.push.reply
                wrong += answer.status == 200 and not right
            retries_right += right and which != "first"
    non200 = sum(a.status != 200 for a, _ in answers)
    errors = Counter(a.text[:60] for a, _ in answers if a.status != 200)
    ran_twice = sum(runs[item.push.msg_id] > 1 for item in planned)
    never_ran = sum(runs[item.push.msg_id] == 0 for item in planned)
    retries = [which for _, which in answers if which != "first"]
    latencies = [a.seconds * 1000 for a, _ in answers]
    workers = Counter(a.worker for a, _ in answers)
    stats = group.stats()
    table(f"load, {store} store ({label}): {len(planned):,} messages at concurrency {scale.concurrency}", [
        ("requests", len(answers)),
        ("retries (overlapping / after)", f"{retries.count('overlap'):,} / {retries.count('after'):,}"),
        ("throughput", f"{len(answers) / elapsed:,.0f} req/s over {elapsed:.1f} s"),
        ("latency p50 / p99 / max", f"{percentile(latencies, 0.5):,.0f} / {percentile(latencies, 0.99):,.0f} / "
                                    f"{max(latencies):,.0f} ms"),
        ("answered by worker (pid: requests)", ", ".join(f"{w}: {n:,}" for w, n in sorted(workers.items()))),
        ("non-200", non200),
        ("handler runs / messages", f"{sum(runs[i.push.msg_id] for i in planned):,} / {len(planned):,} "
                                    f"({ran_twice} twice, {never_ran} never)"),
        ("retries answered correctly", f"{retries_right:,} / {len(retries):,}"),
        ("wrong replies", wrong),
        ("'success' before the deadline", unexplained_success),
        ("deferred replies via the API", sum(len(s) for s in sent.values())),
        ("shown twice (passive + API)", twice_shown),
        ("replies lost", lost),
        ("bot.stats", ", ".join(f"{k} {v:,}" for k, v in sorted(stats.items()))),
    ])
    if errors:
        print("  delivery errors:", dict(errors))
    for line, count in group.errors().most_common(5):
        print(f"  logged by the bot {count:,}x: {line}")
    for name, value in (("non-200 answers", non200), ("messages run twice", ran_twice),
                        ("messages never run", never_ran), ("wrong replies", wrong),
                        ("'success' answers before the deadline", unexplained_success),
                        ("replies shown twice", twice_shown), ("replies lost", lost)):
        if value:
            failures.append(f"{value} {name}")
    check(failures)


# -- faults ----------------------------------------------------------------------------------------------

FAULT_DEADLINE = 0.3
LATE_MS = 500
API_TIMEOUT = 1.0


@dataclass(frozen=True)
class Fault:
    """A way the send of a late reply fails, and what must come of it."""

    name: str
    script: Callable[[FakeWeChat, str], None]
    calls: int  # custom/send requests WeChat sees for the message
    delivered: bool
    log: str | None  # the log line that reports it, when not delivered


def _fail(*args: Any, **kwargs: Any) -> Callable[[FakeWeChat, str], None]:
    return lambda fake, openid: fake.fail(SEND, *args, openid=openid, **kwargs)


FAULTS = (
    Fault("answered at once", lambda fake, openid: None, 1, True, None),
    Fault("-1 (system busy) once", _fail(-1), 2, True, None),
    Fault("-1 on every try", _fail(-1, times=None), 3, False, "not delivered after 3 attempt(s)"),
    Fault("HTTP 502", _fail(status=502), 1, False, "may have been delivered"),
    Fault("answer after the client timeout", _fail(delay=API_TIMEOUT + 1), 1, False, "may have been delivered"),
    Fault("40001 once (token healed)", _fail(40001), 2, True, None),
    Fault("40001 storm (3 in a row)", _fail(40001, times=3), 4, True, None),
)


async def faults_api(scale: Scale) -> None:
    """Late replies whose customer-service send meets -1, 5xx, timeouts and 40001 storms."""
    with FakeWeChat() as fake, fleet({**api_env(fake), "DEADLINE": str(FAULT_DEADLINE),
                                      "API_TIMEOUT": str(API_TIMEOUT)}) as group:
        cases = [(fault, Push.new(f"m {LATE_MS}")) for fault in FAULTS for _ in range(scale.per_fault)]
        for fault, push in cases:
            fault.script(fake, push.openid)
        async with Wire() as http:
            answers = await deliver_all(http, group.urls[0], [push for _, push in cases])
        group.stop(group.processes[0])
        sent = Counter(call.json["touser"] for call in fake.calls(SEND))
        log, stats = group.log(), group.stats()
    failures = [f"{push.msg_id} answered {a.status} {a.text!r}" for (_, push), a in zip(cases, answers, strict=True)
                if (a.status, a.text) != (200, "success")]
    rows: list[tuple[str, object]] = []
    for fault in FAULTS:
        pushes = [push for f, push in cases if f is fault]
        calls = [sent[push.openid] for push in pushes]
        reported = sum(log.count(logged(push.openid)) for push in pushes) if fault.log else 0
        rows.append((fault.name, f"{len(pushes)} late replies: {'delivered' if fault.delivered else 'dropped'}, "
                                 f"{sum(calls)} sends seen, {reported} reported in the log"))
        if calls != [fault.calls] * len(pushes):
            failures.append(f"{fault.name}: sends per message {calls}, expected {fault.calls}")
        if fault.log and (reported != len(pushes) or log.count(fault.log) < len(pushes)):
            failures.append(f"{fault.name}: {reported} of {len(pushes)} reported with {fault.log!r}")
    delivered = sum(len([p for f, p in cases if f is fault]) for fault in FAULTS if fault.delivered)
    rows.append(("bot.stats", f"delivered {stats['delivered']}, delivery_failed {stats['delivery_failed']}"))
    if stats["delivered"] != delivered or stats["delivery_failed"] != len(cases) - delivered:
        failures.append(f"bot.stats {dict(stats)}, expected {delivered} delivered")
    table(f"faults, customer-service API ({len(cases)} late replies, client timeout {API_TIMEOUT:g} s)", rows)
    check(failures)


async def faults_token(scale: Scale) -> None:
    """The token endpoint down when the bot starts: passive replies still flow; late ones go out once it is back."""
    outage = 2.0
    with FakeWeChat() as fake:
        fake.fail(STABLE_TOKEN, status=503, times=None)
        with fleet({**api_env(fake), "DEADLINE": str(FAULT_DEADLINE)}) as group:
            fast = [Push.new("m 0") for _ in range(scale.per_fault * 5)]
            late = [Push.new(f"m {LATE_MS}") for _ in range(scale.per_fault * 2)]
            async with Wire() as http:
                started = time.monotonic()
                answers = await deliver_all(http, group.urls[0], fast + late)
                await asyncio.sleep(max(outage - (time.monotonic() - started), 0))
                refused = fake.count(STABLE_TOKEN)
                fake.clear_failures()
                await settle(lambda: fake.count(SEND) >= len(late), 20)
            group.stop(group.processes[0])
            log, stats = group.log(), group.stats()
            sent = Counter(call.json["touser"] for call in fake.calls(SEND))
    failures = []
    passive = sum(a.text == p.reply for a, p in zip(answers[: len(fast)], fast, strict=True))
    if passive != len(fast):
        failures.append(f"{len(fast) - passive} passive replies missing while the token endpoint was down")
    delivered = sum(sent[p.openid] == 1 for p in late)
    reported = sum(logged(p.openid) in log for p in late if sent[p.openid] == 0)
    if any(sent[p.openid] > 1 for p in late):
        failures.append("a late reply was sent twice")
    if delivered + reported != len(late):
        failures.append(f"{len(late) - delivered - reported} late replies neither delivered nor reported")
    table(f"faults, token endpoint down for the first {outage:g} s", [
        ("passive replies during the outage", f"{passive} / {len(fast)}"),
        ("token requests refused (503)", refused),
        ("late replies delivered once back", f"{delivered} / {len(late)}"),
        ("late replies dropped and reported", reported),
        ("bot.stats", f"delivered {stats['delivered']}, delivery_failed {stats['delivery_failed']}"),
    ])
    check(failures)


async def faults_sigterm(scale: Scale) -> None:
    """SIGTERM while background jobs and deferred handlers run: drained within shutdown_grace, the rest logged."""
    grace = 3.0
    short, long_ = scale.per_fault * 5, scale.per_fault
    with FakeWeChat() as fake, fleet({**api_env(fake), "DEADLINE": str(FAULT_DEADLINE),
                                      "SHUTDOWN_GRACE": str(grace)}) as group:
        pushes = ([Push.new("m 0 1000") for _ in range(short)] + [Push.new("m 0 60000") for _ in range(long_)]
                  + [Push.new("m 1500") for _ in range(short)])
        async with Wire() as http:
            answers = await deliver_all(http, group.urls[0], pushes)
        took = group.stop(group.processes[0])
        log = group.log()
        started, finished = group.count("bg-start"), group.count("bg-done")
        deferred_done = group.count("done")
        sent = Counter(call.json["touser"] for call in fake.calls(SEND))
    failures = [f"{p.msg_id} answered {a.status}" for p, a in zip(pushes, answers, strict=True) if a.status != 200]
    abandoned = sum(line.count("background_job") for line in log.splitlines() if "abandoned background job" in line)
    late = pushes[short + long_:]
    delivered = sum(sent[p.openid] == 1 for p in late)
    if sum(started.values()) != short + long_ or sum(finished.values()) + abandoned != short + long_:
        failures.append(f"jobs started {sum(started.values())}, finished {sum(finished.values())}, "
                        f"abandoned and logged {abandoned}: some vanished")
    if abandoned != long_ or delivered != len(late) or any(deferred_done[p.msg_id] != 1 for p in late):
        failures.append(f"expected the {long_} long jobs abandoned and all {len(late)} deferred replies sent")
    if took > grace + 5:
        failures.append(f"took {took:.1f} s to exit with shutdown_grace {grace:g} s")
    table(f"faults, SIGTERM with work in flight (shutdown_grace {grace:g} s)", [
        ("background jobs (1 s) finished", f"{sum(finished.values())} / {short}"),
        ("background jobs (60 s) abandoned, logged", f"{abandoned} / {long_}"),
        ("deferred handlers (1.5 s) replied via API", f"{delivered} / {len(late)}"),
        ("exit after SIGTERM", f"{took:.1f} s"),
    ])
    check(failures)


@dataclass(frozen=True)
class KillPhase:
    """One SIGKILL run: how long the handlers take, and when the kill comes."""

    title: str
    handler_ms: tuple[int, int]
    past_deadline: bool  # kill only once the first pushes' deadlines have passed, so some were answered "success"


KILL_PHASES = (
    KillPhase("0.2-1.5 s handlers", (200, 1_500), past_deadline=False),
    KillPhase("3-8 s handlers, most past the deadline", (3_000, 8_000), past_deadline=True),
)
BOT_DEFAULTS = inspect.signature(Bot).parameters
DEFAULT_DEADLINE = float(BOT_DEFAULTS["deadline"].default)
DEFAULT_LEASE = float(BOT_DEFAULTS["claim_lease"].default)
TAKEN_OVER_BY_RETRY = "stopped renewing its claim (it died?)"
TAKEN_OVER_FROM_LEDGER = "its worker died after answering it"
SHED_RETRY_AFTER = 5.0
"""Seconds before the next try of a push refused with 503 (a bot shedding load): WeChat tries again on its own
schedule, not at once, and three tries in one overloaded second would all be refused."""


async def faults_sigkill(scale: Scale, store: str) -> None:
    """SIGKILL the busier of two instances mid-run, with the default settings: nothing answered 200 is lost."""
    failures = []
    for phase in KILL_PHASES:
        failures += await sigkill_phase(scale, store, phase)
    check(failures)


async def sigkill_phase(scale: Scale, store: str, phase: KillPhase) -> list[str]:
    """Two instances, the bot's default deadline and claim lease, the FakeWeChat as the API; pushes at up to 100/s,
    each first sent to a random instance. The instance with more handlers in flight is killed halfway (with
    ``past_deadline``, a deadline later); each delivery the kill cuts or refuses is retried at once to the survivor
    with a fresh query, up to three tries in all, as WeChat does. Returns the invariants broken."""
    rng = random.Random(7)
    load = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(private_redis()) if store == "redis" else "sqlite:///{dir}/state.db"
        fake = stack.enter_context(FakeWeChat())
        sent_at: list[float] = []  # when each customer-service send arrived
        stack.callback(fake.subscribe(lambda call: sent_at.append(time.monotonic()) if call.path == SEND else None))
        group = stack.enter_context(fleet({**api_env(fake), "WXHOOK_STORE": url}, instances=2))
        low, high = phase.handler_ms
        pushes = [Push.new(f"m {rng.randrange(low, high)}") for _ in range(scale.kills)]
        answers: dict[int, list[Answer]] = {p.msg_id: [] for p in pushes}
        up = list(group.urls)
        async with Wire() as http:

            async def wechat(push: Push, delay: float) -> None:
                """The first try to either instance; the retries (up to three tries) to one still up: at once after
                the kill cut or refused a delivery, ``SHED_RETRY_AFTER`` later after a 503."""
                await asyncio.sleep(delay)
                answer = await deliver(http, rng.choice(group.urls), push)
                answers[push.msg_id].append(answer)
                while answer.status != 200 and len(answers[push.msg_id]) < 3:
                    if answer.status == 503:
                        await asyncio.sleep(SHED_RETRY_AFTER)
                    answer = await deliver(http, rng.choice(up), push, same_query=False)
                    answers[push.msg_id].append(answer)

            spread = max(3.0, len(pushes) / 100)
            run = asyncio.gather(*(wechat(p, rng.uniform(0, spread)) for p in pushes))
            await asyncio.sleep(spread / 2 + (DEFAULT_DEADLINE if phase.past_deadline else 0))
            running = Counter(pid for event, _, pid in group.runs() if event == "run")
            running.subtract(pid for event, _, pid in group.runs() if event == "done")
            doomed = max(group.processes, key=lambda process: running[process.pid])
            doomed.kill()
            doomed.wait()
            killed_at = time.monotonic()
            up.remove(group.urls[group.processes.index(doomed)])
            victim = doomed.pid
            steps = group.runs()
            in_flight = ({m for event, m, pid in steps if event == "run" and pid == victim}
                         - {m for event, m, pid in steps if event == "done" and pid == victim})
            await run

            def reached() -> set[int]:
                """The messages whose reply reached the follower, passively or through the API."""
                sent = sends_by_openid(fake)
                return {p.msg_id for p in pushes if p.reply in sent.get(p.openid, [])
                        or any(a.text == p.reply for a in answers[p.msg_id])}

            answered = {p.msg_id for p in pushes if any(a.status == 200 for a in answers[p.msg_id])}
            settled = await settle(lambda: answered <= reached(), 60)
            await asyncio.sleep(0.5)  # a duplicate send would arrive about now
        group.stop(group.processes[1 - group.processes.index(doomed)])
        runs, done = group.count("run"), group.count("done")
        on_victim = {m for event, m, pid in group.runs() if event == "run" and pid == victim}
        sent, log, stats = sends_by_openid(fake), group.log(), group.stats()
    failures = []
    passive = {p.msg_id for p in pushes if any(a.text == p.reply for a in answers[p.msg_id])}
    via_api = {p.msg_id for p in pushes if p.reply in sent.get(p.openid, [])}
    lost = [m for m in answered if done[m] == 0 or m not in passive | via_api]
    twice = [p.msg_id for p in pushes if len(sent.get(p.openid, [])) + (p.msg_id in passive) > 1]
    wrong = [p.msg_id for p in pushes for a in answers[p.msg_id]
             if a.status == 200 and a.text not in (p.reply, "success")]
    repeated = {p.msg_id for p in pushes if runs[p.msg_id] > 1}
    cut_ids = {p.msg_id for p in pushes if any(a.status == 0 for a in answers[p.msg_id])}
    handed_over = {m for m in in_flight if any(a.status == 200 and a.text == "success" and a.worker == str(victim)
                                              for a in answers[m])}
    if lost:
        failures.append(f"{len(lost)} messages answered 200 and lost (handler never finished or reply never "
                        f"reached the follower): {lost[:5]}")
    if len(answered) != len(pushes):
        failures.append(f"{len(pushes) - len(answered)} messages never answered 200 in three tries")
    if twice or wrong:
        failures.append(f"{len(twice)} replies shown twice, {len(wrong)} wrong replies")
    if not in_flight <= repeated <= on_victim or any(runs[p.msg_id] > 2 for p in pushes):
        failures.append(f"{len(repeated)} messages run again, but {len(in_flight)} were in flight on the killed "
                        f"instance")
    if phase.past_deadline and not handed_over:
        failures.append("no message was answered 'success' and still running at the kill: the phase proved nothing")
    if not settled:
        failures.append("some answered message's reply had not reached the follower 60 s after the last delivery")
    after = f"{max(sent_at) - killed_at:.1f} s" if sent_at else "-"
    table(f"faults, SIGKILL of the busier of two instances ({store}, {phase.title}), {len(pushes)} messages, "
          f"deadline {DEFAULT_DEADLINE:g} s and claim_lease {DEFAULT_LEASE:g} s (the defaults)", [
        ("load average (1 min) at the start", f"{load:.1f}"),
        ("handlers in flight on the killed one", len(in_flight)),
        ("  of them answered 'success' before", len(handed_over)),
        ("deliveries cut or refused by the kill", len(cut_ids)),
        ("answered 200 (after WeChat's retries)", f"{len(answered)} / {len(pushes)}"),
        ("replies reached: passively / via API", f"{len(passive)} / {len(via_api)}"),
        ("answered 200 and lost", len(lost)),
        ("run twice (in flight at the kill)", f"{len(repeated)} ({len(in_flight & repeated)})"),
        ("  taken over by a retry / the ledger", f"{log.count(TAKEN_OVER_BY_RETRY)} / "
                                                 f"{log.count(TAKEN_OVER_FROM_LEDGER)}"),
        ("finished there, answered from the store", len(cut_ids & on_victim - in_flight)),
        ("refused, then run once by the survivor", len(cut_ids - on_victim)),
        ("shed with a 503, tried again 5 s later", sum(any(a.status == 503 for a in answers[p.msg_id])
                                                       for p in pushes)),
        ("last reply via API, after the kill", after),
        ("replies shown twice, wrong replies", f"{len(twice)}, {len(wrong)}"),
        ("survivor's bot.stats", ", ".join(f"{k} {v:,}" for k, v in sorted(stats.items()))),
    ])
    for line, count in group.errors().most_common(5):
        print(f"  logged by the bot {count:,}x: {line}")
    return failures


async def faults_hang(scale: Scale) -> None:
    """Handlers that never return are cancelled after handler_timeout; the others are unaffected."""
    limit = 1.0
    with fleet({"DEADLINE": str(FAULT_DEADLINE), "HANDLER_TIMEOUT": str(limit)}) as group:
        hung = [Push.new("hang") for _ in range(scale.per_fault * 2)]
        fine = [Push.new("m 0") for _ in range(scale.per_fault * 5)]
        async with Wire() as http:
            started = time.monotonic()
            answers = await deliver_all(http, group.urls[0], hung + fine)
            all_cancelled = await settle(lambda: sum(group.count("cancelled").values()) >= len(hung), limit + 10)
            cancelled_after = time.monotonic() - started
            after = await deliver(http, group.urls[0], Push.new("m 0"))
        took = group.stop(group.processes[0])
        stats = group.stats()
        cancelled = group.count("cancelled")
        logged = group.log().count(f"ran past handler_timeout ({limit:g}s) and was cancelled")
    failures = []
    if logged != len(hung):
        failures.append(f"{logged} of {len(hung)} cancellations logged")
    if not all_cancelled or any(cancelled[p.msg_id] != 1 for p in hung) or stats["handler_timeout"] != len(hung):
        failures.append(f"{sum(cancelled.values())} of {len(hung)} hung handlers cancelled, "
                        f"handler_timeout {stats['handler_timeout']}")
    answered = sum(a.text == p.reply for a, p in zip(answers[len(hung):], fine, strict=True))
    success = sum(a.text == "success" for a in answers[: len(hung)])
    if answered != len(fine) or success != len(hung) or after.text != "echo: m 0":
        failures.append("a delivery beside the hung handlers was not answered")
    table(f"faults, handlers that never return (handler_timeout {limit:g} s)", [
        ("hung handlers answered 'success'", f"{success} / {len(hung)}"),
        ("hung handlers cancelled", f"{sum(cancelled.values())} / {len(hung)}, all within {cancelled_after:.1f} s"),
        ("other messages answered meanwhile", f"{answered} / {len(fine)}"),
        ("bot.stats handler_timeout, logged", f"{stats['handler_timeout']}, {logged}"),
        ("exit after SIGTERM", f"{took:.1f} s"),
    ])
    check(failures)


# -- command line ----------------------------------------------------------------------------------------


def scenarios(args: argparse.Namespace) -> list[tuple[str, Callable[[], Any]]]:
    scale = SCALES[args.scale]
    loads: list[tuple[str, Callable[[], Any]]] = [
        (f"load {store}", functools.partial(load_run, store, scale, args.seed)) for store in args.stores]
    faults = {
        "api": lambda: faults_api(scale),
        "token": lambda: faults_token(scale),
        "sigterm": lambda: faults_sigterm(scale),
        "sigkill": lambda: faults_sigkill(scale, args.kill_store),
        "hang": lambda: faults_hang(scale),
    }
    chosen = [(f"faults {name}", run) for name, run in faults.items() if args.only in (None, name)]
    runs: dict[str, list[tuple[str, Callable[[], Any]]]] = {"load": loads, "faults": chosen, "all": loads + chosen}
    return runs[args.command]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("load", "distinct messages with retries, on one store"),
                            ("faults", "the WeChat API failing, the token endpoint down, SIGTERM, SIGKILL, hangs"),
                            ("all", "every load run, then every fault")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--scale", choices=SCALES, default="small")
        command.add_argument("--seed", type=int, default=1)
        if name in ("load", "all"):
            command.add_argument("--store", dest="stores", action="append", choices=("memory", "sqlite", "redis"),
                                 help="repeatable; default: all three (Redis skipped when redis-server is missing "
                                      "and WXHOOK_REQUIRE_REDIS is unset)")
        if name in ("faults", "all"):
            command.add_argument("--kill-store", choices=("sqlite", "redis"), default="sqlite")
        if name == "faults":
            command.add_argument("--only", choices=("api", "token", "sigterm", "sigkill", "hang"))
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as they come, even piped
    args.only = getattr(args, "only", None)
    if getattr(args, "stores", None) is None:
        args.stores = ["memory", "sqlite"]
        if redis_available():
            args.stores.append("redis")
        elif args.command != "faults":
            print("redis-server is not installed: the Redis load run is skipped")
    broken = []
    for name, run in scenarios(args):
        started = time.monotonic()
        try:
            asyncio.run(run())
        except Broken as exc:
            broken.append(name)
            print(f"  BROKEN: {exc}")
        print(f"  ({name}: {time.monotonic() - started:.1f} s)")
    if broken:
        print(f"\ninvariants broken in: {', '.join(broken)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
