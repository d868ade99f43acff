"""Short keys for long data (``shorten``), and the retired long-URL shortener."""

from __future__ import annotations

from dataclasses import dataclass

from ._caller import Group, build
from ._data import WeChatData

__all__ = ["ShortenData"]

MAX_LONG_DATA_BYTES = 4096
MAX_EXPIRE_SECONDS = 2_592_000


@dataclass(frozen=True)
class ShortenData(WeChatData):
    long_data: str
    create_time: int = 0
    expire_seconds: int = 0


class ShortURLAPI(Group):
    async def long2short(self, long_url: str) -> str:
        """Retired by WeChat (it answers 45103 since 2021); kept for completeness. Use :meth:`gen`."""
        data = await self._caller.post("/cgi-bin/shorturl", {"action": "long2short", "long_url": long_url})
        return str(data.get("short_url", ""))

    async def gen(self, long_data: str, expire_seconds: int = MAX_EXPIRE_SECONDS) -> str:
        """Store up to 4 KB of data under a 15-character key, for at most 30 days; returns the key."""
        size = len(long_data.encode())
        if size > MAX_LONG_DATA_BYTES:
            raise ValueError(f"long_data is {size} bytes; shorten/gen accepts at most {MAX_LONG_DATA_BYTES}")
        if not 1 <= expire_seconds <= MAX_EXPIRE_SECONDS:
            raise ValueError(
                f"expire_seconds must be 1..{MAX_EXPIRE_SECONDS} (30 days), got {expire_seconds}"
            )
        data = await self._caller.post(
            "/cgi-bin/shorten/gen", {"long_data": long_data, "expire_seconds": expire_seconds}
        )
        return str(data["short_key"])

    async def fetch(self, short_key: str) -> ShortenData:
        return build(ShortenData, await self._caller.post("/cgi-bin/shorten/fetch", {"short_key": short_key}))
