"""Fake followers: profiles, paging, remarks, the blacklist and tags."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, endpoint

_SYSTEM_TAGS = (0, 1, 2)
_INVALID_LIST_SIZE = (40032, "invalid openid list size")


def _page(st: FakeState, openids: Sequence[str], cursor: str) -> dict[str, Any]:
    """WeChat's paging: next_openid is the last openid of a page; the page after the last is empty."""
    start = openids.index(cursor) + 1 if cursor in openids else 0
    page = list(openids[start : start + st.page_size])
    if not page:
        return {"total": len(openids), "count": 0, "next_openid": ""}
    return {"total": len(openids), "count": len(page), "data": {"openid": page}, "next_openid": page[-1]}


def _openid_list(req: FakeRequest, limit: int) -> list[str]:
    openids = req.need(req.body().get("openid_list"), 40003, "invalid openid")
    if not isinstance(openids, list) or len(openids) > limit:
        raise Fault(*_INVALID_LIST_SIZE)
    return openids


def _profile(st: FakeState, openid: str) -> dict[str, Any]:
    if openid not in st.followers:
        return {"subscribe": 0, "openid": openid}
    tag_ids = [tag_id for tag_id, tag in st.tags.items() if openid in tag["members"]]
    return {**st.followers[openid], "tagid_list": tag_ids}


@endpoint("GET", "/cgi-bin/user/info")
def user_info(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _profile(st, st.follower(req.query.get("openid"))["openid"])


@endpoint("POST", "/cgi-bin/user/info/batchget")
def user_batch_get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    users = req.need(req.body().get("user_list"), 47001, "data format error")
    if not isinstance(users, list) or len(users) > 100:
        raise Fault(*_INVALID_LIST_SIZE)
    return {"user_info_list": [_profile(st, str(user.get("openid"))) for user in users]}


@endpoint("GET", "/cgi-bin/user/get")
def user_list(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _page(st, list(st.followers), req.query.get("next_openid", ""))


@endpoint("POST", "/cgi-bin/user/info/updateremark")
def update_remark(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    remark = str(body.get("remark", ""))
    if len(remark) > 30:
        raise Fault(45002, "remark size out of limit")
    st.follower(body.get("openid"))["remark"] = remark
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("POST", "/cgi-bin/tags/members/getblacklist")
def blacklist(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _page(st, st.blacklist, str(req.body().get("begin_openid") or ""))


@endpoint("POST", "/cgi-bin/tags/members/batchblacklist")
def block(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    st.blacklist.extend(o for o in _openid_list(req, 20) if o not in st.blacklist)
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("POST", "/cgi-bin/tags/members/batchunblacklist")
def unblock(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    gone = set(_openid_list(req, 20))
    st.blacklist[:] = [o for o in st.blacklist if o not in gone]
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("GET", "/wxa/getpaidunionid")
def paid_unionid(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    q = req.query
    if not (q.get("transaction_id") or (q.get("mch_id") and q.get("out_trade_no"))):
        raise Fault(40097, "invalid args")
    unionid = st.follower(q.get("openid")).get("unionid")
    if not unionid:
        raise Fault(89002, "open not exists")
    return {"errcode": 0, "errmsg": "ok", "unionid": unionid}


def migrated_openid(appid: str, openid: str) -> str:
    """The openid an account gives the follower another account knew as ``openid``: fixed, like WeChat's."""
    digest = hashlib.sha256(f"{appid}:{openid}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


@endpoint("POST", "/cgi-bin/changeopenid")
def change_openid(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """For another account of this fake (``fake.add_account``): its followers' openids here, 100 per call; an openid
    that does not follow it answers ``ori_openid error`` in its entry."""
    body = req.body()
    source = st.shared.accounts.get(str(body.get("from_appid")))
    if source is None or source is st:
        raise Fault(40013, "invalid appid")
    results = []
    for openid in _openid_list(req, 100):
        if openid in source.followers:
            results.append({"ori_openid": openid, "new_openid": migrated_openid(st.appid, openid), "err_msg": "ok"})
        else:
            results.append({"ori_openid": openid, "err_msg": "ori_openid error"})
    return {"errcode": 0, "errmsg": "ok", "result_list": results}


def _tag_name(st: FakeState, body: dict[str, Any], keep: int | None = None) -> str:
    name = str((body.get("tag") or {}).get("name") or "")
    if not name or len(name) > 30:
        raise Fault(45158, "tag name too long")
    if any(tag["name"] == name and tag_id != keep for tag_id, tag in st.tags.items()):
        raise Fault(45157, "invalid tag name")
    return name


def _tag_id(st: FakeState, value: Any) -> int:
    if value in _SYSTEM_TAGS:
        raise Fault(45058, "can't modify sys tag")
    if value not in st.tags:
        raise Fault(45159, "invalid tag id")
    return int(value)


@endpoint("POST", "/cgi-bin/tags/create")
def tag_create(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    name = _tag_name(st, req.body())
    if len(st.tags) >= 100:
        raise Fault(45056, "too many tags")
    tag_id, st.next_tag_id = st.next_tag_id, st.next_tag_id + 1
    st.tags[tag_id] = {"name": name, "members": set()}
    return {"tag": {"id": tag_id, "name": name}}


@endpoint("GET", "/cgi-bin/tags/get")
def tag_list(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"tags": [{"id": i, "name": t["name"], "count": len(t["members"])} for i, t in st.tags.items()]}


@endpoint("POST", "/cgi-bin/tags/update")
def tag_update(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    tag_id = _tag_id(st, (body.get("tag") or {}).get("id"))
    st.tags[tag_id]["name"] = _tag_name(st, body, keep=tag_id)
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("POST", "/cgi-bin/tags/delete")
def tag_delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    del st.tags[_tag_id(st, (req.body().get("tag") or {}).get("id"))]
    return {"errcode": 0, "errmsg": "ok"}


def _tagging(st: FakeState, req: FakeRequest, add: bool) -> dict[str, Any]:
    openids = _openid_list(req, 50)
    members: set[str] = st.tags[_tag_id(st, req.body().get("tagid"))]["members"]
    for openid in openids:
        st.follower(openid)
        if add and sum(openid in t["members"] for t in st.tags.values()) >= 20:
            raise Fault(45059, "has too many tags")
        (members.add if add else members.discard)(openid)
    return {"errcode": 0, "errmsg": "ok"}


@endpoint("POST", "/cgi-bin/tags/members/batchtagging")
def tag_users(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _tagging(st, req, add=True)


@endpoint("POST", "/cgi-bin/tags/members/batchuntagging")
def untag_users(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _tagging(st, req, add=False)


@endpoint("POST", "/cgi-bin/tags/getidlist")
def tags_of_user(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"tagid_list": _profile(st, st.follower(req.body().get("openid"))["openid"])["tagid_list"]}


@endpoint("POST", "/cgi-bin/user/tag/get")
def tag_members(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """The follower paging without ``total``; system tags answer like any tag nobody carries."""
    body = req.body()
    tag_id = body.get("tagid")
    if tag_id not in st.tags and tag_id not in _SYSTEM_TAGS:
        raise Fault(45159, "invalid tag id")
    members = [o for o in st.followers if tag_id in st.tags and o in st.tags[tag_id]["members"]]
    page = _page(st, members, str(body.get("next_openid") or ""))
    del page["total"]
    return page
