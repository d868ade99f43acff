"""Processes for the scale-out tests: bot instances, workers and client scripts, each logging to a file and
each killed when the test ends, whatever happened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from ..redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]
BOT = "tests.apps.scale_bot"
TOKEN = "scale-token"


def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``check`` until true; fail naming ``what`` after ``seconds`` (a bound, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g}s: {what}")
        time.sleep(0.05)


class Processes:
    """Starts processes with their output in ``<name>.log`` under the test's directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[bytes]:
        with open(self.directory / f"{name}.log", "ab") as log:
            process = subprocess.Popen(args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.running[name] = process
        return process

    def log(self, name: str) -> str:
        return (self.directory / f"{name}.log").read_text(errors="replace")

    def bot(self, name: str, env: dict[str, str], app: str = f"{BOT}:app") -> str:
        """A uvicorn instance of ``app``; its URL once it answers."""
        port = free_port()
        self.start(name, [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)], env)
        return self.bot_url(name, port)

    def bot_url(self, name: str, port: int) -> str:
        """The URL of the server ``name`` started on ``port``, once it answers."""
        process = self.running[name]
        url = f"http://127.0.0.1:{port}/"

        def answers() -> bool:
            assert process.poll() is None, f"{name} exited:\n{self.log(name)}"
            try:
                httpx.get(url, timeout=1)
            except httpx.TransportError:
                return False
            return True

        eventually(answers, 30, f"{name} serving")
        return url

    def worker(self, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.start(name, [sys.executable, "-m", "wxhook.worker", f"{BOT}:bot"], env)

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
        for process in self.running.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        self.running.clear()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this test's own, which the test may stop and start again."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def bot_env(fake_url: str, appid: str, secret: str, runs: Path, **extra: str) -> dict[str, str]:
    """The environment of a scale_bot process: a clean WXHOOK_* set plus ``extra``."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")},
        "WXHOOK_TOKEN": TOKEN, "WXHOOK_APPID": appid, "WXHOOK_SECRET": secret, "WXHOOK_API_BASE": fake_url,
        "RUNS_FILE": str(runs), **extra,
    }


def runs_of(runs: Path, what: str) -> list[tuple[str, str]]:
    """(msgid, pid) of each recorded run of ``what``."""
    lines = [line.split() for line in runs.read_text().splitlines()]
    return [(msg_id, pid) for kind, msg_id, pid in lines if kind == what]
