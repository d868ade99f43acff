"""The console page in headless Chromium: type → the reply appears; a menu button → its reply; a slow handler's
reply arrives live after the deadline; safe mode shows the sealed wire; a hostile reply stays text. The composer
sends every type of its table, a safe-mode bot is offered no plaintext, compatibility mode sends both ways, a reply
close to the deadline is flagged, an error injected from the API panel fails a late reply (in the panel and in the
chat), and the page switches to Chinese, keeping its chats across a reload; screenshots (Chinese text rendered in a
CJK font) are saved in the test's tmp dir. For a bot serving many accounts and a platform: the account picker,
an authorization and a revocation. Then what another site's page can do to the console: nothing, whether
it posts across origins or rebinds its own name to 127.0.0.1; and an SVG's script does not run on the console's
origin.

Needs Debian's ``chromium`` and the ``playwright`` package (driving that binary; no browser download). Skipped
without them, unless WXHOOK_REQUIRE_BROWSER=1 (CI), which makes their absence a failure.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from wxhook.dev import create_console
from wxhook.dev._console import STATIC
from wxhook.dev._kinds import KINDS
from wxhook.messages import _EVENT_TYPES, _MESSAGE_TYPES
from wxhook.testing import serve

from .console_bot import COMPONENT, MENU, PLAIN, SAFE, SVG, accounts_bot, make_bot, naming_bot, recording_bot

ATTACKER = "attacker.test"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    f"--host-resolver-rules=MAP {ATTACKER} 127.0.0.1",  # a hostile name that resolves to loopback, as rebinding has it
]
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
CJK_FONTS = re.compile(r"CJK|Source Han|WenQuanYi|Droid Sans Fallback|AR PL|Noto Sans SC", re.IGNORECASE)


def unavailable(reason: str) -> None:
    if os.environ.get("WXHOOK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}, and WXHOOK_REQUIRE_BROWSER=1 requires the browser test")
    pytest.skip(f"{reason}: the console's browser test is skipped")


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        unavailable("no chromium on PATH (Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1260, "height": 980},
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def test_chatting_in_the_console(page: Any, tmp_path: Path) -> None:
    menu_file = tmp_path / "menu.json"
    menu_file.write_text(json.dumps(MENU), encoding="utf-8")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with serve(create_console(make_bot(), menu_file)) as url:
        try:
            page.goto(url)
            page.wait_for_selector("body[data-ready][data-live]")
            chat = page.locator(".chat[data-openid='o_alice']")
            replies = chat.locator("[data-kind=reply]")

            page.fill("#text", "hello from the browser")
            page.press("#text", "Enter")
            replies.nth(0).wait_for()
            assert replies.nth(0).get_attribute("data-source") == "passive"
            assert replies.nth(0).locator(".bubble").inner_text() == "hello from the browser"

            page.get_by_role("button", name="Ping").click()
            replies.nth(1).wait_for()
            assert replies.nth(1).locator(".bubble").inner_text() == "clicked PING"
            page.get_by_role("button", name="More").click()
            page.get_by_role("button", name="Hours").click()
            replies.nth(2).wait_for()
            assert replies.nth(2).locator(".bubble").inner_text() == "clicked HOURS"

            page.fill("#text", "slow")
            page.press("#text", "Enter")
            chat.locator("[data-kind=empty]").wait_for()
            deferred = chat.locator("[data-source=deferred]")
            deferred.wait_for(timeout=10_000)
            assert deferred.locator(".bubble").inner_text() == "done thinking"
            assert "via customer-service API" in deferred.inner_text()

            page.fill("#text", XSS)
            page.press("#text", "Enter")
            replies.nth(4).wait_for()
            assert replies.nth(4).locator(".bubble").inner_text() == XSS
            assert page.evaluate("window.__pwned") is None

            page.fill("#text", "news")
            page.press("#text", "Enter")
            news = replies.nth(5)
            news.wait_for()
            assert "Cover story" in news.inner_text()
            assert news.locator("a").get_attribute("href") == "https://example.com/a"
            assert news.locator("img").count() == 0  # its javascript: picture URL is dropped

            page.locator("label:has-text('Safe mode')").click()
            page.fill("#text", "sealed")
            page.press("#text", "Enter")
            sealed = replies.nth(6)
            sealed.wait_for()
            sealed.locator("summary").click()
            raw = sealed.locator("details.raw").inner_text()
            assert "reply on the wire (sealed)" in raw and "<Encrypt>" in raw and "<![CDATA[sealed]]>" in raw

            page.select_option("#openid", "o_bob")
            assert page.locator(".chat[data-openid='o_bob'] [data-kind=reply]").count() == 0
            page.select_option("#openid", "o_alice")

            page.screenshot(path=str(tmp_path / "console.png"))
        finally:
            page.close()  # ends the page's event stream, so the server can stop
    assert (tmp_path / "console.png").stat().st_size > 10_000
    assert errors == []


def say(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def fonts_of(page: Any, selector: str) -> list[str]:
    """The fonts Chromium drew the element's text with (those holding glyphs for it)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return [font["familyName"] for font in fonts if font["glyphCount"] > 0]


def test_the_composer_the_api_panel_and_chinese(page: Any, tmp_path: Path) -> None:
    """A bot in safe mode naming the type of whatever it gets: every type of the composer's table arrives as its
    class; an error injected from the page fails the late reply; the page in Chinese, kept across a reload."""
    listed = shutil.which("fc-list")
    fonts = subprocess.run([listed, ":lang=zh", "family"], capture_output=True, text=True).stdout if listed else ""
    if not CJK_FONTS.search(fonts):
        unavailable("no CJK font for Chromium to draw Chinese with (Debian: apt-get install fonts-noto-cjk)")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with serve(create_console(naming_bot())) as url:
        try:
            page.goto(url)
            page.wait_for_selector("body[data-ready][data-live]")
            assert page.is_disabled("#mode-plain") and page.is_checked("#mode-safe")
            assert "refuses plaintext" in page.inner_text("#mode-hint")
            chat = page.locator(".chat[data-openid='o_alice']")
            passive = chat.locator("[data-source=passive]")

            names = page.eval_on_selector_all("#kind option", "options => options.map(option => option.value)")
            assert names == list(KINDS)
            for index, name in enumerate(names):
                page.select_option("#kind", name)
                page.click("#compose-send")
                passive.nth(index).wait_for()
            sent = chat.locator("[data-kind=sent]")
            assert [sent.nth(i).get_attribute("data-type") for i in range(len(names))] == [
                kind.event or kind.msg_type for kind in KINDS.values()]
            assert passive.locator(".bubble").all_inner_texts() == [
                (_EVENT_TYPES[kind.event] if kind.event else _MESSAGE_TYPES[kind.msg_type]).__name__
                for kind in KINDS.values()]
            assert "Menu: click · CLICK · V1001_TODAY_MUSIC" in chat.inner_text()

            page.locator("label:has-text('Compatible')").click()
            say(page, "almost")
            close = passive.nth(len(names))
            close.wait_for()
            assert close.get_attribute("data-close") == "true" and "1 s deadline" in close.inner_text()
            sent.nth(len(names)).locator("summary").click()
            wire = sent.nth(len(names)).locator("details.raw").inner_text()
            assert "request on the wire (clear and sealed)" in wire
            assert "<Content><![CDATA[almost]]></Content>" in wire and "<Encrypt>" in wire

            page.select_option("#fault-errcode", "45015")
            page.check("#fault-openid")
            page.get_by_role("button", name="Fail the next call(s)").click()
            page.wait_for_selector("#armed li")
            assert "/cgi-bin/message/custom/send answers 45015, 1 time(s)" in page.inner_text("#armed")
            say(page, "late")
            page.wait_for_selector("#typing:not([hidden])")
            late = chat.locator("[data-source=deferred]")
            late.wait_for(timeout=10_000)
            assert late.get_attribute("data-failed") == "true"
            assert late.locator(".bubble").inner_text() == "sorry I'm late"
            assert "late reply not delivered: 45015 response out of time limit" in late.inner_text()
            assert page.is_hidden("#typing"), "the late reply clears typing…"
            failed = page.locator("#calls li[data-path='/cgi-bin/message/custom/send'][data-errcode='45015']")
            failed.locator("summary").click()
            assert "45015" in failed.inner_text() and "sorry I'm late" in failed.inner_text()
            token = page.locator("#calls li[data-path='/cgi-bin/stable_token']")
            token.locator("summary").click()
            assert '"secret": "***"' in token.inner_text() and '"access_token": "***"' in token.inner_text()
            page.screenshot(path=str(tmp_path / "console-en.png"), full_page=True)

            page.click("#lang-zh")
            assert page.inner_text("#send") == "发送" and page.evaluate("document.documentElement.lang") == "zh-CN"
            assert "通过客服消息接口" in late.inner_text() and "超时回复未送达" in late.inner_text()
            page.reload()
            page.wait_for_selector("body[data-ready][data-live]")
            assert page.inner_text("#send") == "发送", "the language chosen is remembered"
            kept = int(re.search(r"const KEPT_ENTRIES = (\d+);", (STATIC / "console.js").read_text())[1])
            assert chat.locator(":scope > *").count() == kept, "the chat's latest entries are kept across the reload"
            assert chat.locator("[data-failed=true]").count() == 1
            assert passive.last.locator(".bubble").inner_text() == "just in time"
            shown = chat.inner_text()
            assert "订阅通知弹窗操作 · subscribe_msg_popup_event" in shown and "接近 1 秒的期限" in shown
            assert page.locator("#calls li[data-errcode='45015']").count() == 1
            page.screenshot(path=str(tmp_path / "console-zh.png"), full_page=True)
            drawn = fonts_of(page, "#send")
            page.click("#lang-en")
            assert page.inner_text("#send") == "Send"

            page.evaluate("localStorage.removeItem('wxhook-dev:language')")
            user_agent = page.evaluate("navigator.userAgent")
            page.context.new_cdp_session(page).send("Emulation.setUserAgentOverride",
                                                    {"userAgent": user_agent, "acceptLanguage": "zh-CN,zh"})
            page.reload()
            page.wait_for_selector("body[data-ready]")
            assert page.inner_text("#send") == "发送", "a browser in Chinese gets the page in Chinese"
        finally:
            page.close()
    assert any(CJK_FONTS.search(font) for font in drawn), f"Chinese drawn without a CJK font: {drawn}"
    assert (tmp_path / "console-zh.png").stat().st_size > 30_000
    assert errors == []


def test_picking_authorizing_and_revoking_accounts(page: Any, tmp_path: Path) -> None:
    """A bot serving two accounts and a platform: each account has its own chats and mode; an account authorized
    from the page is picked, chats sealed and gets its late reply; revoked, it can no longer be picked."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with serve(create_console(accounts_bot([SAFE, PLAIN], COMPONENT))) as url:
        try:
            page.goto(url)
            page.wait_for_selector("body[data-ready][data-live]")
            assert page.locator("#account option").all_inner_texts() == ["Safe shop", "Plain shop"]
            assert page.is_checked("#mode-safe")
            safe = page.locator(f".chat[data-account='{SAFE.appid}'][data-openid='o_alice']")
            say(page, "hello safe")
            safe.locator("[data-kind=reply] .bubble").wait_for()
            assert safe.locator("[data-kind=reply] .bubble").inner_text() == "Safe shop (configured): hello safe"

            page.select_option("#account", PLAIN.appid)
            assert page.locator("#title").inner_text() == "Plain shop" and page.is_disabled("#mode-safe")
            plain = page.locator(f".chat[data-account='{PLAIN.appid}'][data-openid='o_alice']")
            say(page, "hello plain")
            plain.locator("[data-kind=reply] .bubble").wait_for()
            assert plain.locator("[data-kind=reply] .bubble").inner_text() == "Plain shop (configured): hello plain"
            assert safe.is_hidden() and safe.locator("[data-kind=reply]").count() == 1

            page.fill("#authorize-name", "Corner shop")
            page.get_by_role("button", name="Authorize a new account").click()
            page.wait_for_function("document.querySelector('#account').selectedOptions[0]?.textContent"
                                   " === 'Corner shop · authorizer'")
            appid = page.input_value("#account")
            assert page.is_checked("#mode-safe") and page.is_disabled("#mode-plain")
            corner = page.locator(f".chat[data-account='{appid}'][data-openid='o_alice']")
            say(page, "hi")
            corner.locator("[data-kind=reply] .bubble").wait_for()
            assert corner.locator("[data-kind=reply] .bubble").inner_text() == f"{appid} (authorizer): hi"
            say(page, "slow")
            late = corner.locator("[data-source=deferred]")
            late.wait_for(timeout=10_000)
            assert late.locator(".bubble").inner_text() == f"late for {appid}"
            page.screenshot(path=str(tmp_path / "accounts.png"))

            page.get_by_role("button", name="Revoke its authorization").click()
            revoked = page.locator(f"#account option[value='{appid}']")
            page.wait_for_function(f"document.querySelector(\"#account option[value='{appid}']\").disabled")
            assert revoked.inner_text() == "Corner shop · authorizer (revoked)"
            assert page.input_value("#account") == SAFE.appid and safe.is_visible()
        finally:
            page.close()
    assert errors == []


ACTION = {"openid": "o_mallory", "mode": "plain", "kind": "text"}
ATTACKS = """
async ([target, fields]) => {
  const action = (text) => JSON.stringify({...fields, text});
  const outcomes = {};
  const attempt = async (name, request) => {
    try { outcomes[name] = (await request()).status; } catch (error) { outcomes[name] = "failed"; }
  };
  await attempt("text/plain", () => fetch(target, {method: "POST", mode: "no-cors",
                                                    headers: {"content-type": "text/plain"}, body: action("plain")}));
  await attempt("json", () => fetch(target, {method: "POST", headers: {"content-type": "application/json"},
                                             body: action("json")}));
  const frame = document.createElement("iframe");
  frame.name = "sink";
  document.body.append(frame);
  const form = document.createElement("form");
  Object.assign(form, {method: "POST", action: target, enctype: "text/plain", target: "sink"});
  const field = document.createElement("input");
  field.name = action("form").slice(0, -1) + ', "pad": "';
  field.value = '"}';
  form.append(field);
  document.body.append(form);
  await new Promise((done) => { frame.onload = done; form.submit(); });
  outcomes.form = "submitted";
  return outcomes;
}
"""


def attacker_site() -> Starlette:
    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>a page the developer happens to visit</title><body>")

    return Starlette(routes=[Route("/", page)])


def test_a_page_on_another_site_cannot_drive_the_console(page: Any) -> None:
    """Cross-origin: a text/plain fetch (no preflight), a JSON fetch and a text/plain form, all from another site."""
    runs: list[str] = []
    with serve(create_console(recording_bot(runs))) as console, serve(attacker_site()) as elsewhere:
        try:
            page.goto(f"http://{ATTACKER}:{urlsplit(elsewhere).port}/")
            outcomes = page.evaluate(ATTACKS, [console + "api/send", ACTION])
        finally:
            page.close()
    assert outcomes == {"text/plain": 0, "json": "failed", "form": "submitted"}  # opaque; CORS-refused; sent
    assert runs == []


def test_a_rebound_name_cannot_drive_the_console(page: Any) -> None:
    """DNS rebinding: the attacker's page was served for attacker.test:PORT (here: by the attacker's own server,
    at the console's port), then the name resolves to 127.0.0.1, so the page's same-origin requests reach the
    console, under the attacker's name."""
    runs: list[str] = []
    with serve(create_console(recording_bot(runs))) as console, serve(attacker_site()) as elsewhere:
        rebound = f"http://{ATTACKER}:{urlsplit(console).port}/"
        try:
            page.route(rebound, lambda route: route.continue_(url=elsewhere))
            page.goto(rebound)
            page.unroute(rebound)
            outcomes = page.evaluate(ATTACKS, [rebound + "api/send", ACTION])
            info = page.evaluate("async () => { const r = await fetch('/api/info'); "
                                 "return [r.status, await r.text()]; }")
        finally:
            page.close()
    assert outcomes == {"text/plain": 403, "json": 403, "form": "submitted"}  # same-origin now: each read back
    assert info[0] == 403 and "--allow-host" in info[1] and "appid" not in info[1]
    assert runs == []


def test_a_script_in_an_svg_does_not_run(page: Any) -> None:
    """Uploaded as a follower's picture it is refused; put in the fake (as the bot can, through the API) it is
    served as bytes, in a sandbox: framed by the console's own page, its script never reaches it."""
    app = create_console(make_bot())
    with serve(app) as url:
        try:
            page.goto(url)
            page.wait_for_selector("body[data-ready]")
            upload = page.evaluate("""async (data) => {
                const body = JSON.stringify({openid: "o_a", mode: "plain", kind: "image", data,
                                             content_type: "image/svg+xml"});
                const headers = {"content-type": "application/json"};
                const r = await fetch("/api/send", {method: "POST", headers, body});
                return [r.status, (await r.json()).error || ""];
            }""", base64.b64encode(SVG).decode())
            media_id = app.state.console.fake.add_media("image", SVG, "image/svg+xml")
            page.evaluate("""(src) => new Promise((done) => {
                const frame = Object.assign(document.createElement("iframe"), {src, onload: done});
                document.body.append(frame);
                setTimeout(done, 2000);  // a download fires no load event
            })""", f"/media/{media_id}")
            pwned = page.evaluate("window.__pwned")
        finally:
            page.close()
    assert pwned is None
    assert upload[0] == 400 and "image/svg+xml" in upload[1]
