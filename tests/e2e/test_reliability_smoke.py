"""The fast subset of bench/reliability.py: every load and fault scenario at small scale, as CI runs it.

Each scenario exits non-zero when its invariant breaks (a non-200, a handler run twice or never, a wrong or
lost reply, a late reply sent twice, a job that vanished on shutdown, a hung handler not cancelled, a push
answered 200 and lost after an instance was killed with the default settings), so a pass here is the invariants
holding over about a thousand messages per store. Redis is skipped only when
redis-server is missing and WXHOOK_REQUIRE_REDIS is unset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from .test_echo_example import ROOT


def run(*args: str) -> str:
    result = subprocess.run([sys.executable, "bench/reliability.py", *args, "--scale", "small"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("store", ["memory", "sqlite", "redis"])
def test_load(store: str) -> None:
    if store == "redis" and shutil.which("redis-server") is None and not os.environ.get("WXHOOK_REQUIRE_REDIS"):
        pytest.skip("redis-server is not installed (Debian: apt-get install redis-server)")
    assert f"load, {store} store" in run("load", "--store", store)


@pytest.mark.parametrize("fault", ["api", "token", "sigterm", "sigkill", "hang"])
def test_fault(fault: str) -> None:
    assert "faults, " in run("faults", "--only", fault)
