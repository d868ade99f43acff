"""WeChat's calendar: days begin at midnight China Standard Time, whatever the caller's time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")


def today() -> date:
    return datetime.now(CHINA).date()


def timestamp(moment: datetime | int) -> int:
    """Unix seconds; a naive datetime is read as China time, as WeChat's consoles show it."""
    if isinstance(moment, datetime):
        return int((moment if moment.tzinfo else moment.replace(tzinfo=CHINA)).timestamp())
    return int(moment)


def china_day(seconds: int) -> date:
    return datetime.fromtimestamp(seconds, CHINA).date()
