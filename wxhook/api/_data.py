"""The base of every typed thing WeChat sends: the fields wxhook knows, and the whole object in ``raw``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["WeChatData"]


@dataclass(frozen=True)
class WeChatData:
    """What WeChat answered (an API call's result) or pushed (a platform notification), typed.

    ``raw`` keeps the whole JSON or XML object as received, so a field WeChat adds later is reachable without a
    release of wxhook. It is keyword-only and left out of ``repr`` and ``==``: two answers that differ only in
    fields wxhook does not type compare equal.
    """

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False, kw_only=True)
