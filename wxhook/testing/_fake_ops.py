"""Fake operations endpoints: IP lists, the callback check, quotas and rid lookups."""

from __future__ import annotations

from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, endpoint

OK = {"errcode": 0, "errmsg": "ok"}
DAILY_LIMIT = 100_000
CLEAR_QUOTA_PER_MONTH = 10


@endpoint("GET", "/cgi-bin/getcallbackip")
def callback_ip(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"ip_list": ["101.226.62.77", "101.226.62.78"]}


@endpoint("GET", "/cgi-bin/get_api_domain_ip")
def api_domain_ip(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"ip_list": ["101.89.47.18", "101.91.34.103"]}


@endpoint("POST", "/cgi-bin/callback/check")
def callback_check(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    action = body.get("action")
    operator = body.get("check_operator")
    if action not in ("all", "dns", "ping") or operator not in ("DEFAULT", "CHINANET", "UNICOM", "CAP"):
        raise Fault(40097, "invalid args")
    dns = [{"ip": "127.0.0.1", "real_operator": "UNICOM"}]
    ping = [{"ip": "127.0.0.1", "from_operator": "UNICOM", "package_loss": "0%", "time": "1.000ms"}]
    return {"dns": dns if action != "ping" else [], "ping": ping if action != "dns" else []}


def clear_account_quota(st: FakeState) -> dict[str, Any]:
    """Reset an account's call counts, ten times a month."""
    if st.clear_quota_count >= CLEAR_QUOTA_PER_MONTH:
        raise Fault(48006, "forbid to clear quota because of reaching the limit")
    st.clear_quota_count += 1
    st.counts.clear()
    return OK


@endpoint("POST", "/cgi-bin/clear_quota")
def clear_quota(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    st.check_app(req.body().get("appid"), with_secret=False)
    return clear_account_quota(st)


@endpoint("POST", "/cgi-bin/clear_quota/v2", token=False)
def clear_quota_v2(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """The docs have put appid and appsecret in the query and in the JSON body; either is accepted."""
    body = req.call.json if isinstance(req.call.json, dict) else {}
    appid = req.query.get("appid") or body.get("appid")
    secret = req.query.get("appsecret") or body.get("appsecret")
    req.need(appid, 41002, "appid missing")
    req.need(secret, 41004, "appsecret missing")
    st.check_app(appid, secret)
    return clear_account_quota(st)


@endpoint("POST", "/cgi-bin/openapi/quota/get")
def quota_get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    path = str(req.body().get("cgi_path", ""))
    if path.startswith("/sns"):
        raise Fault(76022, "could not use this cgi_path，no permission")
    if path not in st.shared.paths:
        raise Fault(76021, "cgi_path not found, please check")
    used = st.counts.get(path, 0)
    return {
        **OK,
        "quota": {"daily_limit": DAILY_LIMIT, "used": used, "remain": DAILY_LIMIT - used},
        "rate_limit": {"call_count": 100, "refresh_second": 60},
        "component_rate_limit": {"call_count": 50, "refresh_second": 60},
    }


@endpoint("POST", "/cgi-bin/openapi/rid/get")
def rid_get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    record = st.rids.get(str(req.body().get("rid", "")))
    if record is None:
        raise Fault(76001, "rid not found")
    return {**OK, "request": record}
