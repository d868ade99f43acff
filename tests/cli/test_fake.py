"""`wxhook fake` shows the late reply `wxhook send` cannot: a bot served by `wxhook run` on the fake's printed
variables answers `report` at its deadline, and the fake prints the reply that follows through the API. And
`wxhook dev` runs a bot that reads WXHOOK_TOKEN without one, on a dev token it prints."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from tests.e2e.test_echo_example import ROOT, free_port, run_cli, wait_until_serving
from wxhook.testing import BotClient

BOT = '''
import asyncio

from wxhook import Bot

bot = Bot(deadline=0.5, timeout_reply="Working on it")


@bot.on_text("report")
async def report(msg):
    await asyncio.sleep(1)
    return "Your report is ready."
'''


def clean_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")}, **extra}


class Lines:
    """A process's output, line by line as it comes, without blocking the test on a read."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: [self._lines.put(line.rstrip("\n")) for line in stream], daemon=True).start()

    def next(self, seconds: float = 20) -> str:
        return self._lines.get(timeout=seconds)

    def until(self, part: str, seconds: float = 20) -> str:
        while True:
            line = self.next(seconds)
            if part in line:
                return line


def test_fake_prints_the_late_reply_send_does_not_show(processes: list[subprocess.Popen[Any]],
                                                       tmp_path: Path) -> None:
    (tmp_path / "mybot.py").write_text(BOT, encoding="utf-8")
    fake = subprocess.Popen([sys.executable, "-m", "wxhook", "fake", "--port", str(free_port())], cwd=ROOT,
                            env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    processes.append(fake)
    assert fake.stdout is not None
    output = Lines(fake.stdout)
    assert output.next().startswith("wxhook fake: a fake WeChat API at http://127.0.0.1:")
    exports = output.next().split()
    assert exports[0] == "export"
    variables = dict(word.split("=", 1) for word in exports[1:])
    assert sorted(variables) == ["WXHOOK_API_BASE", "WXHOOK_APPID", "WXHOOK_SECRET"]

    port = free_port()
    bot = subprocess.Popen([sys.executable, "-m", "wxhook", "run", "mybot:bot", "--port", str(port)], cwd=tmp_path,
                           env=clean_env(WXHOOK_TOKEN="t", **variables), stdout=subprocess.DEVNULL,
                           stderr=subprocess.STDOUT)
    processes.append(bot)
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(url, bot)
    sent = run_cli("send", url, "text", "report", WXHOOK_TOKEN="t")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.splitlines()[1] == "  Working on it"  # all that send sees: the deadline's answer
    late = output.until("/cgi-bin/message/custom/send")
    assert late.endswith("POST /cgi-bin/message/custom/send: text to o_wxhook_cli: Your report is ready.")
    fake.send_signal(signal.SIGTERM)
    assert fake.wait(10) == 0


def test_fake_says_when_its_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("fake", "--port", str(port))
    assert (result.returncode, result.stdout) == (1, "")
    last = result.stderr.splitlines()[-1]  # after uvicorn's own line
    assert last == f"wxhook: FakeWeChat did not start: uvicorn could not bind 127.0.0.1:{port} (taken?)"


def test_dev_runs_a_bot_without_a_token_on_one_it_prints(processes: list[subprocess.Popen[Any]]) -> None:
    port = free_port()
    dev = subprocess.Popen([sys.executable, "-m", "wxhook", "dev", "examples.menu:bot", "--port", str(port)],
                           cwd=ROOT, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    processes.append(dev)
    assert dev.stdout is not None
    output = Lines(dev.stdout)
    line = output.until("wxhook dev:")
    prefix = "wxhook dev: no WXHOOK_TOKEN set, so the bot runs on the dev token "
    assert line.startswith(prefix) and line.endswith(" (set WXHOOK_TOKEN, or pass --token, to choose one)")
    token = line[len(prefix):].split()[0]
    assert token.startswith("dev-") and len(token) == 20
    output.until(f"wxhook dev console: http://127.0.0.1:{port}/")
    with BotClient(f"http://127.0.0.1:{port}/wechat/", token=token) as wechat:
        assert wechat.send_event("subscribe").status == 200
