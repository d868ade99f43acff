"""A website beside the bot: WeChat web login (网页授权) and a page that uses the JS-SDK.

    WXHOOK_TOKEN=... WXHOOK_APPID=... WXHOOK_SECRET=... uvicorn examples.weblogin:app

The bot answers WeChat at ``/wechat/`` (the server URL to configure, trailing slash included). ``/me``
shows who is logged in and sends strangers through ``/auth/login`` (WeChat's consent page, then
``/auth/callback``); ``/share`` configures the JS-SDK for itself. The site's domain must be the account's
网页授权域名 and JS接口安全域名. To try it against ``FakeWeChat``, point WXHOOK_API_BASE and WXHOOK_OPEN_BASE
at ``fake.url`` and call ``fake.sign_in(openid)``.
"""

from __future__ import annotations

import html
import json
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from wxhook import Bot, TextMessage, WebLogin
from wxhook.api import OAuthUserInfo

SESSION_COOKIE = "site_session"
SESSION_TTL = 7 * 24 * 3600

bot = Bot()


@bot.on_text
def point_to_the_site(msg: TextMessage) -> str:
    return "Open the menu's 'My account' to log in on our website."


async def on_login(request: Request, user: OAuthUserInfo) -> Response:
    """Remember the visitor in the bot's store (shared by every worker), then go where they were headed."""
    session_id = secrets.token_urlsafe(24)
    profile = {"openid": user.openid, "nickname": user.nickname, "headimgurl": user.headimgurl}
    await bot.store.set(f"site:session:{session_id}", json.dumps(profile), ttl=SESSION_TTL)
    response = RedirectResponse(request.state.next, status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, session_id, max_age=SESSION_TTL, httponly=True, secure=secure)
    return response


login = WebLogin(bot.api, on_login)


async def visitor(request: Request) -> dict[str, Any] | None:
    session_id = request.cookies.get(SESSION_COOKIE)
    stored = await bot.store.get(f"site:session:{session_id}") if session_id else None
    return json.loads(stored) if stored else None


async def me(request: Request) -> Response:
    profile = await visitor(request)
    if profile is None:
        return RedirectResponse("/auth/login?next=/me", status_code=303)
    avatar = html.escape(profile["headimgurl"])
    return HTMLResponse(
        f"<!doctype html><meta charset=utf-8><title>My account</title>"
        f"<h1>Hello, {html.escape(profile['nickname'])}</h1><img src=\"{avatar}\" alt=\"\" width=64>"
    )


async def share(request: Request) -> Response:
    """The page signs its own address: the one the browser shows, which is what WeChat checks."""
    config = await bot.api.ticket.jssdk_config(
        str(request.url), ["updateAppMessageShareData", "updateTimelineShareData"]
    )
    script_safe = json.dumps(config).replace("<", "\\u003c")
    return HTMLResponse(
        "<!doctype html><meta charset=utf-8><title>Share</title><h1>Share this page</h1>"
        '<script src="https://res.wx.qq.com/open/js/jweixin-1.6.0.js"></script>'
        f'<script id="wx-config" type="application/json">{script_safe}</script>'
        "<script>"
        "wx.config(JSON.parse(document.getElementById('wx-config').textContent));"
        "wx.ready(function () {"
        "  var card = {title: document.title, link: location.href.split('#')[0], imgUrl: ''};"
        "  wx.updateAppMessageShareData(card); wx.updateTimelineShareData(card);"
        "});"
        "</script>"
    )


app = Starlette(
    routes=[Mount("/wechat", bot), Mount("/auth", login), Route("/me", me), Route("/share", share)],
    lifespan=bot.lifespan,
)
