from __future__ import annotations

import pytest

from wxhook.api import Client
from wxhook.testing import FakeWeChat

from .conftest import sent

CREATE = "/cgi-bin/qrcode/create"


@pytest.mark.parametrize(
    ("scene", "options", "body"),
    [
        ("promo-42", {"expire_seconds": 3600}, {"action_name": "QR_STR_SCENE", "expire_seconds": 3600}),
        (7, {"expire_seconds": 60}, {"action_name": "QR_SCENE", "expire_seconds": 60}),
        (100_000, {"permanent": True}, {"action_name": "QR_LIMIT_SCENE"}),
        ("x" * 64, {"permanent": True}, {"action_name": "QR_LIMIT_STR_SCENE"}),
    ],
)
async def test_create_kinds(
    fake: FakeWeChat, client: Client, scene: int | str, options: dict[str, object], body: dict[str, object]
) -> None:
    qr = await client.qrcode.create(scene, **options)  # type: ignore[arg-type]
    key = "scene_str" if isinstance(scene, str) else "scene_id"
    assert sent(fake, CREATE) == {**body, "action_info": {"scene": {key: scene}}}
    assert qr.ticket and qr.url.startswith("http://weixin.qq.com/q/")
    assert qr.expire_seconds == options.get("expire_seconds")


@pytest.mark.parametrize(
    ("scene", "options", "message"),
    [
        (0, {}, "non-zero 32-bit"),
        (2**32, {}, "non-zero 32-bit"),
        (100_001, {"permanent": True}, "1..100000"),
        ("", {}, "1..64"),
        ("x" * 65, {"permanent": True}, "1..64"),
        (1, {"expire_seconds": 2_592_001}, "30 days"),
        (1, {"permanent": True, "expire_seconds": 60}, "never expire"),
    ],
)
async def test_create_range_checks(
    fake: FakeWeChat, client: Client, scene: int | str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.qrcode.create(scene, **options)  # type: ignore[arg-type]
    assert fake.count(CREATE) == 0


async def test_image_and_url(fake: FakeWeChat, client: Client) -> None:
    qr = await client.qrcode.create("s", expire_seconds=30)
    png = await client.qrcode.image(qr.ticket)
    assert png.startswith(b"\x89PNG")
    (call,) = fake.calls("/cgi-bin/showqrcode")
    assert call.query == {"ticket": qr.ticket}
    assert client.qrcode.url("a+b/c=") == f"{fake.url}/cgi-bin/showqrcode?ticket=a%2Bb%2Fc%3D"
