"""The ceiling: a bare Starlette route that answers every request with one constant reply, reading nothing."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

REPLY = b"<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[constant]]></Content></xml>"


async def constant(request: Request) -> Response:
    return Response(REPLY, media_type="application/xml")


app = Starlette(routes=[Route("/", constant, methods=["GET", "POST"])])
