"""wxhook under overload, against its peers (issue 28, part 3): goodput under an open-loop load past saturation.

    python3 bench/overload.py              # the full run: every contender's saturation, then 1.5 x and 3 x it
    python3 bench/overload.py --smoke      # a few seconds per contender, as CI runs it: the machinery, nothing judged
    python3 bench/overload.py --check      # exit 1 when wxhook misses a target
    python3 bench/overload.py --only wxhook --sync    # wxhook with a sync ``def`` handler (thread pool) as well

Each contender's handler burns 2 ms of its thread's CPU time (peers/burn.py, the same function everywhere) and
echoes the text. The server is pinned to core 0, this process (the load and a fake customer-service API) to core 1.

The load is WeChat's: pushes at a constant rate whatever the server does (open loop), each push a distinct text
message over HTTP/1.1 keep-alive connections (a new one whenever none is idle, from one of a thousand loopback
source addresses in turn, as WeChat's pushes come from many machines). An attempt not answered within
5 s is dropped (its connection closed, or its connection given up if it is still opening: the 5 s include
connecting, so a full listen backlog costs SYN retransmissions inside them) and the push sent again, with a
fresh timestamp, nonce and signature, 5 s after the previous attempt started, at most twice. A quick answer that
is not 200 (a 503) counts as no valid answer: the push is sent again at the same time a timeout would have
(WeChat shows the follower an error only for a 200 with bad content, and retries whatever is not a valid answer).
A 200 is final. Late replies go to the fake customer-service API on loopback (wxhook's WXHOOK_API_BASE), which
timestamps them.

Per push: the handler's runs (the burn records the push's number; GET /__runs__ at the end), and when its reply
reached the follower: a 200 carrying its echo, or the API's custom/send. *Good*: its handler ran once and its reply
arrived within 5 s of its first attempt. *Goodput*: good pushes per second of offered load. *Lost*: answered 200
but its handler never ran. *Saturation*: the highest constant rate at which every push is good, found by a search
of short runs; then 1.5 x and 3 x that rate for --duration seconds each.

Each overload run also says where the pushes that were not good went (their attempts' outcomes, how often the
handler ran, a reply that came late), the goodput of each 10 s of the run (whether it holds or declines), whether
the generator kept its schedule (the lag of first attempts behind it: past a few tens of milliseconds the load is
not the one offered), how long new connections took to open (1 s or more: a SYN sent again because the server's
listen backlog was full; --backlog sets it) and the kernel's TcpExtListenOverflows over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import environment

ECHO_WINDOW = 5.0
"""WeChat's wait for an answer, and the goodput's window, seconds."""
ATTEMPTS = 3
TARGET_GOODPUT = 0.9
TARGET_RSS = 100.0


@dataclass(frozen=True, slots=True)
class Contender:
    name: str
    app: str
    wsgi: bool = False
    env: tuple[tuple[str, str], ...] = ()


WXHOOK = Contender("wxhook", "overload_wxhook:app")
WXHOOK_SYNC = Contender("wxhook, sync def", "overload_wxhook:app", env=(("OVERLOAD_SYNC", "1"),))
CONTENDERS = (WXHOOK, Contender("Starlette + wechatpy", "overload_starlette:app"),
              Contender("WeRoBot (gunicorn)", "overload_werobot:app", wsgi=True))


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds per contender; nothing judged")
    parser.add_argument("--check", action="store_true", help="exit 1 when wxhook misses a target")
    parser.add_argument("--only", default="", help="contenders, comma-separated parts of names (default: all)")
    parser.add_argument("--sync", action="store_true", help="also wxhook with a sync def handler")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of each overload run")
    parser.add_argument("--probe", type=float, default=8.0, help="seconds of each run of the saturation search")
    parser.add_argument("--probes", type=int, default=6, help="runs of the saturation search (bisection)")
    parser.add_argument("--low", type=float, default=40.0, help="pushes/s the search starts from")
    parser.add_argument("--high", type=float, default=600.0, help="pushes/s the search starts under")
    parser.add_argument("--saturation", default="", help="skip the search: name=rate,... (pushes/s)")
    parser.add_argument("--factors", default="1.5,3", help="multiples of saturation to offer")
    parser.add_argument("--plot", default=str(environment.ROOT / "docs" / "overload.png"), help="where the PNG goes")
    parser.add_argument("--backlog", type=int, default=0,
                        help="the servers' listen backlog (default: the server's own, 2048 for uvicorn and gunicorn)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop",
                        help="the uvicorn contenders' event loop (uvloop accepts one connection per turn of the loop)")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    return parser.parse_args()


# the load: WeChat's side ---------------------------------------------------------------------------------------

@dataclass(slots=True)
class Push:
    n: int
    first: float
    body: bytes
    attempts: list[str] = field(default_factory=list)
    ok200: bool = False
    passive: float | None = None
    done: bool = False


class _Attempt:
    __slots__ = ("conn", "connecting", "k", "push", "resolved", "start", "timer")

    def __init__(self, push: Push, k: int, start: float) -> None:
        self.push, self.k, self.start = push, k, start
        self.resolved = False
        self.timer: asyncio.TimerHandle | None = None
        self.conn: _Conn | None = None
        self.connecting: asyncio.Task[None] | None = None
        """The new connection being opened for this attempt: given up (its SYNs no longer sent) at the timeout."""


_SOURCES = 1000
"""Source addresses the load's connections come from, round robin (127.0.0.2 and on): WeChat pushes from many
machines, and one address's 28,000 ephemeral ports do not last a run at 3 x. Every connection given up while it
waits in the server's listen queue leaves its port in TIME_WAIT for a minute; as the ports run out, each connect()
searches longer for a free one (0.7 ms a call on average, under strace), the load falls seconds behind its
schedule, and at last connect() fails (EADDRNOTAVAIL)."""


class _Conn(asyncio.Protocol):
    """One keep-alive connection to the server, one request at a time; a tiny HTTP/1.1 response reader."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.attempt: _Attempt | None = None
        self.closed = False
        self.used = False
        self.request = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, attempt: _Attempt, request: bytes) -> None:
        self.attempt, self.request = attempt, request
        attempt.conn = self
        assert self.transport is not None
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buffer[:end]).lower()
        at = head.find(b"content-length:")
        if at >= 0:
            length = int(head[at + 15:head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None])
            if len(buffer) < end + 4 + length:
                return
            body = bytes(buffer[end + 4:end + 4 + length])
            del buffer[:end + 4 + length]
        elif b"chunked" in head:
            if not buffer.endswith(b"0\r\n\r\n"):
                return
            body, rest = b"", bytes(buffer[end + 4:])
            while rest:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line, 16)
                body, rest = body + rest[:size], rest[size + 2:]
                if size == 0:
                    break
            buffer.clear()
        else:
            return
        status = int(head[9:12])
        attempt, self.attempt = self.attempt, None
        self.used = True
        keep = b"connection: close" not in head
        if attempt is not None:
            self.load.answered(attempt, status, body)
        if keep and not self.closed:
            self.load.idle.append(self)
        elif self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        attempt, self.attempt = self.attempt, None
        if attempt is not None and not attempt.resolved:
            self.load.dropped(attempt, self.used and not self.buffer, self.request)


class Load:
    """WeChat's side: pushes at a constant rate, attempts, timeouts and retries, and what came back."""

    def __init__(self, port: int, first_number: int) -> None:
        from pushes import ACCOUNT, BASE_MSG_ID, TOKEN, xml

        from wxhook.crypto import sign

        self._sign, self._token, self._xml = sign, TOKEN, xml
        self._account, self._base = ACCOUNT, BASE_MSG_ID
        self.port = port
        self.loop = asyncio.get_running_loop()
        self.idle: list[_Conn] = []
        self.pushes: dict[int, Push] = {}
        self.next = first_number
        self.unresolved = 0
        self.ended = float("inf")
        """When the last push's first attempt was sent (the loop's time)."""
        self.missed = False
        self.connections = 0
        self.errors = 0
        self.connect_times: list[float] = []
        """Seconds each new connection took to open (past 1 s: a SYN retransmitted, the listen queue full)."""
        self.given_up = 0
        """Connections still opening when their attempt timed out (given up, as WeChat does)."""
        self.send_lags: list[float] = []
        """Seconds each push's first attempt left after its scheduled time (the generator keeping its schedule)."""
        self.source = 0
        """Connections begun (the next source address, ``_SOURCES``)."""

    def _request(self, push: Push, k: int) -> bytes:
        timestamp, nonce = str(int(time.time())), str(3 * push.n + k)
        target = (f"/?signature={self._sign(self._token, timestamp, nonce)}&timestamp={timestamp}&nonce={nonce}"
                  f"&openid=o_bench_{push.n}")
        return (f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                f"Content-Length: {len(push.body)}\r\n\r\n").encode() + push.body

    def new_push(self, due: float) -> None:
        n = self.next
        self.next += 1
        fields = {"ToUserName": self._account, "FromUserName": f"o_bench_{n}", "CreateTime": int(time.time()),
                  "MsgType": "text", "Content": f"bench message {n}", "MsgId": self._base + n}
        push = self.pushes[n] = Push(n, self.loop.time(), self._xml(fields).encode())
        self.send_lags.append(push.first - due)
        self.unresolved += 1
        self.attempt(push, 0)

    def attempt(self, push: Push, k: int) -> None:
        now = self.loop.time()
        attempt = _Attempt(push, k, now)
        attempt.timer = self.loop.call_at(now + ECHO_WINDOW, self._timeout, attempt)
        self._send(attempt, self._request(push, k))

    def _send(self, attempt: _Attempt, request: bytes) -> None:
        idle = self.idle
        while idle:
            conn = idle.pop()
            if not conn.closed:
                conn.send(attempt, request)
                return
        attempt.connecting = self.loop.create_task(self._connect(attempt, request))

    async def _connect(self, attempt: _Attempt, request: bytes) -> None:
        began = self.loop.time()
        self.source += 1
        source = 2 + self.source % _SOURCES
        try:
            _, conn = await self.loop.create_connection(lambda: _Conn(self), "127.0.0.1", self.port,
                                                        local_addr=(f"127.0.{source >> 8}.{source & 255}", 0))
        except OSError as exc:
            self.errors += 1
            if not attempt.resolved:
                self._resolve(attempt, f"connect failed: {exc.__class__.__name__}")
            return
        self.connections += 1
        self.connect_times.append(self.loop.time() - began)
        if attempt.resolved:  # timed out as the connection opened
            self.idle.append(conn)
            return
        conn.send(attempt, request)

    def _resolve(self, attempt: _Attempt, outcome: str, retry: bool = True) -> None:
        attempt.resolved = True
        if attempt.timer is not None:
            attempt.timer.cancel()
        push = attempt.push
        push.attempts.append(outcome)
        if retry and attempt.k + 1 < ATTEMPTS:
            self.missed = True
            self.loop.call_at(attempt.start + ECHO_WINDOW, self.attempt, push, attempt.k + 1)
        else:
            if retry:
                self.missed = True
            push.done = True
            self.unresolved -= 1

    def _timeout(self, attempt: _Attempt) -> None:
        if attempt.resolved:
            return
        if attempt.connecting is not None and not attempt.connecting.done():
            attempt.connecting.cancel()  # as WeChat does: the 5 s include connecting, then the attempt is dropped
            self.given_up += 1
        conn = attempt.conn
        if conn is not None:
            conn.attempt = None
            conn.closed = True
            if conn.transport is not None:
                conn.transport.abort()
        self._resolve(attempt, "timeout")

    def answered(self, attempt: _Attempt, status: int, body: bytes) -> None:
        if attempt.resolved:
            return
        push = attempt.push
        if status != 200:
            self._resolve(attempt, str(status))
            return
        push.ok200 = True
        if f"bench message {push.n}]".encode() in body:
            push.passive = self.loop.time()
            self._resolve(attempt, "200 echo", retry=False)
        else:
            self._resolve(attempt, "200 " + body[:20].decode(errors="replace"), retry=False)

    def dropped(self, attempt: _Attempt, reused: bool, request: bytes) -> None:
        """The server closed the connection without answering: a keep-alive connection it closed as we reused it
        is tried again on a fresh one (as any HTTP client does); otherwise no answer."""
        if reused:
            attempt.connecting = self.loop.create_task(self._connect(attempt, request))
        else:
            self._resolve(attempt, "closed")


class FakeAPI(asyncio.Protocol):
    """The customer-service API on loopback: an access token for anyone, and each custom/send timestamped."""

    sent: ClassVar[dict[int, float]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15:].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4:end + 4 + length])
            del self.buffer[:end + 4 + length]
            if b"custom/send" in head.split(b"\r\n", 1)[0]:
                try:
                    n = int(json.loads(body)["touser"].rsplit("_", 1)[-1])
                    FakeAPI.sent.setdefault(n, asyncio.get_running_loop().time())
                except (ValueError, KeyError):
                    pass
                answer = b'{"errcode":0,"errmsg":"ok"}'
            else:
                answer = b'{"access_token":"bench-token","expires_in":7200}'
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(answer), answer))


def _run(main: Any) -> Any:
    """``main`` on uvloop when it is installed (the peers' venv has it): the load generator needs the speed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


# one run -------------------------------------------------------------------------------------------------------

@dataclass
class Figures:
    contender: str
    rate: float
    duration: float
    offered: int = 0
    good: int = 0
    goodput: float = 0.0
    lost: int = 0
    twice: int = 0
    never: int = 0
    non200: int = 0
    passive: int = 0
    api: int = 0
    p50: float = 0.0
    p99: float = 0.0
    rss: float = 0.0
    aborted: bool = False
    connections: int = 0
    behind: float = 0.0
    """The most this process's own loop ran late (seconds): past a tenth of a second its timings say less."""
    outcomes: dict[str, int] = field(default_factory=dict)
    """Attempts by how each ended: a 200 with the echo, 503, timeout (no answer in 5 s), closed, connect failed."""
    fates: dict[str, int] = field(default_factory=dict)
    """Pushes not good, by their attempts' outcomes, how often the handler ran and whether a reply came late."""
    send_lag_p99: float = 0.0
    send_lag_max: float = 0.0
    """How late the generator sent pushes' first attempts against its schedule, ms (p99, max)."""
    new_connections_p99: float = 0.0
    slow_connections: int = 0
    given_up: int = 0
    """Connections opened: the p99 of the time to open one (ms), and how many took a second or more (a SYN sent
    again: the server's listen queue was full)."""
    listen_overflows: int = 0
    """The kernel's TcpExtListenOverflows during the run (every server's, this machine's)."""
    late_runs: int = 0
    """Handler runs that began past their push's 5 s while pushes were still being offered: work that took the
    place of a push that could still be answered."""
    by_tens: list[float] = field(default_factory=list)
    """Goodput (pushes/s) of the pushes first sent in each 10 s of the run: whether it holds or decays."""


def _rss_mib(pid: int) -> float:
    """The resident memory of ``pid`` and its children (gunicorn's worker), MiB."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                pids.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total / 1024


def _listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full (nstat's TcpExtListenOverflows)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table.get("ListenOverflows", 0))
    return 0


def _get(port: int, path: str, timeout: float) -> bytes:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as answer:
        return bytes(answer.read())


async def _offer(port: int, rate: float, duration: float, pid: int,
                 stop_on_miss: bool) -> tuple[Load, float, bool, float]:
    load = Load(port, 0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    total = int(rate * duration)
    sent = 0
    rss = 0.0
    next_rss = start
    aborted = False
    behind = 0.0
    woke = start
    while sent < total:
        now = loop.time()
        behind = max(behind, now - woke)
        due = min(total, int((now - start) * rate) + 1)
        while sent < due:
            load.new_push(start + sent / rate)
            sent += 1
        if now >= next_rss:
            rss = max(rss, _rss_mib(pid))
            next_rss = now + 1.0
        if stop_on_miss and load.missed:
            aborted = True
            break
        woke = loop.time() + 0.002
        await asyncio.sleep(0.002)
    load.ended = loop.time()
    while load.unresolved and not aborted:  # the last pushes' attempts and retries
        if stop_on_miss and load.missed:
            aborted = True
            break
        if loop.time() >= next_rss:
            rss = max(rss, _rss_mib(pid))
            next_rss = loop.time() + 1.0
        await asyncio.sleep(0.05)
    return load, rss, aborted, behind


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


BACKLOG = 0
"""--backlog: the servers' listen backlog, 0 for their default."""
LOOP = "uvloop"
"""--loop: the uvicorn contenders' event loop."""


def run_once(contender: Contender, rate: float, duration: float, *, stop_on_miss: bool = False) -> Figures:
    """A fresh server for ``contender``, ``rate`` pushes/s for ``duration`` s, and what came of each push."""
    from pushes import APPID, CREDENTIALS
    from services import LOAD_CPU, SERVER_CPU, free_port, pinned, running

    port = free_port()
    # The fake API's socket is bound now and held: a port only found free could be taken by one of the load's
    # outgoing connections (tens of thousands in a run at 3 x) before the fake bound it.
    api_socket = socket.create_server(("127.0.0.1", 0), backlog=1024)
    api_port = api_socket.getsockname()[1]
    env = {**os.environ, **CREDENTIALS, "WXHOOK_SECRET": "bench-secret", "WXHOOK_APPID": APPID,
           "WXHOOK_API_BASE": f"http://127.0.0.1:{api_port}", **dict(contender.env)}
    env.pop("WXHOOK_AES_KEY", None)
    peers = str(environment.BENCH / "peers")
    env["PYTHONPATH"] = peers + os.pathsep + env.get("PYTHONPATH", "")
    if contender.wsgi:
        argv = [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread", "--bind",
                f"127.0.0.1:{port}", "--chdir", peers, "--log-level", "warning", contender.app]
    else:
        argv = [sys.executable, "-m", "uvicorn", contender.app, "--app-dir", peers, "--host", "127.0.0.1", "--port",
                str(port), "--loop", LOOP, "--http", "httptools", "--log-level", "warning", "--no-access-log"]
    if BACKLOG:
        argv += ["--backlog", str(BACKLOG)]
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {LOAD_CPU})
    with api_socket, tempfile.TemporaryDirectory() as cwd, running(pinned(argv, SERVER_CPU), port=port,
                                                       probe=b"GET / HTTP/1.0\r\n\r\n", expected=b"HTTP/", env=env,
                                                       cwd=cwd) as process:
        FakeAPI.sent = {}
        figures = _run(_measure(contender, process.pid, port, api_socket, rate, duration, stop_on_miss))
    return figures


async def _measure(contender: Contender, pid: int, port: int, api_socket: socket.socket, rate: float,
                   duration: float, stop_on_miss: bool) -> Figures:
    loop = asyncio.get_running_loop()
    api = await loop.create_server(FakeAPI, sock=api_socket)
    overflows = _listen_overflows()
    try:
        load, rss, aborted, behind = await _offer(port, rate, duration, pid, stop_on_miss)
        overflows = _listen_overflows() - overflows
        for conn in load.idle:
            if conn.transport is not None:
                conn.transport.close()
        runs = await _settled_runs(port)
    finally:
        api.close()
    figures = Figures(contender.name, rate, duration, rss=rss, aborted=aborted, connections=load.connections,
                      behind=behind, listen_overflows=overflows)
    figures.send_lag_p99 = _percentile(load.send_lags, 0.99) * 1000
    figures.send_lag_max = max(load.send_lags, default=0.0) * 1000
    figures.new_connections_p99 = _percentile(load.connect_times, 0.99) * 1000
    figures.slow_connections = sum(t >= 1.0 for t in load.connect_times)
    figures.given_up = load.given_up
    if aborted:
        return figures
    counts: dict[int, int] = {}
    for n, at in runs:
        counts[n] = counts.get(n, 0) + 1
        push = load.pushes.get(n)
        if push is not None and at - push.first > ECHO_WINDOW and at < load.ended:
            figures.late_runs += 1
    latencies = []
    began = min((push.first for push in load.pushes.values()), default=0.0)
    tens = [0] * max(1, int(duration + 9.999) // 10)
    for n, push in load.pushes.items():
        figures.offered += 1
        ran = counts.get(n, 0)
        for outcome in push.attempts:
            figures.outcomes[outcome.split(":")[0][:12]] = figures.outcomes.get(outcome.split(":")[0][:12], 0) + 1
        figures.twice += ran > 1
        figures.never += ran == 0
        figures.lost += push.ok200 and ran == 0
        figures.non200 += not push.ok200
        reached = [t - push.first for t in (push.passive, FakeAPI.sent.get(n)) if t is not None]
        if ran == 1 and reached and min(reached) <= ECHO_WINDOW:
            figures.good += 1
            tens[min(len(tens) - 1, int((push.first - began) / 10))] += 1
            latencies.append(min(reached))
            if push.passive is not None and push.passive - push.first <= ECHO_WINDOW:
                figures.passive += 1
            else:
                figures.api += 1
        else:
            fate = "+".join(outcome.split(":")[0][:12] for outcome in push.attempts) + f", ran {ran}"
            if reached:
                fate += ", reply late" if ran else ", reply without a run"
            figures.fates[fate] = figures.fates.get(fate, 0) + 1
    figures.goodput = figures.good / duration
    figures.by_tens = [good / min(10.0, duration - 10 * i) for i, good in enumerate(tens)]
    figures.p50, figures.p99 = _percentile(latencies, 0.5) * 1000, _percentile(latencies, 0.99) * 1000
    return figures


async def _settled_runs(port: int) -> list[tuple[int, float]]:
    """The handler runs (each push's number, and when it began), once the server has stopped running handlers
    (two readings a second apart agree)."""
    last: list[list[Any]] | None = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            runs = json.loads(await asyncio.to_thread(_get, port, "/__runs__", 60.0))
        except OSError:
            await asyncio.sleep(1.0)
            continue
        if last is not None and len(runs) == len(last):
            return [(n, at) for n, at in runs]
        last = runs
        await asyncio.sleep(1.0)
    raise RuntimeError("the server kept running handlers for two minutes after the load stopped")


# the whole bench ----------------------------------------------------------------------------------------------

def saturation(contender: Contender, options: argparse.Namespace, points: list[Figures]) -> float:
    """The highest rate at which every push was good in a --probe run, by bisection between --low and --high."""
    low, high = options.low, options.high
    for _ in range(options.probes):
        rate = round((low + high) / 2)
        figures = run_once(contender, rate, options.probe, stop_on_miss=True)
        passed = not figures.aborted and figures.good == figures.offered
        print(f"  {contender.name}: {rate}/s for {options.probe:g}s: {'every push good' if passed else 'missed'}"
              f"{'' if figures.aborted else f' ({figures.good}/{figures.offered} good)'}", flush=True)
        if passed:
            points.append(figures)
            low = rate
        else:
            high = rate
    return low


def _row(f: Figures, saturated: float) -> str:
    share = f.goodput / saturated if saturated else 0.0
    return (f"| {f.contender} | {f.rate:,.0f} ({f.rate / saturated:.1f} x) | {f.goodput:,.0f} | {share:.0%} | "
            f"{f.lost} | {f.twice} | {f.non200} | {f.p50:,.0f} / {f.p99:,.0f} | {f.rss:,.0f} |")


def _detail(f: Figures) -> str:
    """Where the pushes that were not good went, and whether the load kept its schedule."""
    fates = sorted(f.fates.items(), key=lambda item: -item[1])
    return (f"    attempts: {f.outcomes}\n"
            f"    pushes not good ({f.offered - f.good} of {f.offered}): "
            + "; ".join(f"{fate}: {count}" for fate, count in fates[:8])
            + (f"; {len(fates) - 8} more kinds" if len(fates) > 8 else "")
            + f"\n    runs begun past their push's 5 s while the load was on: {f.late_runs}; goodput by 10 s: "
            + ", ".join(f"{g:,.0f}" for g in f.by_tens)
            + f"\n    load: send lag p99 {f.send_lag_p99:.1f} ms, max {f.send_lag_max:.1f} ms; {f.connections} "
            f"connections opened, p99 {f.new_connections_p99:.0f} ms to open, {f.slow_connections} took 1 s or more, "
            f"{f.given_up} given up at the timeout; "
            f"listen overflows {f.listen_overflows}")


def plot(results: dict[str, list[Figures]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=110)
    top = 0.0
    for name, points in results.items():
        ordered = sorted(points, key=lambda f: f.rate)
        axes.plot([f.rate for f in ordered], [f.goodput for f in ordered], marker="o", label=name)
        top = max(top, *(f.rate for f in ordered))
    axes.plot([0, top], [0, top], linestyle=":", color="grey", label="every push answered in time")
    axes.set_xlabel("offered load (pushes/s, open loop)")
    axes.set_ylabel("goodput (pushes/s answered within 5 s)")
    axes.set_title("Overload: 2 ms of CPU per push, one core; WeChat's retries")
    axes.set_xlim(left=0)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def main() -> int:
    global BACKLOG, LOOP
    options = _options()
    BACKLOG, LOOP = options.backlog, options.loop
    if not environment.in_venv():
        python = str(environment.ensure_venv())
        os.execv(python, [python, __file__, *sys.argv[1:]])
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    contenders = [*CONTENDERS, *([WXHOOK_SYNC] if options.sync else [])]
    wanted = [part.strip().lower() for part in options.only.split(",") if part.strip()]
    if wanted:
        contenders = [c for c in contenders if any(w == c.name.lower() for w in wanted)] or \
                     [c for c in contenders if any(w in c.name.lower() for w in wanted)]
    print(f"# Overload\n\n{environment.machine()}\n", flush=True)
    return smoke(contenders) if options.smoke else full(contenders, options)


def smoke(contenders: list[Contender]) -> int:
    """Every contender served, answering pushes and counting runs at a low rate; wxhook once past its capacity
    (its shedding answering 503, nothing lost); the plot drawn to a temporary file. No figure is judged."""
    failed = False
    results: dict[str, list[Figures]] = {}
    for contender in contenders:
        figures = run_once(contender, 40, 2.0)
        print(f"{contender.name}: 40/s for 2s: {figures.good}/{figures.offered} good, outcomes {figures.outcomes}, "
              f"lost {figures.lost}, run twice {figures.twice}", flush=True)
        if figures.offered == 0 or figures.good == 0 or figures.lost:
            print(f"  FAILED: {contender.name} answered no push correctly, or lost one")
            failed = True
        results[contender.name] = [figures]
        if contender is WXHOOK:
            burst = run_once(contender, 1500, 2.0)
            print(f"{contender.name}: 1500/s for 2s: {burst.good}/{burst.offered} good, outcomes {burst.outcomes}, "
                  f"lost {burst.lost}, run twice {burst.twice}", flush=True)
            if burst.lost or burst.twice:
                print("  FAILED: a push lost or run twice")
                failed = True
            results[contender.name].append(burst)
    with tempfile.TemporaryDirectory() as scratch:
        plot(results, str(Path(scratch) / "overload.png"))
    print("smoke: " + ("FAILED" if failed else "ok"))
    return 1 if failed else 0


def full(contenders: list[Contender], options: argparse.Namespace) -> int:
    began = time.monotonic()
    given = dict(pair.split("=") for pair in options.saturation.split(",") if pair)
    factors = [float(f) for f in options.factors.split(",")]
    results: dict[str, list[Figures]] = {}
    table: list[str] = []
    missed: list[str] = []
    for contender in contenders:
        points: list[Figures] = []
        named = next((float(rate) for name, rate in given.items() if name.lower() in contender.name.lower()), None)
        saturated = named if named is not None else saturation(contender, options, points)
        base = points[-1] if points else run_once(contender, saturated, options.probe)
        if not points:
            points.append(base)
        print(f"{contender.name}: saturation {saturated:,.0f} pushes/s", flush=True)
        table.append(_row(base, saturated))
        for factor in factors:
            figures = run_once(contender, saturated * factor, options.duration)
            print(f"  {factor:g} x: {figures.goodput:,.0f} good/s ({figures.goodput / saturated:.0%}), lost "
                  f"{figures.lost}, run twice {figures.twice}, RSS {figures.rss:.0f} MiB\n{_detail(figures)}",
                  flush=True)
            points.append(figures)
            table.append(_row(figures, saturated))
            if contender in (WXHOOK, WXHOOK_SYNC) and factor == max(factors):
                if figures.goodput < TARGET_GOODPUT * saturated:
                    missed.append(f"{contender.name}: goodput at {factor:g} x is {figures.goodput / saturated:.0%} "
                                  f"of saturation (target {TARGET_GOODPUT:.0%})")
                if figures.rss - base.rss > TARGET_RSS:
                    missed.append(f"{contender.name}: RSS grew {figures.rss - base.rss:.0f} MiB past saturation's")
            if contender in (WXHOOK, WXHOOK_SYNC) and figures.lost:
                missed.append(f"{contender.name}: {figures.lost} push(es) lost at {factor:g} x")
        results[contender.name] = points
    print("\n| contender | offered/s | goodput/s | of saturation | lost | run twice | no 200 | p50 / p99 ms | "
          "RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(table))
    plot(results, options.plot)
    print(f"\nplot: {options.plot}; {time.monotonic() - began:.0f} s in all")
    if options.json:
        Path(options.json).write_text(json.dumps({k: [vars(f) for f in v] for k, v in results.items()}, indent=1))
    for line in missed:
        print("MISSED: " + line)
    return 1 if options.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
