"""Parametric QR codes: temporary or permanent, with an integer or string scene."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

from ._caller import Group, build
from ._data import WeChatData

__all__ = ["QRAction", "QRActionName", "QRCode"]

QRAction = Literal["QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"]


class QRActionName:
    """``action_name`` of a parametric QR code (带参数二维码): temporary or permanent, numeric or string scene."""

    SCENE: Final = "QR_SCENE"
    STR_SCENE: Final = "QR_STR_SCENE"
    LIMIT_SCENE: Final = "QR_LIMIT_SCENE"
    LIMIT_STR_SCENE: Final = "QR_LIMIT_STR_SCENE"


MAX_EXPIRE_SECONDS = 2_592_000  # 30 days
MAX_PERMANENT_SCENE_ID = 100_000
MAX_SCENE_STR = 64


@dataclass(frozen=True)
class QRCode(WeChatData):
    ticket: str
    expire_seconds: int | None = None
    url: str = ""


def _scene_body(scene: int | str, permanent: bool) -> tuple[str, dict[str, Any]]:
    """The action name and scene object, checked against the documented ranges before WeChat sees them."""
    if isinstance(scene, bool) or not isinstance(scene, (int, str)):
        raise TypeError(f"scene must be an int or a str, not {type(scene).__name__}")
    if isinstance(scene, str):
        if not 1 <= len(scene) <= MAX_SCENE_STR:
            raise ValueError(f"a string scene must be 1..{MAX_SCENE_STR} characters, got {len(scene)}")
        return ("QR_LIMIT_STR_SCENE" if permanent else "QR_STR_SCENE"), {"scene_str": scene}
    if permanent and not 1 <= scene <= MAX_PERMANENT_SCENE_ID:
        raise ValueError(
            f"a permanent integer scene must be 1..{MAX_PERMANENT_SCENE_ID}, got {scene}; "
            "use a string scene for more values"
        )
    if not permanent and not 1 <= scene < 2**32:
        raise ValueError(
            f"a temporary integer scene must be a non-zero 32-bit value (1..{2**32 - 1}), got {scene}"
        )
    return ("QR_LIMIT_SCENE" if permanent else "QR_SCENE"), {"scene_id": scene}


class QRCodeAPI(Group):
    async def create(
        self, scene: int | str, *, expire_seconds: int | None = None, permanent: bool = False
    ) -> QRCode:
        """A temporary code (``expire_seconds`` up to 30 days, WeChat defaults to 60 s) or a permanent one."""
        action_name, scene_body = _scene_body(scene, permanent)
        body: dict[str, Any] = {"action_name": action_name, "action_info": {"scene": scene_body}}
        if expire_seconds is not None:
            if permanent:
                raise ValueError(
                    "permanent QR codes never expire; drop expire_seconds= or pass permanent=False"
                )
            if not 1 <= expire_seconds <= MAX_EXPIRE_SECONDS:
                raise ValueError(
                    f"expire_seconds must be 1..{MAX_EXPIRE_SECONDS} (30 days), got {expire_seconds}"
                )
            body["expire_seconds"] = expire_seconds
        return build(QRCode, await self._caller.post("/cgi-bin/qrcode/create", body))

    def url(self, ticket: str) -> str:
        """Where the QR image is served (the mp host, not the API host); no token needed."""
        return f"{self._caller.transport.mp_base}/cgi-bin/showqrcode?ticket={quote(ticket, safe='')}"

    async def image(self, ticket: str) -> bytes:
        answer = await self._caller.call(
            "GET",
            "/cgi-bin/showqrcode",
            params={"ticket": ticket},
            with_token=False,
            base=self._caller.transport.mp_base,
        )
        return answer.content
