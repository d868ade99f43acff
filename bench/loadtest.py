"""The HTTP half of the comparison: each contender served by one worker pinned to one core, wrk on the other.

Every contender answers the same account's pushes. Before its load it answers a few pushes that are checked in
full (the safe-mode replies are verified and decrypted); under load wrk checks every answer (see pushes.lua).
Each (contender, mode) gets a fresh server: a warm-up, then the measured run, both on pushes never sent before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
from environment import BENCH
from pushes import AES_KEY, APPID, CREDENTIALS, TOKEN, Signer
from services import LOAD_CPU, free_port, http_server, pinned

from wxhook.crypto import Envelope, decode_aes_key, sign

PEERS = BENCH / "peers"
LUA = BENCH / "pushes.lua"
MODES = ("plaintext", "safe mode")
_PROBES = 3
_PROBE_FIRST = 10**9
"""Probe pushes are numbered far past any pool, so the measured runs never repeat one."""


TIMED = "timed_asgi:app"
"""The timing layer of ``--inside`` (peers/timed_asgi.py), serving the app named by TIMED_APP."""
TIMING = "/__timing__"
"""Where the timing layer answers its totals since it was last asked."""


@dataclass(frozen=True, slots=True)
class Contender:
    name: str
    app: str
    """``module:attribute`` in peers/: an ASGI app served by uvicorn, or with ``wsgi`` a WSGI app under gunicorn."""
    wsgi: bool = False
    log_level: str = "warning"
    modes: tuple[str, ...] = MODES
    check: str = "echo"
    store: str | None = None
    """``sqlite`` or ``redis``: wxhook with WXHOOK_STORE pointing at a fresh database of that kind."""


WXHOOK = "wxhook"
WXHOOK_LOGGED = "wxhook, message log on"
WXHOOK_SQLITE = "wxhook, SQLite store"
WXHOOK_REDIS = "wxhook, Redis store"
STARLETTE_WECHATPY = "Starlette + wechatpy"
WEROBOT = "WeRoBot (gunicorn)"
BARE = "bare Starlette route"
"""For reference only: it reads nothing, so no target is judged against it."""
RAW = "minimal raw ASGI handler"
GUARDED = "guarded floor"
"""The raw handler's work plus wxhook's default guarantees inlined (peers/guarded_asgi.py): what wxhook is judged
against."""
CONTENDERS = (
    Contender(WXHOOK, "wxhook_echo:bot"),
    Contender(WXHOOK_LOGGED, "wxhook_echo:bot", log_level="info"),  # uvicorn's default level: wxhook's lines too
    Contender(WXHOOK_SQLITE, "wxhook_echo:bot", modes=("plaintext",), store="sqlite"),
    Contender(WXHOOK_REDIS, "wxhook_echo:bot", modes=("plaintext",), store="redis"),
    Contender(STARLETTE_WECHATPY, "starlette_wechatpy:app"),
    Contender(WEROBOT, "werobot_echo:app", wsgi=True),
    Contender(BARE, "starlette_constant:app", modes=("plaintext",), check="constant"),
    Contender(RAW, "raw_asgi:app"),
    Contender(GUARDED, "guarded_asgi:app"),
)


def _command(contender: Contender, port: int, timed: bool) -> list[str]:
    """uvicorn with uvloop and httptools for every ASGI contender (``timed``: through the timing layer); gunicorn
    with one gthread worker for WeRoBot, which keeps connections alive (the sync worker closes each one and measured
    half as fast, gevent slower)."""
    if contender.wsgi:
        return [sys.executable, "-m", "gunicorn", "--workers", "1", "--worker-class", "gthread",
                "--bind", f"127.0.0.1:{port}", "--chdir", str(PEERS), "--log-level", "warning", contender.app]
    return [sys.executable, "-m", "uvicorn", TIMED if timed else contender.app, "--app-dir", str(PEERS),
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--log-level", contender.log_level, "--no-access-log"]


def chosen(only: str) -> tuple[Contender, ...]:
    """The contenders ``--only`` names (comma-separated; a name matches itself, else the names it is part of, so
    the store rows, whose names hold a comma, are picked by "SQLite store" or "store"); all when empty."""
    wanted = [name.strip().lower() for name in only.split(",") if name.strip()]
    if not wanted:
        return CONTENDERS
    names = {c.name.lower() for c in CONTENDERS}
    picked = tuple(c for c in CONTENDERS
                   if any(c.name.lower() == w or (w not in names and w in c.name.lower()) for w in wanted))
    if not picked:
        raise SystemExit(f"--only {only!r} names no contender; choose from: {', '.join(c.name for c in CONTENDERS)}")
    return picked


@dataclass(frozen=True, slots=True)
class Row:
    contender: str
    mode: str
    rate: float
    """Completed requests per second."""
    p50_ms: float
    p99_ms: float
    errors: int
    """Socket errors, non-200 answers and wrong replies in the measured run."""
    wrong: int = 0
    """Of those, the non-200 answers and wrong replies."""
    note: str = ""
    problem: str = ""
    """Why the contender could not be measured, or the wrong answer it gave to a checked push."""
    inside: dict[str, float] | None = None
    """With ``--inside``: microseconds per request of the app's ``call``, and within it its ``send`` and ``receive``."""

    @property
    def failed(self) -> bool:
        return bool(self.problem) or self.wrong > 0


FRESH_FOR = 120.0
"""Seconds a pool of pushes is used before it is written again: their timestamps must stay well inside the
300 s window wxhook (rightly) enforces, however long the whole comparison takes."""


@dataclass(frozen=True, slots=True)
class Load:
    wrk: str
    directory: Path
    size: int
    """Pushes per pool: enough for one warm-up and one measured run at the highest expected rate."""
    warmup: float
    duration: float
    connections: int
    inside: bool = False
    """Serve each ASGI contender through the timing layer and report where its time goes (``--inside``)."""
    written: dict[str, float] = field(default_factory=dict)
    """When each mode's pool was written (time.monotonic())."""

    def pool(self, mode: str) -> Path:
        """The pushes file of ``mode``, written again first when it is older than ``FRESH_FOR``."""
        path = self.directory / f"{mode.replace(' ', '-')}.pushes"
        if time.monotonic() - self.written.get(mode, -FRESH_FOR) >= FRESH_FOR:
            started = time.perf_counter()
            with path.open("w") as out:
                for push in Signer(sealed=mode != "plaintext").texts(self.size):
                    out.write(f"{push.target} {push.body.decode()}\n")
            self.written[mode] = time.monotonic()
            print(f"  {self.size:,} {mode} pushes written in {time.perf_counter() - started:.1f} s", flush=True)
        return path


def _fields(document: bytes) -> dict[str, str]:
    return {child.tag: child.text or "" for child in ElementTree.fromstring(document)}


def _probe(url: str, mode: str, check: str) -> str | None:
    """Send a few pushes and check each answer in full; the problem found, or None."""
    signer = Signer(sealed=mode != "plaintext")
    envelope = Envelope(decode_aes_key(AES_KEY), APPID)
    for n, push in enumerate(signer.texts(_PROBES, _PROBE_FIRST), _PROBE_FIRST):
        answer = httpx.post(url + push.target, content=push.body, timeout=10)
        if answer.status_code != 200:
            return f"answered {answer.status_code}: {answer.text[:200]}"
        if check == "constant":
            continue
        reply = _fields(answer.content)
        if mode != "plaintext":
            expected = sign(TOKEN, reply.get("TimeStamp", ""), reply.get("Nonce", ""), reply.get("Encrypt", ""))
            if reply.get("MsgSignature") != expected:
                return f"safe-mode reply with a wrong MsgSignature: {answer.text[:200]}"
            reply = _fields(envelope.open(reply["Encrypt"]))
        if reply.get("ToUserName") != f"o_bench_{n}" or reply.get("Content") != f"bench message {n}":
            return f"not the echo of push {n}: {reply}"
    return None


def _wrk(load: Load, url: str, mode: str, check: str, first: int, seconds: float) -> dict[str, Any]:
    argv = [load.wrk, "-t1", f"-c{load.connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", str(LUA), url + "/", "--", str(load.pool(mode)), check, str(first)]
    run = subprocess.run(pinned(argv, LOAD_CPU), capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


@contextmanager
def _server(contender: Contender, mode: str, redis_url: str | None, timed: bool) -> Iterator[str]:
    env = {**_environ(), **CREDENTIALS, "TIMED_APP": contender.app}
    if mode != "plaintext":
        env["WXHOOK_AES_KEY"] = AES_KEY
    with ExitStack() as stack:
        if contender.store == "sqlite":
            directory = stack.enter_context(tempfile.TemporaryDirectory())
            env["WXHOOK_STORE"] = f"sqlite:///{directory}/state.db"
        elif contender.store == "redis":
            if redis_url is None:
                raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
            with redis.Redis.from_url(redis_url) as client:
                client.flushdb()  # a fresh store, as the other contenders get
            env["WXHOOK_STORE"] = redis_url
        port = free_port()
        yield stack.enter_context(http_server(_command(contender, port, timed), port, env, str(PEERS)))


def _environ() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("WXHOOK_")}


def measure(contender: Contender, mode: str, load: Load, redis_url: str | None) -> Row:
    """One fresh server: probe, warm up, measure."""
    load.pool(mode)  # written again now if it is getting old, not between the warm-up and the measured run
    timed = load.inside and not contender.wsgi
    try:
        with _server(contender, mode, redis_url, timed) as url:
            problem = _probe(url, mode, contender.check)
            check = contender.check if contender.check == "constant" or mode == "plaintext" else "sealed"
            warm = _wrk(load, url, mode, check, 0, load.warmup)
            if timed:
                httpx.get(url + TIMING).raise_for_status()  # the totals start again with the measured run
            run = _wrk(load, url, mode, check, warm["issued"], load.duration)
            inside = _inside(httpx.get(url + TIMING).json()) if timed else None
    except (RuntimeError, subprocess.CalledProcessError, httpx.HTTPError) as exc:
        return Row(contender.name, mode, 0.0, 0.0, 0.0, 0, problem=f"failed: {str(exc).strip()[:300]}")
    wrong = run["non200"] + run["wrong"]
    note = "void: the pushes ran out and repeated (raise --max-rate)" if run["exhausted"] else ""
    if contender.check == "constant":
        note = ""  # the constant route reads nothing, so a repeated push changes nothing
    return Row(contender.name, mode, run["completed"] / (run["duration_us"] / 1e6), run["p50_us"] / 1000,
               run["p99_us"] / 1000, run["socket_errors"] + wrong, wrong, note,
               f"wrong answer: {problem}" if problem else "", inside)


def _inside(totals: dict[str, float]) -> dict[str, float]:
    """The timing layer's totals (seconds) as microseconds per request."""
    count = max(totals["requests"], 1)
    return {part: totals[part] / count * 1e6 for part in ("call", "send", "receive")}
