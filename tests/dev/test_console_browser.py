"""The console page in headless Chromium: type → the reply appears; a menu button → its reply; a slow handler's
reply arrives live after the deadline; safe mode shows the sealed wire; a hostile reply stays text. A screenshot
of the page is saved in the test's tmp dir.

Needs Debian's ``chromium`` and the ``playwright`` package (driving that binary; no browser download). Skipped
without them, unless WXHOOK_REQUIRE_BROWSER=1 (CI), which makes their absence a failure.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wxhook.dev import create_console
from wxhook.testing import serve

from .console_bot import MENU, make_bot

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


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
            viewport={"width": 1100, "height": 860},
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
