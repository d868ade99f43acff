"""`uvicorn examples.echo:bot`, as the README runs it, answers a follower's safe-mode text with its encrypted echo."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from wxhook.testing import BotClient

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Poll until the server answers; its output in the error when it exits or never does."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"the server at {url} did not start:\n{output}") from None
            time.sleep(0.05)


@pytest.fixture(scope="module")
def echo_url() -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.echo:bot", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(10)


async def test_safe_mode_text_gets_its_encrypted_echo(echo_url: str) -> None:
    async with BotClient(
        echo_url, token="wxhook-echo", appid="wx2c2769f8efd9abc2", aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    ) as wechat:
        assert (await wechat.handshake("hello-wechat")).text == "hello-wechat"
        reply = await wechat.send_text("我在这里 echo me", openid="o_follower_1")
        assert reply.encrypted
        assert reply.content == "我在这里 echo me"
        assert reply.fields["ToUserName"] == "o_follower_1"
        assert (await wechat.send_text("help")).content == "Send me anything and I'll echo it."
        welcome = await wechat.send_event("subscribe")
        assert welcome.content is not None and welcome.content.startswith("Thanks for following")


async def test_plaintext_is_refused_once_safe_mode_is_configured(echo_url: str) -> None:
    async with BotClient(echo_url, token="wxhook-echo") as wechat:
        reply = await wechat.send_text("plain")
        assert reply.status == 403 and b"Bot(allow_plaintext=True)" in reply.body


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")}
    return subprocess.run(
        [sys.executable, "-m", "wxhook", *args], cwd=ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=30,
    )


def test_cli_plays_wechat_against_the_running_bot(echo_url: str) -> None:
    demo = {"WXHOOK_TOKEN": "wxhook-echo", "WXHOOK_APPID": "wx2c2769f8efd9abc2",
            "WXHOOK_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}
    sent = run_cli("send", echo_url, "text", "你好 from the CLI", **demo)
    assert sent.returncode == 0, sent.stderr
    head, content = sent.stdout.splitlines()
    assert head.endswith(": encrypted text reply to o_wxhook_cli") and content == "  你好 from the CLI"
    event = run_cli("send", echo_url, "event", "subscribe", **demo)
    assert event.stdout.splitlines()[1].startswith("  Thanks for following")
    plain = run_cli("send", echo_url, "event", "subscribe", "--plain", **demo)
    assert plain.returncode == 1 and "allow_plaintext" in plain.stderr
    assert run_cli("verify", echo_url, **demo).stdout.startswith(f"OK: {echo_url} answered the handshake")
    forged = run_cli("--token", "wrong", "send", echo_url, "text", "x")
    assert forged.returncode == 1 and "HTTP 403" in forged.stderr and "signature mismatch" in forged.stderr


def test_the_docs_session_against_the_echo_bot_works_as_written(echo_url: str) -> None:
    """Each command docs/cli.md shows against the echo bot, with its export line, succeeds: none fails as the
    README's `location … --plain` did against this safe-mode bot (403); and no page shows one like it."""
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    session = page.split("## Against the echo bot", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = [shlex.split(line, comments=True) for line in session.splitlines()]
    (export,) = [words for words in lines if words[:1] == ["export"]]
    env = dict(word.split("=", 1) for word in export[1:])
    commands = [words for words in lines if words[:1] == ["wxhook"]]
    assert len(commands) == 6
    for words in commands:
        result = run_cli(*[echo_url if word == "$URL" else word for word in words[1:]], **env)
        assert result.returncode == 0, f"{' '.join(words)}: {result.stderr}"
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert not [line for path in pages for line in path.read_text(encoding="utf-8").splitlines()
                if "$URL" in line and "--plain" in line.split("#")[0]]


def test_cli_explains_what_is_missing(echo_url: str) -> None:
    missing = run_cli("send", echo_url, "text", "x")
    assert missing.returncode == 2 and "WXHOOK_TOKEN" in missing.stderr
    unreachable = run_cli("send", "http://127.0.0.1:9/", "text", "x", "--token", "t")
    assert unreachable.returncode == 1 and "is the bot running" in unreachable.stderr
