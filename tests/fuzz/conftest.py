"""Hypothesis profiles for the fuzz suite (see the package docstring) and the event loop the ASGI tests share."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

LONG = os.environ.get("WXHOOK_FUZZ", "").lower() == "long"

# No per-example deadline: the machines that run CI are shared, and a hang is caught by the tests' own 5 s bound.
settings.register_profile("fuzz", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fuzz")


def examples(count: int) -> settings:
    """``count`` examples in the normal run, fifty times as many with ``WXHOOK_FUZZ=long``."""
    return settings(max_examples=count * 50 if LONG else count)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for a module's examples: the bot's runtime lives in the loop that first served it."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
