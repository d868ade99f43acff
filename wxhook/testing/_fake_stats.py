"""Fake analytics (datacube): each report checks its date range and answers one row per day (or hour)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, Handler, endpoint

_CHINA = timezone(timedelta(hours=8))
_READS = {
    "user_source": 0, "int_page_read_user": 0, "int_page_read_count": 0, "ori_page_read_user": 0,
    "ori_page_read_count": 0, "share_user": 0, "share_count": 0, "add_to_fav_user": 0, "add_to_fav_count": 0,
}  # fmt: skip
_ARTICLE = {"msgid": "1000000001_1", "title": "fake article", **{k: v for k, v in _READS.items() if k != "user_source"}}
_SHARES = {"share_scene": 1, "share_count": 0, "share_user": 0}
_MESSAGES = {"msg_type": 1, "msg_user": 0, "msg_count": 0}
_DIST = {"count_interval": 1, "msg_user": 0}
_INTERFACE = {"callback_count": 0, "fail_count": 0, "total_time_cost": 0, "max_time_cost": 0}
# path → (maximum days, hourly rows, the metrics of a row)
_REPORTS: dict[str, tuple[int, bool, dict[str, Any]]] = {
    "/datacube/getusersummary": (7, False, {"user_source": 0, "new_user": 0, "cancel_user": 0}),
    "/datacube/getusercumulate": (7, False, {"cumulate_user": 0}),
    "/datacube/getarticlesummary": (1, False, _ARTICLE),
    "/datacube/getarticletotal": (1, False, {"msgid": "1000000001_1", "title": "fake article", "details": []}),
    "/datacube/getuserread": (3, False, _READS),
    "/datacube/getuserreadhour": (1, True, _READS),
    "/datacube/getusershare": (7, False, _SHARES),
    "/datacube/getusersharehour": (1, True, _SHARES),
    "/datacube/getupstreammsg": (7, False, _MESSAGES),
    "/datacube/getupstreammsghour": (1, True, _MESSAGES),
    "/datacube/getupstreammsgweek": (30, False, _MESSAGES),
    "/datacube/getupstreammsgmonth": (30, False, _MESSAGES),
    "/datacube/getupstreammsgdist": (15, False, _DIST),
    "/datacube/getupstreammsgdistweek": (30, False, _DIST),
    "/datacube/getupstreammsgdistmonth": (30, False, _DIST),
    "/datacube/getinterfacesummary": (30, False, _INTERFACE),
    "/datacube/getinterfacesummaryhour": (1, True, _INTERFACE),
}


def _date(value: Any) -> date:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else date.min
    except ValueError:
        return date.min


def _report(max_days: int, hourly: bool, metrics: dict[str, Any]) -> Handler:
    def handle(st: FakeState, req: FakeRequest) -> dict[str, Any]:
        body = req.body()
        begin, end = _date(body.get("begin_date")), _date(body.get("end_date"))
        if date.min in (begin, end):
            raise Fault(61500, "date format error")
        yesterday = datetime.now(_CHINA).date() - timedelta(days=1)
        if begin > end or end > yesterday or (end - begin).days >= max_days:
            raise Fault(61501, "date range error")
        days = [begin + timedelta(days=n) for n in range((end - begin).days + 1)]
        hours = range(0, 2400, 100) if hourly else [None]
        rows = [
            {"ref_date": day.isoformat(), **({} if hour is None else {"ref_hour": hour}), **metrics}
            for day in days
            for hour in hours
        ]
        return {"list": rows}

    return handle


REPORTS = tuple(
    endpoint("POST", path)(_report(max_days, hourly, metrics)) for path, (max_days, hourly, metrics) in _REPORTS.items()
)
