"""OCR (图像识别): ID cards, business licences, bank cards, vehicle and driving licences, printed text and plate
numbers, each read from an image WeChat downloads (``img_url``) or one sent with the call (``img``, under 2 MB).

Every recognizer answers a frozen dataclass of the fields WeChat documents, as text (a licence's dates and
quantities are printed text, ``"2018-07-06"``, ``"7人"``), with the whole answer in ``raw``. Each recognizer has
a small free daily quota; more is bought on WeChat's service market (服务市场), behind the same paths.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._caller import Group, build
from ._data import WeChatData
from ._media import read_upload
from ._transport import Fields

__all__ = [
    "BankCard", "BizLicense", "DrivingLicense", "IdCard", "OCRImageSize", "OCRPoint", "OCRPosition", "OCRText",
    "PlateNumber", "PrintedText", "VehicleLicense",
]

Mode = Literal["photo", "scan"]
ImageFile = str | os.PathLike[str] | bytes
"""A path or the image's bytes."""
MODES = ("photo", "scan")
OCR_IMAGE_MAX = 2 << 20
"""WeChat's limit: an image under 2 MB."""


@dataclass(frozen=True)
class OCRPoint:
    x: int = 0
    y: int = 0


@dataclass(frozen=True)
class OCRPosition:
    """Where something is in the image: its four corners, in pixels."""

    left_top: OCRPoint = OCRPoint()
    right_top: OCRPoint = OCRPoint()
    right_bottom: OCRPoint = OCRPoint()
    left_bottom: OCRPoint = OCRPoint()


@dataclass(frozen=True)
class OCRImageSize:
    w: int = 0
    h: int = 0


@dataclass(frozen=True)
class IdCard(WeChatData):
    """A Chinese ID card: ``type`` ``Front`` (``name``, ``id``, ``addr``, ``gender``, ``nationality``) or ``Back``
    (``valid_date``, e.g. ``20070105-20270105``)."""

    type: str = ""
    name: str = ""
    id: str = ""
    addr: str = ""
    gender: str = ""
    nationality: str = ""
    valid_date: str = ""


@dataclass(frozen=True)
class BankCard(WeChatData):
    number: str = ""


@dataclass(frozen=True)
class PlateNumber(WeChatData):
    number: str = ""


@dataclass(frozen=True)
class VehicleLicense(WeChatData):
    """A vehicle licence (行驶证): the vehicle's front page, and the back page's ``plate_num_b`` … ``overall_size``."""

    plate_num: str = ""
    vehicle_type: str = ""
    owner: str = ""
    addr: str = ""
    use_character: str = ""
    model: str = ""
    vin: str = ""
    engine_num: str = ""
    register_date: str = ""
    issue_date: str = ""
    plate_num_b: str = ""
    record: str = ""
    passengers_num: str = ""
    total_quality: str = ""
    prepare_quality: str = ""
    overall_size: str = ""
    card_position_front: OCRPosition | None = None
    card_position_back: OCRPosition | None = None
    img_size: OCRImageSize | None = None


@dataclass(frozen=True)
class DrivingLicense(WeChatData):
    """A driving licence (驾驶证)."""

    id_num: str = ""
    name: str = ""
    sex: str = ""
    nationality: str = ""
    address: str = ""
    birth_date: str = ""
    issue_date: str = ""
    car_class: str = ""
    valid_from: str = ""
    valid_to: str = ""
    official_seal: str = ""


@dataclass(frozen=True)
class BizLicense(WeChatData):
    """A business licence (营业执照); ``cert_position`` is where the licence is in the image."""

    reg_num: str = ""
    serial: str = ""
    legal_representative: str = ""
    enterprise_name: str = ""
    type_of_organization: str = ""
    address: str = ""
    type_of_enterprise: str = ""
    business_scope: str = ""
    registered_capital: str = ""
    paid_in_capital: str = ""
    valid_period: str = ""
    registered_date: str = ""
    cert_position: OCRPosition | None = None
    img_size: OCRImageSize | None = None


@dataclass(frozen=True)
class OCRText:
    """One line of printed text and where it is."""

    text: str = ""
    pos: OCRPosition | None = None


@dataclass(frozen=True)
class PrintedText(WeChatData):
    items: list[OCRText] = field(default_factory=list)
    img_size: OCRImageSize | None = None


def _point(data: Any) -> OCRPoint:
    return OCRPoint(int(data.get("x", 0)), int(data.get("y", 0))) if isinstance(data, Mapping) else OCRPoint()


def _position(data: Any) -> OCRPosition | None:
    """``{"left_top": {"x", "y"}, …}``, or a card's ``{"pos": {…}}`` around it."""
    if not isinstance(data, Mapping):
        return None
    corners = data.get("pos", data)
    names = ("left_top", "right_top", "right_bottom", "left_bottom")
    return OCRPosition(*(_point(corners.get(name)) for name in names)) if isinstance(corners, Mapping) else None


def _size(data: Any) -> OCRImageSize | None:
    return OCRImageSize(int(data.get("w", 0)), int(data.get("h", 0))) if isinstance(data, Mapping) else None


def _text(data: Any) -> OCRText:
    return OCRText(str(data.get("text", "")), _position(data.get("pos"))) if isinstance(data, Mapping) else OCRText()


class OCRAPI(Group):
    """Each recognizer takes ``img_url`` (an http(s) URL WeChat downloads) or ``img=`` (a path or bytes; a name for
    bytes in ``filename=`` tells the format), not both. A card WeChat does not find in the image is a
    WeChatAPIError (101001); an image it cannot read or fetch, 101000."""

    async def idcard(self, img_url: str | None = None, *, img: ImageFile | None = None,
                     filename: str | None = None, mode: Mode = "photo") -> IdCard:
        """``mode`` ``photo`` for a picture with background, ``scan`` for a scan of the card alone."""
        return build(IdCard, await self._recognize("idcard", img_url, img, filename, mode))

    async def bankcard(self, img_url: str | None = None, *, img: ImageFile | None = None,
                       filename: str | None = None, mode: Mode = "photo") -> BankCard:
        return build(BankCard, await self._recognize("bankcard", img_url, img, filename, mode))

    async def vehicle_license(self, img_url: str | None = None, *, img: ImageFile | None = None,
                              filename: str | None = None, mode: Mode = "photo") -> VehicleLicense:
        """A vehicle licence (行驶证, ``/cv/ocr/driving``)."""
        data = await self._recognize("driving", img_url, img, filename, mode)
        return build(VehicleLicense, data, card_position_front=_position(data.get("card_position_front")),
                     card_position_back=_position(data.get("card_position_back")), img_size=_size(data.get("img_size")))

    async def driving_license(self, img_url: str | None = None, *, img: ImageFile | None = None,
                              filename: str | None = None) -> DrivingLicense:
        """A driving licence (驾驶证, ``/cv/ocr/drivinglicense``)."""
        return build(DrivingLicense, await self._recognize("drivinglicense", img_url, img, filename))

    async def bizlicense(self, img_url: str | None = None, *, img: ImageFile | None = None,
                         filename: str | None = None) -> BizLicense:
        data = await self._recognize("bizlicense", img_url, img, filename)
        return build(BizLicense, data, cert_position=_position(data.get("cert_position")),
                     img_size=_size(data.get("img_size")))

    async def printed_text(self, img_url: str | None = None, *, img: ImageFile | None = None,
                           filename: str | None = None) -> PrintedText:
        """Printed text (通用印刷体, ``/cv/ocr/comm``): each line with its position."""
        data = await self._recognize("comm", img_url, img, filename)
        return build(PrintedText, data, items=[_text(item) for item in data.get("items") or []],
                     img_size=_size(data.get("img_size")))

    async def plate_number(self, img_url: str | None = None, *, img: ImageFile | None = None,
                           filename: str | None = None) -> PlateNumber:
        """A vehicle's plate number (车牌, ``/cv/ocr/platenum``)."""
        return build(PlateNumber, await self._recognize("platenum", img_url, img, filename))

    async def _recognize(self, kind: str, img_url: str | None, img: ImageFile | None,
                         filename: str | None, mode: Mode | None = None) -> Fields:
        """Checked before anything is sent: one image source, an http(s) URL, an image under 2 MB, the mode."""
        if (img_url is None) == (img is None):
            raise ValueError(f"ocr.{kind} takes img_url= (an image WeChat downloads) or img= (a path or bytes), "
                             "exactly one")
        params: dict[str, str] = {}
        if mode is not None:
            if mode not in MODES:
                raise ValueError(f"mode must be 'photo' (a picture with background) or 'scan', got {mode!r}")
            params["type"] = mode
        files = {}
        if img_url is not None:
            if not img_url.startswith(("http://", "https://")):
                raise ValueError(f"img_url must be an http(s) URL WeChat can download, got {img_url!r}; "
                                 "send a local image with img=")
            params["img_url"] = img_url
        else:
            assert img is not None
            name, content, mime = await read_upload(img, filename, "ocr.jpg")
            if not 0 < len(content) < OCR_IMAGE_MAX:
                raise ValueError(f"the image must be under 2 MB, got {len(content)} bytes; shrink or compress it")
            files["img"] = (name, content, mime)
        return await self._caller.upload(f"/cv/ocr/{kind}", files, params=params)
