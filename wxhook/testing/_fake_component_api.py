"""Fake open-platform APIs (``/cgi-bin/component/...``): the component token, pre-auth and authorization codes,
authorizer tokens, authorizer info and list, authorizer options, quota reset and the ticket push service."""

from __future__ import annotations

import functools
from typing import Any

from ._fake_component import OPTIONS, PRE_AUTH_TTL, Component, component_of, platform_named
from ._fake_ops import CLEAR_QUOTA_PER_MONTH, clear_account_quota
from ._fake_push import deliver
from ._fake_state import FakeRequest, FakeState, Fault, endpoint

OK = {"errcode": 0, "errmsg": "ok"}
MAX_LIST = 500
_BASE = "/cgi-bin/component/"


def _secret(component: Component, value: Any) -> None:
    if not value:
        raise Fault(41004, "appsecret missing")
    if value != component.secret:
        raise Fault(40125, "invalid appsecret")


@endpoint("POST", _BASE + "api_component_token", token=False)
def component_token(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Only for the latest ticket pushed (and, for a while, the one before it): 61005 expired, 61006 invalid."""
    body = req.body()
    component = platform_named(st, req.need(body.get("component_appid"), 41002, "appid missing"))
    _secret(component, body.get("component_appsecret"))
    component.check_ticket(str(body.get("component_verify_ticket") or ""))
    return {"component_access_token": component.issue_token(), "expires_in": component.origin.token_ttl}


@endpoint("POST", _BASE + "api_create_preauthcode", token=False)
def create_pre_auth_code(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"pre_auth_code": component_of(st, req).new_pre_auth_code(), "expires_in": PRE_AUTH_TTL}


@endpoint("POST", _BASE + "api_query_auth", token=False)
def query_auth(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    component = component_of(st, req)
    grant, token = component.exchange(str(req.body().get("authorization_code") or ""))
    return {"authorization_info": {
        "authorizer_appid": grant.appid,
        "authorizer_access_token": token,
        "expires_in": component.origin.token_ttl,
        "authorizer_refresh_token": grant.refresh_token,
        "func_info": grant.func_info_json(),
    }}


@endpoint("POST", _BASE + "api_authorizer_token", token=False)
def authorizer_token(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    component = component_of(st, req)
    body = req.body()
    grant, token = component.refresh(body.get("authorizer_appid"), body.get("authorizer_refresh_token"))
    return {"authorizer_access_token": token, "expires_in": component.origin.token_ttl,
            "authorizer_refresh_token": grant.refresh_token}


@endpoint("POST", _BASE + "api_get_authorizer_info", token=False)
def authorizer_info(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    component = component_of(st, req)
    grant = component.live(req.body().get("authorizer_appid"))
    account = st.shared.accounts[grant.appid]
    return {
        "authorizer_info": {
            "nick_name": account.name,
            "head_img": f"http://wx.qlogo.cn/mmopen/{account.original_id}/0",
            "service_type_info": {"id": 2},
            "verify_type_info": {"id": 0},
            "user_name": account.original_id,
            "alias": "",
            "qrcode_url": f"http://mmbiz.qpic.cn/mmbiz_jpg/{account.original_id}/0",
            "business_info": {"open_pay": 0, "open_shake": 0, "open_scan": 0, "open_card": 0, "open_store": 0},
            "principal_name": account.name,
            "signature": "",
            "idc": 1,
        },
        "authorization_info": {
            "authorizer_appid": grant.appid,
            "authorizer_refresh_token": grant.refresh_token if grant.exchanged else "",
            "func_info": grant.func_info_json(),
        },
    }


@endpoint("POST", _BASE + "api_get_authorizer_list", token=False)
def authorizer_list(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Live authorizations in the order they were made; a refresh token only for those whose code was exchanged."""
    component = component_of(st, req)
    body = req.body()
    offset, count = body.get("offset", 0), body.get("count")
    if not isinstance(offset, int) or offset < 0 or not isinstance(count, int) or not 1 <= count <= MAX_LIST:
        raise Fault(40097, f"invalid args: offset must be 0 or more, count 1 to {MAX_LIST}")
    grants = [grant for grant in component.authorizations.values() if not grant.revoked]
    return {"total_count": len(grants), "list": [
        {"authorizer_appid": grant.appid, "refresh_token": grant.refresh_token if grant.exchanged else "",
         "auth_time": grant.auth_time}
        for grant in grants[offset : offset + count]
    ]}


def _option(component: Component, appid: Any, body: dict[str, Any], *, write: bool) -> dict[str, Any]:
    """Read or set one authorizer option: 61007 without the permission set it needs."""
    grant = component.live(appid)
    name = body.get("option_name")
    if name not in OPTIONS:
        raise Fault(40097, f"invalid args: option_name must be one of {', '.join(OPTIONS)}")
    values, scope = OPTIONS[name]
    if scope not in grant.func_info:
        raise Fault(61007, "api is unauthorized to component")
    if not write:
        return {"authorizer_appid": grant.appid, "option_name": name, "option_value": grant.options.get(name, "0")}
    value = str(body.get("option_value", ""))
    if value not in values:
        raise Fault(40097, f"invalid args: {name} takes {', '.join(values)}")
    grant.options[name] = value
    return OK


@endpoint("POST", _BASE + "api_get_authorizer_option", token=False)
def get_option(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    return _option(component_of(st, req), body.get("authorizer_appid"), body, write=False)


@endpoint("POST", _BASE + "api_set_authorizer_option", token=False)
def set_option(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    return _option(component_of(st, req), body.get("authorizer_appid"), body, write=True)


def _on_behalf(st: FakeState, req: FakeRequest) -> Component:
    """The component behind an authorizer token (the newer option endpoints take one); 86000 for an account's own
    token."""
    issuer = st.tokens[req.query["access_token"]].issuer
    if issuer is None or issuer not in st.shared.platforms:
        raise Fault(86000, "should be called only from third party")
    return st.shared.platforms[issuer]


@endpoint("POST", _BASE + "get_authorizer_option")
def get_option_v2(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """The newer spelling, called with the authorizer token (the docs disagree on which token; WxJava uses this)."""
    answer = _option(_on_behalf(st, req), st.appid, req.body(), write=False)
    return {**OK, "option_name": answer["option_name"], "option_value": answer["option_value"]}


@endpoint("POST", _BASE + "set_authorizer_option")
def set_option_v2(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _option(_on_behalf(st, req), st.appid, req.body(), write=True)


@endpoint("POST", _BASE + "clear_quota/v2", token=False)
def clear_quota(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """By secret, for the component itself, or with ``appid`` for one of its authorizers (sharing that account's
    ten resets a month)."""
    body = req.body()
    component = platform_named(st, req.need(body.get("component_appid"), 41002, "appid missing"))
    _secret(component, body.get("appsecret"))
    if body.get("appid"):
        return clear_account_quota(st.shared.accounts[component.live(body["appid"]).appid])
    if component.clear_quota_count >= CLEAR_QUOTA_PER_MONTH:
        raise Fault(48006, "forbid to clear quota because of reaching the limit")
    component.clear_quota_count += 1
    return OK


@endpoint("POST", _BASE + "api_start_push_ticket", token=False)
def start_push_ticket(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Pushes a fresh ticket to the platform's ``events_url`` right after answering (nothing while none is set)."""
    body = req.body()
    component = platform_named(st, req.need(body.get("component_appid"), 41002, "appid missing"))
    _secret(component, body.get("component_secret"))
    if component.events_url is not None:
        req.then(functools.partial(deliver, component, component.events_url, component.ticket_event()), wait=False)
    return OK
