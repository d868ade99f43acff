"""One POST of a push (a delivery, in WeChat's words: a retry is another), answered once.

The delivery owns what is known of this one request: the account it came for, whether it was sealed, the message,
the route chosen for it (resolved once, here), its deadline, and its way back to WeChat: by the request itself, or,
once the deadline passed while its handler runs, by the window's alarm (``late``). It writes the message's line.
"""

from __future__ import annotations

import asyncio
import logging

from .accounts import ServedAccount
from .messages import Message
from .observe import DEFERRED, Observer
from .protocol import SUCCESS, TEXT, XML, Send, respond
from .routing import Found, Router

logger = logging.getLogger("wxhook")

NO_HANDLER = "no handler"


class Delivery:
    """One POST's way back to WeChat, answered once: by the request, or past the deadline by ``late`` while the
    handler carries on."""

    __slots__ = ("answered", "arrived", "deadline", "found", "handler", "loop", "msg", "observer", "sealed", "send",
                 "served")

    def __init__(self, send: Send, loop: asyncio.AbstractEventLoop, served: ServedAccount, observer: Observer) -> None:
        self.send = send
        self.loop = loop
        self.served = served
        self.observer = observer
        self.arrived = loop.time()
        self.sealed = False
        self.answered = False
        self.msg: Message | None = None
        self.found: Found = None
        """The route chosen for ``msg`` and the regex match that chose it (None: no handler takes it)."""
        self.handler = NO_HANDLER
        self.deadline = self.arrived
        """The loop time by which this request must be answered."""

    def route(self, router: Router, msg: Message, deadline: float) -> Found:
        """Choose the handler for ``msg``, once: its name in the log, and its deadline (``deadline`` seconds from
        arrival unless the route sets its own)."""
        self.msg = msg
        found = self.found = router.resolve(msg, self.served.account.appid)
        if found is not None:
            route = found[0]
            self.handler = route.name
            if route.deadline is not None:
                deadline = route.deadline
        self.deadline = self.arrived + deadline
        return found

    @property
    def queued(self) -> bool:
        """Whether the chosen handler runs off the job queue (``queue=True``)."""
        return self.found is not None and self.found[0].queue

    async def reply(self, xml: str | None) -> None:
        """Answer with the reply XML (sealed when the push was), or "success"."""
        if self.answered:
            return
        self.answered = True
        if xml is None:
            await respond(self.send, 200, SUCCESS, TEXT)
        else:
            body = xml.encode()
            await respond(self.send, 200, self.served.inbound.seal(body) if self.sealed else body, XML)

    async def reply_empty(self) -> None:
        """Answer with an empty body: "nothing now", which a sealed push gets unsealed too."""
        self.answered = True
        await respond(self.send, 200, b"", TEXT)

    def log(self, outcome: str) -> None:
        """Count the message's outcome and write its line."""
        msg = self.msg
        if msg is not None:
            self.observer.message(msg.msg_type, msg.raw.get("Event", ""), msg.from_user_name, self.handler, outcome,
                                  self.loop.time() - self.arrived, self.served.label)

    async def late(self, xml: str | None) -> None:
        """The deadline passed: answer now (the interim reply or "success"); a lost connection is no error."""
        self.log(DEFERRED)
        try:
            await self.reply(xml)
        except Exception as exc:
            logger.debug("the deadline answer could not be sent: %s", exc)
