"""The console's API panel: each call the bot made to the console's FakeWeChat as the page shows it (request and
answer, credentials masked), and the faults the page arms in the fake (``fake.fail``) to see how the bot copes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..logs import masked
from ..testing import SERVED_PATHS, RecordedCall

KEPT = 200
"""Calls the panel keeps for a page that opens (or reloads) later: the latest."""
_ERRCODES = range(-1, 1_000_000_000)
_TIMES = range(1, 101)
_OPENID_LENGTH = 64


def shown(seq: int, call: RecordedCall, account: str | None) -> dict[str, Any]:
    """A call as the panel lists it: ``seq`` orders it, ``account`` is the appid it was made for (as the page names
    accounts), ``errcode`` the one WeChat's answer carried (0 for none), ``failure`` what went wrong, if anything."""
    return {"seq": seq, "account": account, "method": call.method, "path": call.path, "query": masked(call.query),
            "request": _payload(call.json, call.body), "status": call.status,
            "response": _payload(call.answer, call.response), "errcode": call.errcode, "failure": call.failure}


def _payload(parsed: Any, raw: bytes) -> Any:
    """JSON as parsed, its credentials masked; other bodies (media, a multipart upload, a page) only measured."""
    if parsed is not None:
        return masked(parsed)
    return f"<{len(raw)} bytes>" if raw else None


@dataclass(frozen=True, slots=True)
class Fault:
    """The next ``times`` calls to ``path`` (about ``openid`` only, when given) answered ``errcode``."""

    path: str
    errcode: int
    times: int
    openid: str | None

    @classmethod
    def read(cls, body: Mapping[str, Any]) -> Fault:
        """The fault the page asks for; ValueError says what to fix."""
        path, errcode, times, openid = (body.get("path"), body.get("errcode"), body.get("times", 1),
                                        body.get("openid"))
        if not isinstance(path, str) or path not in SERVED_PATHS:
            raise ValueError(f"'path' is an endpoint of the fake API (e.g. /cgi-bin/message/custom/send), not "
                             f"{str(path)[:60]!r}")
        if isinstance(errcode, bool) or not isinstance(errcode, int) or errcode == 0 or errcode not in _ERRCODES:
            raise ValueError(f"'errcode' is the error to answer with, a number (e.g. 45015, 45047, 40001, -1), not "
                             f"{str(errcode)[:20]!r}")
        if isinstance(times, bool) or not isinstance(times, int) or times not in _TIMES:
            raise ValueError(f"'times' is how many calls fail, {_TIMES.start} to {_TIMES.stop - 1}")
        if openid is not None and (not isinstance(openid, str) or not 0 < len(openid) <= _OPENID_LENGTH):
            raise ValueError("'openid' limits the fault to calls about one follower: an openid, or null for any")
        return cls(path, errcode, times, openid)

    def describe(self, account: str) -> dict[str, Any]:
        return {"path": self.path, "errcode": self.errcode, "times": self.times, "openid": self.openid,
                "account": account}
