from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from wxhook.api import (
    BankCard,
    BizLicense,
    Client,
    DrivingLicense,
    IdCard,
    OCRImageSize,
    OCRPoint,
    OCRPosition,
    PlateNumber,
    PrintedText,
    VehicleLicense,
    WeChatAPIError,
)
from wxhook.testing import FakeWeChat

IMAGE = "https://cdn.example.com/证件/card.jpg?size=large&v=2"
CORNERS = OCRPosition(OCRPoint(575, 519), OCRPoint(744, 519), OCRPoint(744, 532), OCRPoint(573, 532))


def query(fake: FakeWeChat, path: str) -> dict[str, str]:
    call = fake.calls(path)[-1]
    assert (call.method, call.body) == ("POST", b"")
    return {key: value for key, value in call.query.items() if key != "access_token"}


async def test_id_card_by_url_and_by_upload(fake: FakeWeChat, client: Client, tmp_path: Path) -> None:
    card = await client.ocr.idcard(IMAGE)
    assert query(fake, "/cv/ocr/idcard") == {"type": "photo", "img_url": IMAGE}, "img_url goes encoded once"
    assert isinstance(card, IdCard)
    assert (card.type, card.name, card.id, card.addr, card.gender, card.nationality, card.valid_date) == (
        "Front", "张三", "123456789012345678", "广东省广州市", "男", "汉", "")
    fake.set_ocr_result("idcard", {"type": "Back", "valid_date": "20070105-20270105"})
    image = tmp_path / "back.png"
    image.write_bytes(b"\x89PNG" + b"\x00" * 64)
    back = await client.ocr.idcard(img=image, mode="scan")
    call = fake.calls("/cv/ocr/idcard")[-1]
    assert call.query["type"] == "scan" and "img_url" not in call.query
    assert b'name="img"; filename="back.png"' in call.body and b"\x89PNG" in call.body
    assert (back.type, back.valid_date, back.name) == ("Back", "20070105-20270105", "")


async def test_every_recognizer_answers_its_typed_result(fake: FakeWeChat, client: Client) -> None:
    bank = await client.ocr.bankcard(img=b"\xff\xd8jpeg", filename="bank.jpg")
    assert isinstance(bank, BankCard) and bank.number == "6222021001115523"
    assert fake.calls("/cv/ocr/bankcard")[-1].query["type"] == "photo"
    plate = await client.ocr.plate_number(IMAGE)
    assert isinstance(plate, PlateNumber) and plate.number == "粤B123456"
    assert query(fake, "/cv/ocr/platenum") == {"img_url": IMAGE}

    vehicle = await client.ocr.vehicle_license(IMAGE, mode="scan")
    assert query(fake, "/cv/ocr/driving") == {"type": "scan", "img_url": IMAGE}
    assert isinstance(vehicle, VehicleLicense)
    assert (vehicle.plate_num, vehicle.vin, vehicle.register_date, vehicle.passengers_num) == (
        "粤A12345", "LJ166A23XH4000051", "2018-07-06", "7人")
    assert (vehicle.card_position_front, vehicle.card_position_back) == (CORNERS, None)
    assert vehicle.img_size == OCRImageSize(1280, 720)

    driver = await client.ocr.driving_license(IMAGE)
    assert query(fake, "/cv/ocr/drivinglicense") == {"img_url": IMAGE}
    assert isinstance(driver, DrivingLicense)
    assert (driver.id_num, driver.car_class, driver.valid_to, driver.official_seal) == (
        "660601199012211234", "C1", "2024-07-06", "东莞市公安局公安交通管理局")

    business = await client.ocr.bizlicense(IMAGE)
    assert isinstance(business, BizLicense)
    assert (business.enterprise_name, business.legal_representative, business.registered_capital) == (
        "XX饮食店", "张三", "200万")
    assert (business.cert_position, business.img_size) == (CORNERS, OCRImageSize(20, 10))

    text = await client.ocr.printed_text(IMAGE)
    assert query(fake, "/cv/ocr/comm") == {"img_url": IMAGE}
    assert isinstance(text, PrintedText) and [item.text for item in text.items] == ["腾讯", "微信"]
    assert text.items[0].pos == CORNERS and text.img_size == OCRImageSize(1280, 720)
    assert text.raw["items"][1]["text"] == "微信"


async def test_the_image_is_checked_before_anything_is_sent(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        await client.ocr.idcard()
    with pytest.raises(ValueError, match="exactly one"):
        await client.ocr.idcard(IMAGE, img=b"jpg")
    with pytest.raises(ValueError, match="http"):
        await client.ocr.bizlicense("/tmp/card.jpg")
    with pytest.raises(ValueError, match="under 2 MB"):
        await client.ocr.printed_text(img=b"x" * (2 << 20), filename="big.jpg")
    with pytest.raises(ValueError, match="under 2 MB"):
        await client.ocr.printed_text(img=b"", filename="empty.jpg")
    with pytest.raises(ValueError, match="mode"):
        await client.ocr.bankcard(IMAGE, mode="fax")  # type: ignore[arg-type]
    assert not [call for call in fake.calls() if call.path.startswith("/cv/ocr/")]


async def test_the_fake_refuses_what_wechat_refuses(fake: FakeWeChat, client: Client) -> None:
    token = await client.access_token()
    async with httpx.AsyncClient() as http:
        both = await http.post(f"{fake.url}/cv/ocr/comm", params={"access_token": token, "img_url": IMAGE},
                               files={"img": ("a.jpg", b"jpg", "image/jpeg")})
        neither = await http.post(f"{fake.url}/cv/ocr/comm", params={"access_token": token})
        mode = await http.post(f"{fake.url}/cv/ocr/idcard", params={"access_token": token, "img_url": IMAGE,
                                                                    "type": "fax"})
    assert (both.json()["errcode"], neither.json()["errcode"], mode.json()["errcode"]) == (101000, 101000, 40097)
    fake.fail("/cv/ocr/idcard", 101001, errmsg="certificate not found")
    with pytest.raises(WeChatAPIError) as caught:
        await client.ocr.idcard(IMAGE)
    assert caught.value.errcode == 101001
    with pytest.raises(ValueError, match="the kinds are"):
        fake.set_ocr_result("passport", {})
