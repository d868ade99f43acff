"""A third-party platform (第三方平台), serving every account that authorized it: ``uvicorn examples.platform_bot:bot``.

Credentials come from WXHOOK_PLATFORM_APPID, _SECRET, _TOKEN and _AES_KEY (the platform's 开发资料); in its admin
enter ``https://your.host/events`` as the authorization-event URL and ``https://your.host/$APPID$`` as the message
URL. Without a configured store the ticket and the refresh tokens go to ``wxhook-platform.db`` (never lose it: set
WXHOOK_STORE to a persistent Redis when there is more than one host). ``GET /authorize?shop=<id>`` shows the
authorization links to a merchant; WeChat's release test (全网发布) is answered with no code here.
"""

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from wxhook import Bot
from wxhook.platform import Authorized, Authorizer, Platform

KNOWN_SHOPS = {"east", "west"}


async def allow(request: Request) -> str | None:
    """Who may authorize: here any known shop id; in a real app the signed-in merchant's tenant."""
    shop = request.query_params.get("shop", "")
    return shop if shop in KNOWN_SHOPS else None


async def authorized(request: Request, authorizer: Authorizer, shop: str) -> Response:
    return PlainTextResponse(f"{authorizer.name or authorizer.appid} is now connected to shop {shop}.")


bot = Bot(platform=Platform(authorize=allow, on_authorized=authorized))


@bot.on_platform("authorized")
def connected(event: Authorized) -> None:
    print(f"account {event.authorizer_appid} authorized the platform")


@bot.on_event("subscribe")
def welcome(event):
    return "Thanks for following! Send anything and we'll answer."


@bot.on_text
async def answer(msg, ctx):
    return f"[{ctx.account.appid}] you said: {msg.content}"
