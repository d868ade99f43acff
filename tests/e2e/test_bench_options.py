"""bench/compare.py's options: the contenders ``--only`` picks (the store rows, whose names hold a comma, included), and
the timing layer of ``--inside``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .test_echo_example import ROOT

PICK = "import sys, loadtest; print('|'.join(c.name for c in loadtest.chosen(sys.argv[1])))"


def chosen(only: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PICK, only], cwd=ROOT / "bench", capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(("only", "expected"), [
    ("wxhook", ["wxhook"]),
    ("wxhook, SQLite store", ["wxhook", "wxhook, SQLite store"]),
    ("store,bare", ["wxhook, SQLite store", "wxhook, Redis store", "bare Starlette route"]),
    ("werobot,Minimal", ["WeRoBot (gunicorn)", "minimal raw ASGI handler"]),
])
def test_only_picks_names_and_parts_of_names(only: str, expected: list[str]) -> None:
    picked = chosen(only)
    assert picked.returncode == 0, picked.stderr
    assert picked.stdout.strip().split("|") == expected


def test_only_naming_nothing_lists_the_contenders() -> None:
    picked = chosen("nginx")
    assert picked.returncode != 0 and "choose from: wxhook, " in picked.stderr


TIME_ONE = """
import asyncio, json, os, sys
sys.path.insert(0, "peers")
os.environ.update(TIMED_APP="raw_asgi:app", WXHOOK_TOKEN="wxhook-bench", WXHOOK_APPID="wx2c2769f8efd9abc2")
from pushes import Push, Signer, call
import timed_asgi

async def main():
    status, _ = await call(timed_asgi.app, next(Signer(sealed=False).texts(1)))
    first = await call(timed_asgi.app, Push(timed_asgi.PATH, b""))
    again = await call(timed_asgi.app, Push(timed_asgi.PATH, b""))
    print(json.dumps([status, json.loads(first[1]), json.loads(again[1])]))

asyncio.run(main())
"""


def test_inside_times_each_call_with_its_sends_and_receives_then_starts_again() -> None:
    """``--inside``'s layer: the totals it answers cover the requests since it was last asked."""
    run = subprocess.run([sys.executable, "-c", TIME_ONE], cwd=ROOT / "bench", capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    status, first, again = json.loads(run.stdout)
    assert status == 200
    assert first["requests"] == 1 and first["call"] > first["send"] + first["receive"] > 0
    assert first["send"] > 0 and first["receive"] > 0
    assert again == {"requests": 0, "call": 0.0, "send": 0.0, "receive": 0.0}
