from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from wxhook.api import Client, StatRow, WeChatAPIError
from wxhook.api._datacube import REPORTS
from wxhook.api._dates import today
from wxhook.testing import FakeWeChat

from .conftest import raw_call, sent

# method → (path, maximum days, hourly): WeChat's documented table, restated to check the declared one.
DOCUMENTED = {
    "user_summary": ("/datacube/getusersummary", 7, False),
    "user_cumulate": ("/datacube/getusercumulate", 7, False),
    "article_summary": ("/datacube/getarticlesummary", 1, False),
    "article_total": ("/datacube/getarticletotal", 1, False),
    "user_read": ("/datacube/getuserread", 3, False),
    "user_read_hour": ("/datacube/getuserreadhour", 1, True),
    "user_share": ("/datacube/getusershare", 7, False),
    "user_share_hour": ("/datacube/getusersharehour", 1, True),
    "upstream_msg": ("/datacube/getupstreammsg", 7, False),
    "upstream_msg_hour": ("/datacube/getupstreammsghour", 1, True),
    "upstream_msg_week": ("/datacube/getupstreammsgweek", 30, False),
    "upstream_msg_month": ("/datacube/getupstreammsgmonth", 30, False),
    "upstream_msg_dist": ("/datacube/getupstreammsgdist", 15, False),
    "upstream_msg_dist_week": ("/datacube/getupstreammsgdistweek", 30, False),
    "upstream_msg_dist_month": ("/datacube/getupstreammsgdistmonth", 30, False),
    "interface_summary": ("/datacube/getinterfacesummary", 30, False),
    "interface_summary_hour": ("/datacube/getinterfacesummaryhour", 1, True),
}


def test_every_documented_report_is_declared() -> None:
    assert {name: (r.path, r.max_days) for name, r in REPORTS.items()} == {
        name: (path, days) for name, (path, days, _) in DOCUMENTED.items()
    }


@pytest.mark.parametrize("name", DOCUMENTED)
async def test_longest_range_ending_yesterday(fake: FakeWeChat, client: Client, name: str) -> None:
    path, days, hourly = DOCUMENTED[name]
    end = today() - timedelta(days=1)
    begin = end - timedelta(days=days - 1)
    rows = await getattr(client.datacube, name)(begin, end)
    assert sent(fake, path) == {"begin_date": begin.isoformat(), "end_date": end.isoformat()}
    per_day = 24 if hourly else 1
    assert len(rows) == days * per_day and all(isinstance(row, StatRow) for row in rows)
    assert rows[0].ref_date == begin and rows[-1].ref_date == end
    assert [row.ref_hour for row in rows[:per_day]] == (list(range(0, 2400, 100)) if hourly else [None])
    assert rows[0].raw["ref_date"] == begin.isoformat()


async def test_rows_expose_every_field(fake: FakeWeChat, client: Client) -> None:
    day = today() - timedelta(days=2)
    (row,) = await client.datacube.user_summary(datetime(day.year, day.month, day.day, 15), day)
    assert (row["new_user"], row["cancel_user"], row.get("user_source"), row.get("missing", "-")) == (0, 0, 0, "-")
    assert row == StatRow(day)  # rows compare by day and hour; metrics stay in raw
    assert sent(fake, "/datacube/getusersummary")["begin_date"] == day.isoformat()


@pytest.mark.parametrize(
    ("name", "begin_days_ago", "end_days_ago", "message"),
    [
        ("user_summary", 8, 1, "spans 8 days, WeChat allows at most 7"),
        ("article_summary", 2, 1, "spans 2 days, WeChat allows at most 1"),
        ("user_read", 4, 1, "at most 3"),
        ("upstream_msg_dist", 16, 1, "at most 15"),
        ("interface_summary", 31, 1, "at most 30"),
        ("user_cumulate", 0, 0, "not over yet"),
        ("user_cumulate", 1, -1, "not over yet"),
        ("upstream_msg", 1, 2, "is after end"),
    ],
)
async def test_ranges_checked_before_sending(
    fake: FakeWeChat, client: Client, name: str, begin_days_ago: int, end_days_ago: int, message: str
) -> None:
    now = today()
    with pytest.raises(ValueError, match=message):
        await getattr(client.datacube, name)(now - timedelta(days=begin_days_ago), now - timedelta(days=end_days_ago))
    assert fake.calls() == []


async def test_dates_must_be_dates(client: Client) -> None:
    with pytest.raises(TypeError, match=r"datetime\.date"):
        await client.datacube.user_summary("2024-05-01", date(2024, 5, 1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"begin_date": "2024/05/01", "end_date": "2024-05-01"}, 61500),
        ({"begin_date": "2024-05-01", "end_date": "2024-05-09"}, 61501),
        ({"begin_date": "2024-05-02", "end_date": "2024-05-01"}, 61501),
        ({"begin_date": today().isoformat(), "end_date": today().isoformat()}, 61501),
    ],
)
async def test_fake_enforces_ranges(fake: FakeWeChat, client: Client, body: dict[str, str], code: int) -> None:
    assert (await raw_call(fake, client, "POST", "/datacube/getusersummary", body))["errcode"] == code


async def test_a_refused_report_raises(fake: FakeWeChat, client: Client) -> None:
    fake.fail("/datacube/getinterfacesummary", errcode=61501)
    day = today() - timedelta(days=1)
    with pytest.raises(WeChatAPIError) as caught:
        await client.datacube.interface_summary(day, day)
    assert caught.value.errcode == 61501


def test_reports_read_from_the_class_describe_themselves() -> None:
    from wxhook.api._datacube import DatacubeAPI

    assert DatacubeAPI.user_read.max_days == 3 and "at most 3 days" in (DatacubeAPI.user_read.__doc__ or "")
