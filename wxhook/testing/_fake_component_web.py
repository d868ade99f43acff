"""Fake authorization pages of the open platform (mp host): the PC page ``/cgi-bin/componentloginpage`` and the
mobile ``/safe/bindcomponent``, decided at once for the merchant ``platform.sign_in_merchant`` signed in.

The page answers with an authorization: the ``authorized`` (or, for a live authorization, ``updateauthorized``)
push to the platform's events URL, and a 302 to ``redirect_uri`` with ``auth_code`` and ``expires_in``. With
``platform.push_delay`` None (the default) the push is made, and answered, before the redirect goes out; with a
number of seconds the redirect goes out at once and the push that long after it, as WeChat's two may arrive in
either order.
"""

from __future__ import annotations

import functools
from html import escape
from urllib.parse import urlencode, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from ._fake_component import CODE_TTL
from ._fake_push import deliver
from ._fake_state import FakeRequest, FakeState, endpoint

_AUTH_TYPES = ("1", "2", "3")


def _refuse(reason: str) -> Response:
    return HTMLResponse(f"<html><body><p>FakeWeChat: {escape(reason)}</p></body></html>", status_code=403)


def _authorize(st: FakeState, req: FakeRequest) -> Response:
    query = req.query
    referer = req.call.headers.get("referer")
    if not referer:
        return _refuse("the request has no Referer: WeChat refuses an authorization page opened by typing its URL; "
                       "open it through a link on a page of the platform's authorization domain")
    component = st.shared.platforms.get(query.get("component_appid", ""))
    if component is None:
        return _refuse("component_appid names no platform of this FakeWeChat (fake.platform(...))")
    redirect_uri = query.get("redirect_uri", "")
    if urlsplit(redirect_uri).hostname != urlsplit(referer).hostname:
        return _refuse(f"redirect_uri {redirect_uri!r} must be on the domain of the page that links here "
                       f"({referer!r})")
    auth_type, biz_appid = query.get("auth_type") or "3", query.get("biz_appid")
    if auth_type not in _AUTH_TYPES:
        return _refuse("auth_type is 1 (official accounts), 2 (mini programs) or 3 (both)")
    merchant = component.merchant
    if merchant is None:
        return _refuse("no merchant is signed in: call platform.sign_in_merchant(appid) first")
    if auth_type == "2" or (biz_appid and biz_appid != merchant.appid):
        return _refuse(f"the signed-in account {merchant.appid} may not authorize here (auth_type={auth_type}, "
                       f"biz_appid={biz_appid})")
    pre_auth_code = query.get("pre_auth_code", "")
    problem = component.take_pre_auth_code(pre_auth_code)
    if problem is not None:
        return _refuse(problem)
    info_type, code = component.grant(merchant, renew=False)
    fields = component.authorization_event(info_type, code, pre_auth_code)
    delay = component.push_delay
    req.then(functools.partial(deliver, component, component.events_url, fields, delay or 0.0), wait=delay is None)
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode({'auth_code': code, 'expires_in': CODE_TTL})}",
                            status_code=302)


@endpoint("GET", "/cgi-bin/componentloginpage", token=False)
def login_page(st: FakeState, req: FakeRequest) -> Response:
    return _authorize(st, req)


@endpoint("GET", "/safe/bindcomponent", token=False)
def mobile_page(st: FakeState, req: FakeRequest) -> Response:
    if req.query.get("action") != "bindcomponent":
        return _refuse("the mobile authorization link carries action=bindcomponent")
    return _authorize(st, req)
