"""Processes the benchmarks start and stop: a server pinned to one core, a private redis-server."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence

SERVER_CPU, LOAD_CPU = 0, 1


def pinned(argv: Sequence[str], cpu: int) -> list[str]:
    """``argv`` confined to one core, so the server and the load generator never compete for one; unpinned
    on a single-core machine (the figures then say less)."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return list(argv)
    return ["taskset", "-c", str(cpu), *argv]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int, probe: bytes, expected: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(probe)
            return conn.recv(64).startswith(expected)
    except OSError:
        return False


@contextlib.contextmanager
def running(argv: Sequence[str], *, port: int, probe: bytes, expected: bytes,
            env: Mapping[str, str] | None = None, cwd: str | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``argv`` and wait until the port answers ``probe`` with ``expected``; stop it on leaving. Yields the
    process (its pid for memory readings).

    The process's output is kept in a file and shown if it exits or never answers, so a peer that fails to
    start says why."""
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(argv, env=dict(env) if env is not None else None, cwd=cwd,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while not _answers(port, probe, expected):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"{' '.join(argv)} did not start:\n{log.read()}")
                time.sleep(0.05)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def http_server(argv: Sequence[str], port: int, env: Mapping[str, str], cwd: str) -> Iterator[str]:
    """A server under test on ``port``, answering HTTP; yields its base URL."""
    with running(pinned(argv, SERVER_CPU), port=port, probe=b"GET / HTTP/1.0\r\n\r\n", expected=b"HTTP/",
                 env=env, cwd=cwd):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def private_redis() -> Iterator[str | None]:
    """A redis-server of our own on a free port, nothing persisted; None when the binary is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with running(argv, port=port, probe=b"PING\r\n", expected=b"+PONG"):
        yield f"redis://127.0.0.1:{port}/0"
