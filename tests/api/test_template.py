from __future__ import annotations

import pytest

from wxhook.api import Client, WeChatAPIError
from wxhook.testing import FakeWeChat

from .conftest import sent


async def test_industry_round_trip(fake: FakeWeChat, client: Client) -> None:
    await client.template.set_industry(1, 2)
    assert sent(fake, "/cgi-bin/template/api_set_industry") == {"industry_id1": "1", "industry_id2": "2"}
    industry = await client.template.get_industry()
    assert industry.primary_industry == {"first_class": "IT科技", "second_class": "互联网/电子商务"}
    assert industry.secondary_industry["second_class"] == "IT软件与服务"
    assert industry.raw["primary_industry"] == industry.primary_industry


async def test_add_list_delete(fake: FakeWeChat, client: Client) -> None:
    template_id = await client.template.add("TM00015", ["订单号", "金额"])
    assert sent(fake, "/cgi-bin/template/api_add_template") == {
        "template_id_short": "TM00015",
        "keyword_name_list": ["订单号", "金额"],
    }
    (info,) = await client.template.list()
    assert (info.template_id, info.title) == (template_id, "template TM00015")
    assert info.content == "订单号:{{keyword1.DATA}}\n金额:{{keyword2.DATA}}\n"
    assert info.example == "订单号:示例1\n金额:示例2\n"
    assert (info.primary_industry, info.deputy_industry) == ("IT科技", "互联网/电子商务")
    assert info.raw["template_id"] == template_id
    await client.template.delete(template_id)
    assert sent(fake, "/cgi-bin/template/del_private_template") == {"template_id": template_id}
    assert await client.template.list() == []
    await client.template.add("TM00001")  # an industry template: no keyword list is sent
    assert sent(fake, "/cgi-bin/template/api_add_template") == {"template_id_short": "TM00001"}


async def test_send_full_body(fake: FakeWeChat, client: Client) -> None:
    template_id = fake.add_template()
    msgid = await client.template.send(
        "o1",
        template_id,
        {"first": "Order shipped", "remark": {"value": "Thanks", "color": "#173177"}},
        url="https://example.com/o/1",
        miniprogram={"appid": "wxmini", "pagepath": "pages/o?id=1"},
        client_msg_id="o-1",
    )
    assert msgid == fake.state.next_msgid
    assert sent(fake, "/cgi-bin/message/template/send") == {
        "touser": "o1",
        "template_id": template_id,
        "data": {"first": {"value": "Order shipped"}, "remark": {"value": "Thanks", "color": "#173177"}},
        "url": "https://example.com/o/1",
        "miniprogram": {"appid": "wxmini", "pagepath": "pages/o?id=1"},
        "client_msg_id": "o-1",
    }


async def test_send_minimal_body_and_unknown_template(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await client.template.send("o1", "nope", {"first": "x"})
    assert caught.value.errcode == 40037
    assert sent(fake, "/cgi-bin/message/template/send") == {
        "touser": "o1",
        "template_id": "nope",
        "data": {"first": {"value": "x"}},
    }
    with pytest.raises(ValueError, match="openid"):
        await client.template.send("", "t", {})


async def test_templates_carry_the_account_industry(fake: FakeWeChat, client: Client) -> None:
    await client.template.set_industry(41, 2)
    await client.template.add("TM00002")
    (info,) = await client.template.list()
    assert (info.primary_industry, info.deputy_industry, info.example) == ("其它", "其它", "")


async def test_send_returns_the_msgid_and_dedupes_by_client_msg_id(fake: FakeWeChat, client: Client) -> None:
    template_id = fake.add_template()
    first = await client.template.send("o1", template_id, {"first": "a"}, client_msg_id="order-7")
    assert first == fake.state.next_msgid
    assert await client.template.send("o1", template_id, {"first": "a"}, client_msg_id="order-7") == first
    other = await client.template.send("o1", template_id, {"first": "b"})
    assert other == first + 1 == fake.state.next_msgid
