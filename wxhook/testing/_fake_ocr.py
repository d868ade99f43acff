"""Fake OCR: every recognizer of ``/cv/ocr/…`` checks the image as WeChat does and answers its documented sample.

An image comes as ``img_url`` (an http(s) URL) or a multipart ``img`` under 2 MB, never both; ``idcard``,
``bankcard`` and ``driving`` take ``type`` photo or scan. Anything else answers 101000 (the image cannot be read).
``fake.set_ocr_result(kind, fields)`` replaces a recognizer's answer (``kind`` is the path's last part, e.g.
``"idcard"``); "no card in this image" is ``fake.fail("/cv/ocr/idcard", 101001)``.
"""

from __future__ import annotations

from typing import Any

from ._fake_state import Endpoint, FakeRequest, FakeState, Fault, endpoint

OK = {"errcode": 0, "errmsg": "ok"}
IMAGE_MAX = 2 << 20
_POS = {"left_top": {"x": 575, "y": 519}, "right_top": {"x": 744, "y": 519}, "right_bottom": {"x": 744, "y": 532},
        "left_bottom": {"x": 573, "y": 532}}  # fmt: skip
SAMPLES: dict[str, dict[str, Any]] = {
    "idcard": {"type": "Front", "name": "张三", "id": "123456789012345678", "addr": "广东省广州市",
               "gender": "男", "nationality": "汉"},
    "bankcard": {"number": "6222021001115523"},
    "driving": {"plate_num": "粤A12345", "vehicle_type": "小型普通客车", "owner": "东莞市机械厂",
                "addr": "广东省东莞市", "use_character": "非营运", "model": "江淮牌HFC6502A1V",
                "vin": "LJ166A23XH4000051", "engine_num": "J3E00053", "register_date": "2018-07-06",
                "issue_date": "2018-07-01", "plate_num_b": "粤A12345", "record": "441900000003",
                "passengers_num": "7人", "total_quality": "2700kg", "prepare_quality": "1995kg",
                "overall_size": "4582x1795x1458mm", "card_position_front": {"pos": _POS},
                "img_size": {"w": 1280, "h": 720}},
    "drivinglicense": {"id_num": "660601199012211234", "name": "张三", "sex": "男", "nationality": "中国",
                       "address": "广东省东莞市", "birth_date": "1990-12-21", "issue_date": "2012-12-21",
                       "car_class": "C1", "valid_from": "2018-07-06", "valid_to": "2024-07-06",
                       "official_seal": "东莞市公安局公安交通管理局"},
    "bizlicense": {"reg_num": "123123", "serial": "123123", "legal_representative": "张三",
                   "enterprise_name": "XX饮食店", "type_of_organization": "个人经营", "address": "XX市XX区XX路XX号",
                   "type_of_enterprise": "个体工商户", "business_scope": "中型餐馆(不含凉菜、不含裱花蛋糕)",
                   "registered_capital": "200万", "paid_in_capital": "200万", "valid_period": "2019年1月1日",
                   "registered_date": "2018年1月1日", "cert_position": {"pos": _POS}, "img_size": {"w": 20, "h": 10}},
    "comm": {"items": [{"text": "腾讯", "pos": _POS}, {"text": "微信", "pos": _POS}],
             "img_size": {"w": 1280, "h": 720}},
    "platenum": {"number": "粤B123456"},
}  # fmt: skip
_MODES = ("idcard", "bankcard", "driving")


def _recognize(st: FakeState, req: FakeRequest, kind: str) -> dict[str, Any]:
    if kind in _MODES and req.query.get("type", "photo") not in ("photo", "scan"):
        raise Fault(40097, "invalid args: type must be photo or scan")
    url, image = req.query.get("img_url"), req.files.get("img")
    if (url is None) == (image is None):
        raise Fault(101000, "invalid image url or image data: pass img_url or img, one of them")
    if url is not None and not url.startswith(("http://", "https://")):
        raise Fault(101000, "invalid image url")
    if image is not None and not 0 < len(image[2]) < IMAGE_MAX:
        raise Fault(101000, "invalid image data: an image under 2M")
    return {**OK, **st.ocr_results.get(kind, SAMPLES[kind])}


def _recognizer(kind: str) -> Endpoint:
    @endpoint("POST", f"/cv/ocr/{kind}")
    def recognize(st: FakeState, req: FakeRequest) -> dict[str, Any]:
        return _recognize(st, req, kind)

    return recognize


RECOGNIZERS = tuple(_recognizer(kind) for kind in SAMPLES)
