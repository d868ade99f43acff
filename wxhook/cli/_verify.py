"""``wxhook verify URL``: the GET handshake the admin console does when the server URL is saved.

The console only says "token验证失败" (token verification failed) whatever went wrong; this names the cause:
a token mismatch, a wrong path or a redirect, an unreachable server, an HTML page, or an answer slower than
WeChat waits. It also checks that a forged signature is refused (its requests say they are verify's, so a wxhook bot
logs that refusal as the check it is).
"""

from __future__ import annotations

import argparse
import secrets
import time
from urllib.parse import urlsplit

import httpx

from .. import __version__
from ..protocol import VERIFY_AGENT, sign_query
from ._common import CommandError, Parser, bot_options, require, summary

_WECHAT_WAIT = 5.0  # seconds WeChat waits for the echostr


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    verify = commands.add_parser("verify", help="check a URL the way WeChat does when it is saved",
                                 description=summary(__doc__))
    verify.add_argument("url", metavar="URL", help="the URL to save in the admin console")
    verify.add_argument("--max-seconds", type=float, default=_WECHAT_WAIT, metavar="SECONDS",
                        help=f"the longest answer time accepted (default: {_WECHAT_WAIT:g}, WeChat's wait)")
    verify.add_argument("--handshake-only", action="store_true",
                        help="skip the forged-signature probe (a wxhook bot logs its refusal at INFO, as "
                             "verify's)")
    bot_options(verify, owner=False)
    verify.set_defaults(handler=run)


def _handshake(http: httpx.Client, url: str, token: str, echostr: str) -> tuple[httpx.Response, float]:
    query = {**sign_query(token), "echostr": echostr}
    started = time.perf_counter()
    return http.get(url, params=query), time.perf_counter() - started


def _unreachable(url: str, exc: httpx.HTTPError, limit: float) -> str:
    host = urlsplit(url).netloc
    if isinstance(exc, httpx.TimeoutException):
        return (f"no answer from {url} within {limit:g} s ({type(exc).__name__}); WeChat gives up after "
                f"{_WECHAT_WAIT:g} s: make the handshake answer at once (a slow proxy, a cold start, a blocked "
                "event loop?)")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"{url} is not an http:// or https:// URL"
    reason = str(exc) or type(exc).__name__
    return (f"cannot reach {host}: {reason}; is the server running, the port open and the host name right "
            "(WeChat reaches it from the internet, so localhost only works for this check)?")


def _diagnose(response: httpx.Response, echostr: str) -> str | None:
    """What is wrong with the answer to a valid handshake, or None when WeChat would accept it."""
    status = response.status_code
    body = response.text.strip()
    first = body.splitlines()[0][:200] if body else "(empty body)"
    path = response.request.url.path
    if response.is_redirect:
        return (f"HTTP {status} redirect to {response.headers.get('location', '?')}: WeChat does not follow "
                "redirects; save the final URL (often the same path with a trailing slash, or https://)")
    if status == 403:
        return (f"HTTP 403, the signature was refused: the token differs; --token / WXHOOK_TOKEN, the bot's "
                f"WXHOOK_TOKEN and the Token in the admin console must be the same string (the server said: {first})")
    if status == 404:
        return (f"HTTP 404 at {path}: nothing is served at this path; check it (and its trailing slash) against "
                "where the bot is mounted")
    if status == 405:
        return f"HTTP 405 at {path}: this URL does not take GET, which WeChat's handshake is; is it the bot?"
    if status != 200:
        return f"HTTP {status}: {first}"
    if response.text == echostr:  # WeChat reads the body alone: text/html (WeRoBot, Flask) passes too
        return None
    if "html" in response.headers.get("content-type", "") or body[:1] == "<":
        return (f"answered an HTML page ({response.headers.get('content-type', 'no content-type')}), not the "
                "echostr: something other than the bot serves this URL (a default site, a login wall, a "
                "proxy's page)")
    return f"answered 200 but not the echostr: expected {echostr!r} verbatim as the body, got {first!r}"


def run(args: argparse.Namespace) -> int:
    token = require(args.token, "WXHOOK_TOKEN", "--token", "token (the Token to save in the admin console)")
    echostr = secrets.token_hex(8)
    limit = args.max_seconds
    agent = f"{VERIFY_AGENT.decode()}/{__version__}"  # the bot logs its refusal of the forged probe as this check
    with httpx.Client(timeout=limit, headers={"user-agent": agent}) as http:
        try:
            response, seconds = _handshake(http, args.url, token, echostr)
            problem = _diagnose(response, echostr)
            if problem is None and seconds > limit:
                problem = f"answered correctly but in {seconds:.2f} s; WeChat waits {limit:g} s at most"
            if problem is None and not args.handshake_only:
                forged, _ = _handshake(http, args.url, token + "-forged", echostr)
                if forged.status_code == 200 and forged.text == echostr:
                    problem = ("the echostr is returned for a forged signature too: the server does not check "
                               "the signature, so anyone could pose as WeChat")
        except httpx.HTTPError as exc:
            problem = _unreachable(args.url, exc, limit)
    if problem is not None:
        raise CommandError(problem)
    port = urlsplit(args.url).port
    checked = "the token matches" if args.handshake_only else "the token matches and a forged signature is refused"
    print(f"OK: {args.url} answered the handshake in {seconds * 1000:.0f} ms; {checked}")
    if port not in (None, 80, 443):
        print(f"note: the admin console only takes URLs on port 80 (http) or 443 (https), not {port}; put a "
              "reverse proxy in front for the real account")
    return 0
