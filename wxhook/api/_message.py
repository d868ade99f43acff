"""Customer-service messages: free-form sends within 48 hours of a follower's action."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .. import custom_messages as _custom
from ..custom_messages import Article, SendsAsCustomMessage, drop_none
from ._caller import Group


class MessageAPI(Group):
    async def send(
        self, openid: str, msgtype: str, payload: Mapping[str, Any], *, kf_account: str | None = None
    ) -> None:
        """Send any message type: ``payload`` is the object WeChat expects under the ``msgtype`` key.

        Not retried after it may have reached WeChat (a duplicate would reach the follower twice); a
        ``transient`` error on the exception tells a caller's queue whether trying later is worthwhile.
        """
        body: dict[str, Any] = {"touser": openid, "msgtype": msgtype, msgtype: dict(payload)}
        if kf_account is not None:
            body["customservice"] = {"kf_account": kf_account}
        await self._caller.post("/cgi-bin/message/custom/send", body, safe=False)

    async def send_reply(
        self, openid: str, reply: SendsAsCustomMessage, *, kf_account: str | None = None
    ) -> None:
        """Send a reply object (``Text``, ``Image``, ``News`` …) in its customer-service form: the same
        value a handler returns, which is how late replies reach the follower."""
        await self._send_form(openid, reply.custom_message(), kf_account)

    async def _send_form(self, openid: str, form: _custom.CustomForm, kf_account: str | None) -> None:
        await self.send(openid, *form, kf_account=kf_account)

    async def send_text(self, openid: str, content: str, *, kf_account: str | None = None) -> None:
        await self._send_form(openid, _custom.text(content), kf_account)

    async def send_image(self, openid: str, media_id: str, *, kf_account: str | None = None) -> None:
        await self._send_form(openid, _custom.media("image", media_id), kf_account)

    async def send_voice(self, openid: str, media_id: str, *, kf_account: str | None = None) -> None:
        await self._send_form(openid, _custom.media("voice", media_id), kf_account)

    async def send_video(
        self,
        openid: str,
        media_id: str,
        *,
        thumb_media_id: str | None = None,
        title: str | None = None,
        description: str | None = None,
        kf_account: str | None = None,
    ) -> None:
        await self._send_form(openid, _custom.video(media_id, thumb_media_id, title, description), kf_account)

    async def send_music(
        self,
        openid: str,
        musicurl: str,
        hqmusicurl: str,
        thumb_media_id: str,
        *,
        title: str | None = None,
        description: str | None = None,
        kf_account: str | None = None,
    ) -> None:
        await self._send_form(openid, _custom.music(title, description, musicurl, hqmusicurl, thumb_media_id),
                              kf_account)

    async def send_news(
        self, openid: str, articles: Sequence[Article | Mapping[str, str]], *, kf_account: str | None = None
    ) -> None:
        await self._send_form(openid, _custom.news([a if isinstance(a, Article) else dict(a) for a in articles]),
                              kf_account)

    async def send_mpnews(self, openid: str, media_id: str, *, kf_account: str | None = None) -> None:
        await self._send_form(openid, _custom.media("mpnews", media_id), kf_account)

    async def send_miniprogrampage(
        self,
        openid: str,
        appid: str,
        pagepath: str,
        thumb_media_id: str,
        *,
        title: str | None = None,
        kf_account: str | None = None,
    ) -> None:
        payload = drop_none(appid=appid, pagepath=pagepath, thumb_media_id=thumb_media_id, title=title)
        await self.send(openid, "miniprogrampage", payload, kf_account=kf_account)

    async def send_msgmenu(
        self,
        openid: str,
        items: Sequence[tuple[str, str]],
        *,
        head_content: str = "",
        tail_content: str = "",
        kf_account: str | None = None,
    ) -> None:
        """Tappable replies: ``items`` are ``(id, content)`` pairs; a tap comes back as a text message."""
        payload = {
            "head_content": head_content,
            "list": [{"id": item_id, "content": content} for item_id, content in items],
            "tail_content": tail_content,
        }
        await self.send(openid, "msgmenu", payload, kf_account=kf_account)

    async def typing(self, openid: str, on: bool = True) -> None:
        """Show (or clear) "typing…" for 15 s; needs a follower action within the last 30 s."""
        body = {"touser": openid, "command": "Typing" if on else "CancelTyping"}
        await self._caller.post("/cgi-bin/message/custom/typing", body)
