"""A process that only uses the API client: ``python -m tests.apps.client_calls STORE_URL START_FILE N``.

Waits until START_FILE exists (so several processes start their calls together), then makes N concurrent
API calls through ``Client(store=STORE_URL)`` with credentials from WXHOOK_* variables.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from wxhook.api import Client


async def main(store: str, calls: int) -> None:
    async with Client(store=store) as client:
        results = await asyncio.gather(*(client.misc.callback_ip() for _ in range(calls)))
    assert all(results), "an empty IP list"
    print(f"{calls} calls made")


if __name__ == "__main__":
    start = Path(sys.argv[2])
    while not start.exists():
        time.sleep(0.01)
    asyncio.run(main(sys.argv[1], int(sys.argv[3])))
