"""Fake credentials: access tokens (basic and stable), tickets, and web-page OAuth."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response

from ._fake_component import platform_named
from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

FORCE_REFRESH_PER_DAY = 20
OAUTH_SCOPES = ("snsapi_base", "snsapi_userinfo")
_STATE = re.compile(r"[A-Za-z0-9]{0,128}")


def _grant(value: Any, expected: str) -> None:
    if value != expected:
        raise Fault(40002, "invalid grant_type")


@endpoint("GET", "/cgi-bin/token", token=False)
def basic_token(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    _grant(req.query.get("grant_type"), "client_credential")
    st.check_app(req.query.get("appid"), req.query.get("secret"))
    return {"access_token": st.issue_token("basic"), "expires_in": st.token_ttl}


@endpoint("POST", "/cgi-bin/stable_token", token=False)
def stable_token(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """The same token while it is valid; force_refresh revokes it at once (other holders then get 40001)."""
    body = req.body()
    _grant(body.get("grant_type"), "client_credential")
    st.check_app(body.get("appid"), body.get("secret"))
    current = st.tokens.get(st.stable or "")
    if body.get("force_refresh"):
        if st.force_refreshes >= FORCE_REFRESH_PER_DAY:
            raise Fault(45009, "reach max api daily quota limit")
        st.force_refreshes += 1
        if current is not None:
            current.revoked = True
        current = None
    if current is None or current.revoked or current.expires_at <= st.now():
        st.stable = st.issue_token("stable")
        current = st.tokens[st.stable]
    return {"access_token": st.stable, "expires_in": round(current.expires_at - st.now())}


@endpoint("GET", "/cgi-bin/ticket/getticket")
def ticket(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    kind = req.query.get("type")
    if kind not in ("jsapi", "wx_card"):
        raise Fault(40097, "invalid args")
    value = st.tickets.setdefault(kind, random_id(86))
    return {"errcode": 0, "errmsg": "ok", "ticket": value, "expires_in": st.token_ttl}


def new_oauth_code(st: FakeState, openid: str, scope: str, component: str | None = None) -> str:
    code = random_id(32, "0123456789abcdef")
    st.oauth_codes[code] = (openid, scope, component)
    return code


@endpoint("GET", "/connect/oauth2/authorize", token=False)
def oauth_authorize(st: FakeState, req: FakeRequest) -> Response:
    """The consent page, decided at once for the signed-in user: back to redirect_uri with code and state.

    A user who declines comes back with the state alone, as WeChat does. With ``component_appid`` a platform
    starts the login for one of its authorizers: the redirect carries ``appid`` too, and only that platform can
    exchange the code (``/sns/oauth2/component/access_token``).
    """
    query = req.query
    req.need(query.get("appid"), 10012, "appid can not be empty")
    st.check_app(query.get("appid"), with_secret=False)
    component = query.get("component_appid")
    if component is not None:
        platform_named(st, component).live(st.appid)  # 40013 for an unknown platform, 61003 for others' accounts
    redirect_uri = req.need(query.get("redirect_uri"), 10011, "redirect_uri can not be empty")
    scope = req.need(query.get("scope"), 10010, "scope can not be empty")
    if scope not in OAUTH_SCOPES:
        raise Fault(10005, "this account has no permission for scope " + scope)
    if query.get("response_type") != "code":
        raise Fault(40097, "invalid args: response_type must be code")
    state = query.get("state", "")
    if not _STATE.fullmatch(state):
        raise Fault(40097, "invalid args: state must be at most 128 characters of a-zA-Z0-9")
    if st.shared.browser_user is None:
        return Response(
            "FakeWeChat: no WeChat user in this browser; call fake.sign_in(openid) before the login",
            status_code=403,
        )
    openid, consents = st.shared.browser_user
    answer = {"code": new_oauth_code(st, openid, scope, component), "state": state} if consents else {"state": state}
    if component is not None:
        answer["appid"] = st.appid
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(answer)}", status_code=302)


def _user_token(st: FakeState, openid: str, scope: str, component: str | None) -> dict[str, Any]:
    access, refresh = random_id(96), random_id(96)
    st.user_tokens[access] = (openid, scope)
    st.refresh_tokens[refresh] = (openid, scope, component)
    return {
        "access_token": access,
        "expires_in": st.token_ttl,
        "refresh_token": refresh,
        "openid": openid,
        "scope": scope,
        "is_snapshotuser": 0,
        **(
            {"unionid": st.followers[openid]["unionid"]}
            if st.followers.get(openid, {}).get("unionid")
            else {}
        ),
    }


@endpoint("GET", "/sns/oauth2/access_token", token=False)
def oauth_exchange(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    st.check_app(req.query.get("appid"), req.query.get("secret"))
    _grant(req.query.get("grant_type"), "authorization_code")
    return _user_token(st, *_take_code(st, req.query.get("code", ""), None))


def _take_code(st: FakeState, code: str, component: str | None) -> tuple[str, str, str | None]:
    """A login's code, used once; a code of a login a component started is exchanged only by that component."""
    if code in st.used_codes:
        raise Fault(40163, "code been used")
    if code not in st.oauth_codes or st.oauth_codes[code][2] != component:
        raise Fault(40029, "invalid code")
    st.used_codes.add(code)
    return st.oauth_codes.pop(code)


@endpoint("GET", "/sns/oauth2/refresh_token", token=False)
def oauth_refresh(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    st.check_app(req.query.get("appid"), with_secret=False)
    _grant(req.query.get("grant_type"), "refresh_token")
    return _user_token(st, *_refresh_grant(st, req.query.get("refresh_token", ""), None))


def _refresh_grant(st: FakeState, refresh_token: str, component: str | None) -> tuple[str, str, str | None]:
    grant = st.refresh_tokens.get(refresh_token)
    if grant is None or grant[2] != component:
        raise Fault(40030, "invalid refresh_token")
    return grant


def _component(st: FakeState, req: FakeRequest) -> str:
    """The component exchanging a login it started, by its component token: 48001 for any other token (a common
    mistake is the authorizer's own)."""
    st.check_app(req.query.get("appid"), with_secret=False)
    component = platform_named(st, req.query.get("component_appid"))
    token = req.query.get("component_access_token")
    if token and token not in component.tokens and token in st.shared.owners:
        raise Fault(48001, "api unauthorized: this API takes the component_access_token")
    st.shared.check(component.tokens, token)
    return component.appid


@endpoint("GET", "/sns/oauth2/component/access_token", token=False)
def component_oauth_exchange(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    component = _component(st, req)
    _grant(req.query.get("grant_type"), "authorization_code")
    return _user_token(st, *_take_code(st, req.query.get("code", ""), component))


@endpoint("GET", "/sns/oauth2/component/refresh_token", token=False)
def component_oauth_refresh(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    component = _component(st, req)
    _grant(req.query.get("grant_type"), "refresh_token")
    return _user_token(st, *_refresh_grant(st, req.query.get("refresh_token", ""), component))


def _user_grant(st: FakeState, req: FakeRequest) -> tuple[str, str]:
    grant = st.user_tokens.get(req.query.get("access_token", ""))
    if grant is None:
        raise Fault(40001, "invalid credential, access_token is invalid or not latest")
    if grant[0] != req.query.get("openid"):
        raise Fault(40003, "invalid openid")
    return grant


@endpoint("GET", "/sns/userinfo", token=False)
def oauth_user_info(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    openid, scope = _user_grant(st, req)
    if scope != "snsapi_userinfo":
        raise Fault(48001, "api unauthorized")
    profile = st.followers.get(openid, {})
    return {
        "openid": openid,
        "nickname": profile.get("nickname", "微信用户"),
        "sex": profile.get("sex", 0),
        "province": profile.get("province", ""),
        "city": profile.get("city", ""),
        "country": profile.get("country", ""),
        "language": profile.get("language", "zh_CN"),
        "headimgurl": profile.get("headimgurl", ""),
        "privilege": profile.get("privilege", []),
        **({"unionid": profile["unionid"]} if profile.get("unionid") else {}),
    }


@endpoint("GET", "/sns/auth", token=False)
def oauth_check(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    _user_grant(st, req)
    return {"errcode": 0, "errmsg": "ok"}
