"""Analytics (数据统计): one POST per report, each over a date range WeChat caps per endpoint.

The reports differ only in path and maximum span, so they are declared as a table of :class:`_Report`
descriptors: ``client.datacube.user_summary(begin, end)`` is an ordinary typed method.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, overload

from ._caller import Group
from ._data import WeChatData
from ._dates import today

__all__ = ["StatRow"]


@dataclass(frozen=True)
class StatRow(WeChatData):
    """One row of a report: its day (and, for the hourly reports, ``ref_hour`` as WeChat's 0..2300) parsed;
    every metric is in ``raw`` and readable as ``row["new_user"]``."""

    ref_date: date
    ref_hour: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)


ReportCall = Callable[[date, date], Awaitable[list[StatRow]]]


class _Report:
    """A report endpoint: reading it from a ``DatacubeAPI`` gives ``async (begin, end) -> [StatRow]``."""

    def __init__(self, path: str, max_days: int, what: str) -> None:
        self.path = path
        self.max_days = max_days
        self.__doc__ = f"{what}, at most {max_days} day{'s' if max_days > 1 else ''} ending yesterday or earlier."
        self.name = path

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, group: None, owner: type) -> _Report: ...
    @overload
    def __get__(self, group: DatacubeAPI, owner: type) -> ReportCall: ...
    def __get__(self, group: DatacubeAPI | None, owner: type) -> _Report | ReportCall:
        if group is None:
            return self

        async def report(begin: date, end: date) -> list[StatRow]:
            return await group._fetch(self, begin, end)

        report.__name__ = self.name
        report.__doc__ = self.__doc__
        return report

    def check(self, begin: date, end: date) -> tuple[date, date]:
        """Raise ValueError for a range WeChat would refuse with a bare 61500/61501."""
        begin, end = _day(begin, "begin"), _day(end, "end")
        yesterday = today() - timedelta(days=1)
        if end > yesterday:
            raise ValueError(
                f"datacube.{self.name}: end={end} is not over yet; WeChat has data up to yesterday "
                f"({yesterday}, China time)"
            )
        if begin > end:
            raise ValueError(f"datacube.{self.name}: begin={begin} is after end={end}")
        span = (end - begin).days + 1
        if span > self.max_days:
            raise ValueError(
                f"datacube.{self.name}: {begin}..{end} spans {span} days, WeChat allows at most "
                f"{self.max_days}; split the range"
            )
        return begin, end


def _day(value: date, name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    return value


def _row(item: dict[str, Any]) -> StatRow:
    hour = item.get("ref_hour")
    return StatRow(date.fromisoformat(str(item["ref_date"])), None if hour is None else int(hour), raw=dict(item))


class DatacubeAPI(Group):
    """Every report answers ``{"list": [rows]}``; rows keep all of WeChat's fields."""

    user_summary = _Report("/datacube/getusersummary", 7, "Follows and unfollows per day and source")
    user_cumulate = _Report("/datacube/getusercumulate", 7, "Total followers per day")
    article_summary = _Report("/datacube/getarticlesummary", 1, "Per-article reads and shares of a day")
    article_total = _Report("/datacube/getarticletotal", 1, "Per-article totals over the days after sending")
    user_read = _Report("/datacube/getuserread", 3, "Article reads per day")
    user_read_hour = _Report("/datacube/getuserreadhour", 1, "Article reads per hour")
    user_share = _Report("/datacube/getusershare", 7, "Article shares per day and scene")
    user_share_hour = _Report("/datacube/getusersharehour", 1, "Article shares per hour")
    upstream_msg = _Report("/datacube/getupstreammsg", 7, "Messages followers sent, per day")
    upstream_msg_hour = _Report("/datacube/getupstreammsghour", 1, "Messages followers sent, per hour")
    upstream_msg_week = _Report("/datacube/getupstreammsgweek", 30, "Messages followers sent, per week")
    upstream_msg_month = _Report("/datacube/getupstreammsgmonth", 30, "Messages followers sent, per month")
    upstream_msg_dist = _Report("/datacube/getupstreammsgdist", 15, "Messages per follower, distribution")
    upstream_msg_dist_week = _Report(
        "/datacube/getupstreammsgdistweek", 30, "Messages per follower, weekly distribution"
    )
    upstream_msg_dist_month = _Report(
        "/datacube/getupstreammsgdistmonth", 30, "Messages per follower, monthly distribution"
    )
    interface_summary = _Report("/datacube/getinterfacesummary", 30, "Webhook calls, failures and latency per day")
    interface_summary_hour = _Report(
        "/datacube/getinterfacesummaryhour", 1, "Webhook calls, failures and latency per hour"
    )

    async def _fetch(self, report: _Report, begin: date, end: date) -> list[StatRow]:
        """Reports only read, so they are retried like any idempotent call."""
        first, last = report.check(begin, end)
        body = {"begin_date": first.isoformat(), "end_date": last.isoformat()}
        data = await self._caller.post(report.path, body)
        return [_row(item) for item in data.get("list") or []]


REPORTS: dict[str, _Report] = {name: value for name, value in vars(DatacubeAPI).items() if isinstance(value, _Report)}
"""Every report by method name (for docs and tests)."""
