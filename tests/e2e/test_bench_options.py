"""bench/compare.py's ``--only``: the contenders it picks, the store rows (whose names hold a comma) included."""

from __future__ import annotations

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
