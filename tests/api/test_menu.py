from __future__ import annotations

from typing import Any

import pytest

from wxhook.api import Client, WeChatAPIError
from wxhook.testing import FakeWeChat

from .conftest import raw_call, sent

MENU = [
    {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
    {
        "name": "菜单",
        "sub_button": [
            {"type": "view", "name": "搜索", "url": "http://www.soso.com/"},
            {
                "type": "miniprogram",
                "name": "wxa",
                "url": "http://mp.weixin.qq.com",
                "appid": "wx1",
                "pagepath": "p",
            },
        ],
    },
]


async def test_create_get_delete(fake: FakeWeChat, client: Client) -> None:
    await client.menu.create(MENU)
    assert sent(fake, "/cgi-bin/menu/create") == {"button": MENU}
    menu = await client.menu.get()
    assert menu.buttons == MENU and menu.menuid is not None and menu.conditional == []
    await client.menu.delete()
    with pytest.raises(WeChatAPIError) as caught:
        await client.menu.get()
    assert caught.value.errcode == 46003


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "click", "name": "b", "key": "k", **fields}


@pytest.mark.parametrize(
    ("buttons", "message"),
    [
        ([button()] * 4, "1..3 top-level"),
        ([], "1..3 top-level"),
        ([{"name": "m", "sub_button": [button()] * 6}], "6 sub-buttons"),
        ([button(name="一二三四五六")], "name is 18 bytes"),
        ([button(key="k" * 129)], "key is 129 bytes"),
        ([button(type="view", url="http://" + "u" * 1020)], "url is 1027 bytes"),
        ([button(type="teleport")], "type 'teleport'"),
        ([{"type": "view", "name": "v"}], "needs url"),
        ([{"type": "click", "key": "k"}], "has no name"),
    ],
)
async def test_create_validates_locally(
    fake: FakeWeChat, client: Client, buttons: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.menu.create(buttons)
    assert fake.count("/cgi-bin/menu/create") == 0


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([button()] * 4, 40016),
        ([{"name": "m", "sub_button": [button()] * 6}], 40023),
        ([button(name="n" * 17)], 40018),
        ([button(key="k" * 129)], 40019),
        ([button(type="teleport")], 40017),
    ],
)
async def test_fake_enforces_menu_limits(
    fake: FakeWeChat, client: Client, buttons: list[dict[str, Any]], errcode: int
) -> None:
    answer = await raw_call(fake, client, "POST", "/cgi-bin/menu/create", {"button": buttons})
    assert answer["errcode"] == errcode
