"""The README as a front page: short, and its hello world works as written — the bot file, the token exported,
`wxhook run`, then `wxhook send` answered by the bot."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from .test_echo_example import ROOT, free_port, wait_until_serving

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_a_front_page() -> None:
    assert len(README.splitlines()) <= 250
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    (test_command,) = [line for line in ci.splitlines() if "-m pytest" in line]
    assert test_command in README.splitlines()  # the test suite's command, exactly as CI runs it


def test_hello_world_as_written(tmp_path: Path) -> None:
    section = README.split("## Hello world", 1)[1].split("\n## ", 1)[0]
    (bot,) = re.findall(r"```python\n# bot\.py\n(.*?)```", section, flags=re.DOTALL)
    (shell,) = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    (tmp_path / "bot.py").write_text(bot, encoding="utf-8")
    lines = [shlex.split(line, comments=True) for line in shell.splitlines()]
    export, run, send = lines
    assert export[0] == "export" and run[:2] == ["wxhook", "run"] and send[:2] == ["wxhook", "send"]
    port = free_port()  # where the README's 127.0.0.1:8000 is made free
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")},
           **dict(word.split("=", 1) for word in export[1:]), "WXHOOK_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", *run], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(url, server)
        sent = subprocess.run([sys.executable, "-m", *[url if word.startswith("http://127.0.0.1:8000") else word
                                                       for word in send]],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    finally:
        server.terminate()
        server.wait(30)
    assert sent.returncode == 0, sent.stderr
    head, content = sent.stdout.splitlines()
    assert head.startswith("HTTP 200 in ") and head.endswith(": text reply to o_wxhook_cli") and content == "  hello"
