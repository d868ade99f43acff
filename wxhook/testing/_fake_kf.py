"""Fake customer service: agent accounts and invitations, sessions, the waiting queue, chat records."""

from __future__ import annotations

import re
import time
from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, endpoint

OK = {"errcode": 0, "errmsg": "ok"}
MAX_ACCOUNTS = 100
MAX_RECORDS = 10_000
WAITING_SHOWN = 100
INVITE_SECONDS = 7 * 24 * 3600
_OPTIONAL = ("kf_wx", "invite_wx", "invite_expire_time", "invite_status")
_ACCOUNT = re.compile(r"[A-Za-z0-9_]{1,10}@[^@\s]{1,30}")


def _account(st: FakeState, value: Any) -> dict[str, Any]:
    if value not in st.kf_accounts:
        raise Fault(65401, "invalid custom service account")
    return st.kf_accounts[value]


def _nickname(body: dict[str, Any]) -> str:
    nickname = body.get("nickname")
    if not isinstance(nickname, str) or not 1 <= len(nickname) <= 16:
        raise Fault(65403, "illegal nickname")
    return nickname


def _public(account: dict[str, Any]) -> dict[str, Any]:
    """getkflist's entry: kf_wx once bound, the invitation fields only while there is one."""
    return {
        key: value for key, value in account.items() if key != "status" and not (key in _OPTIONAL and value in ("", 0))
    }


@endpoint("GET", "/cgi-bin/customservice/getkflist")
def kf_list(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"kf_list": [_public(account) for account in st.kf_accounts.values()]}


@endpoint("GET", "/cgi-bin/customservice/getonlinekflist")
def kf_online_list(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    online = [
        {
            "kf_account": name,
            "status": account["status"],
            "kf_id": account["kf_id"],
            "accepted_case": sum(kf == name for kf, _ in st.kf_sessions.values()),
        }
        for name, account in st.kf_accounts.items()
        if account["status"]
    ]
    return {"kf_online_list": online}


@endpoint("POST", "/customservice/kfaccount/add")
def kf_add(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    name = body.get("kf_account")
    if not isinstance(name, str) or not _ACCOUNT.fullmatch(name):
        raise Fault(65404, "illegal custom service account")
    nickname = _nickname(body)
    if name in st.kf_accounts:
        raise Fault(65406, "custom service account exists")
    if len(st.kf_accounts) >= MAX_ACCOUNTS:
        raise Fault(65405, "custom service account number reach limit")
    st.kf_accounts[name] = {
        "kf_account": name,
        "kf_nick": nickname,
        "kf_id": str(1001 + len(st.kf_accounts)),
        "kf_headimgurl": "",
        "kf_wx": "",
        "invite_wx": "",
        "invite_expire_time": 0,
        "invite_status": "",
        "status": 0,
    }
    return OK


@endpoint("POST", "/customservice/kfaccount/inviteworker")
def kf_invite(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    account = _account(st, body.get("kf_account"))
    wx = body.get("invite_wx")
    if not isinstance(wx, str) or not re.fullmatch(r"[A-Za-z][-_A-Za-z0-9]{5,19}", wx):
        raise Fault(65409, "invalid wechat id")
    if account["kf_wx"]:
        raise Fault(65412, "the account has been bound to a wechat id")
    if account["invite_status"] == "waiting":
        raise Fault(65411, "the account already has a pending invitation")
    others = [a for a in st.kf_accounts.values() if a is not account]
    if any(a["kf_wx"] == wx for a in others):
        raise Fault(65407, "the invitee is already a customer service agent of this account")
    if any(a["invite_wx"] == wx and a["invite_status"] == "waiting" for a in others):
        raise Fault(65408, "this account already invited that wechat id")
    account.update(invite_wx=wx, invite_status="waiting", invite_expire_time=int(time.time()) + INVITE_SECONDS)
    return OK


@endpoint("POST", "/customservice/kfaccount/update")
def kf_update(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    account = _account(st, body.get("kf_account"))
    account["kf_nick"] = _nickname(body)
    return OK


@endpoint("GET", "/customservice/kfaccount/del")
def kf_delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    name = req.query.get("kf_account")
    _account(st, name)
    del st.kf_accounts[str(name)]
    for openid in [o for o, (kf, _) in st.kf_sessions.items() if kf == name]:
        del st.kf_sessions[openid]
    return OK


@endpoint("POST", "/customservice/kfaccount/uploadheadimg")
def kf_upload_avatar(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    account = _account(st, req.query.get("kf_account"))
    if "media" not in req.files:
        raise Fault(41005, "media data missing")
    filename, content_type, content = req.files["media"]
    if content_type != "image/jpeg" and not filename.lower().endswith((".jpg", ".jpeg")):
        raise Fault(40005, "invalid file type, only jpg is supported")
    if not content or len(content) > 5 << 20:
        raise Fault(40009, "invalid image size")
    account["kf_headimgurl"] = f"http://mmbiz.qpic.cn/mmbiz/{account['kf_id']}/0"
    return OK


def _session_body(st: FakeState, req: FakeRequest) -> tuple[str, dict[str, Any], str]:
    body = req.body()
    name = str(body.get("kf_account", ""))
    account = _account(st, name)
    openid = str(st.follower(body.get("openid"))["openid"])
    return name, account, openid


@endpoint("POST", "/customservice/kfsession/create")
def kf_session_create(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    name, account, openid = _session_body(st, req)
    if not account["kf_wx"]:
        raise Fault(65402, "the custom service account is not bound to a wechat id")
    if not account["status"]:
        raise Fault(65415, "the custom service agent is offline")
    if openid in st.kf_sessions:
        raise Fault(65414, "the user is being served by an agent")
    st.kf_sessions[openid] = (name, int(time.time()))
    st.kf_waiting.pop(openid, None)
    return OK


@endpoint("POST", "/customservice/kfsession/close")
def kf_session_close(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    name, _, openid = _session_body(st, req)
    if st.kf_sessions.get(openid, ("", 0))[0] != name:
        raise Fault(65416, "invalid parameter: no such session")
    del st.kf_sessions[openid]
    return OK


@endpoint("GET", "/customservice/kfsession/getsession")
def kf_session_of(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    openid = st.follower(req.query.get("openid"))["openid"]
    kf_account, created = st.kf_sessions.get(openid, ("", 0))
    return {"kf_account": kf_account, "createtime": created}


@endpoint("GET", "/customservice/kfsession/getsessionlist")
def kf_session_list(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    name = req.query.get("kf_account")
    _account(st, name)
    sessions = [{"openid": o, "createtime": t} for o, (kf, t) in st.kf_sessions.items() if kf == name]
    return {"sessionlist": sessions}


@endpoint("GET", "/customservice/kfsession/getwaitcase")
def kf_waiting(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    cases = sorted(st.kf_waiting.items(), key=lambda item: item[1])
    shown = [{"openid": openid, "latest_time": latest} for openid, latest in cases[:WAITING_SHOWN]]
    return {"count": len(cases), "waitcaselist": shown}


@endpoint("POST", "/customservice/msgrecord/getmsglist")
def kf_records(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Records carry ids from 1; a page answers the id to ask from next, and 0 when nothing matched."""
    body = req.body()
    values = [body.get(key) for key in ("starttime", "endtime", "msgid", "number")]
    numbers = [value for value in values if isinstance(value, int) and not isinstance(value, bool)]
    if len(numbers) != len(values):
        raise Fault(65416, "param invalid")
    start, end, msgid, number = numbers
    if end - start > 24 * 3600:
        raise Fault(65417, "query time range is over 24 hours")
    if end <= start or msgid < 1 or not 1 <= number <= MAX_RECORDS:
        raise Fault(65416, "param invalid")
    matching = [(i, r) for i, r in enumerate(st.kf_records, 1) if i >= msgid and start <= r["time"] <= end]
    page = matching[:number]
    return {"recordlist": [r for _, r in page], "number": len(page), "msgid": page[-1][0] + 1 if page else 0}
