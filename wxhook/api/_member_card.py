"""Member cards (会员卡): activating a member, WeChat's activation form, and a member's points and balance.

A follower receives a member card like any card (a code of a ``MemberCard``), then becomes a member on activation:
by your API call (:meth:`MemberCardAPI.activate`), or through WeChat's one-step form (a card created with
``wx_activate=True``; :meth:`~MemberCardAPI.set_activation_form` sets its fields, :meth:`~MemberCardAPI.activation_info`
reads what the follower filled in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ..custom_messages import drop_none
from ._caller import Group, build, needed
from ._data import WeChatData
from ._dates import timestamp

__all__ = ["FormValue", "MemberForm", "MemberFormInfo", "MemberInfo", "MemberUpdate", "RichField"]

MAX_CUSTOM_FIELD_BYTES = 12
"""A custom field's value on the card face: 4 Chinese characters."""
_COMMON_FIELD = "USER_FORM_INFO_FLAG_"


@dataclass(frozen=True)
class FormValue(WeChatData):
    """One answer of the activation form: ``name`` is a ``USER_FORM_INFO_FLAG_*`` or your custom field's name;
    ``value_list`` holds the choices of a check-box field."""

    name: str
    value: str = ""
    value_list: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MemberFormInfo(WeChatData):
    """What a follower filled in on the activation form."""

    common_fields: list[FormValue] = field(default_factory=list)
    custom_fields: list[FormValue] = field(default_factory=list)


@dataclass(frozen=True)
class MemberInfo(WeChatData):
    """A member as ``membercard/userinfo/get`` returns them; ``form`` is what they filled in when activating."""

    openid: str = ""
    nickname: str = ""
    membership_number: str = ""
    bonus: int = 0
    balance: int = 0
    sex: str = ""
    user_card_status: str = ""
    has_active: bool = False
    form: MemberFormInfo = field(default_factory=MemberFormInfo)


@dataclass(frozen=True)
class MemberUpdate(WeChatData):
    """A member's points and balance (in fen) after an update."""

    result_bonus: int = 0
    result_balance: int = 0
    openid: str = ""


@dataclass(frozen=True)
class RichField:
    """A multiple-choice question of the activation form."""

    type: Literal["FORM_FIELD_RADIO", "FORM_FIELD_SELECT", "FORM_FIELD_CHECK_BOX"]
    name: str
    values: Sequence[str]

    def __post_init__(self) -> None:
        if not self.name or not self.values:
            raise ValueError(f"a RichField needs a name and at least one value, got {self.name!r} {list(self.values)}")


@dataclass(frozen=True)
class MemberForm:
    """The required or the optional part of the activation form: WeChat's own fields (``USER_FORM_INFO_FLAG_MOBILE``,
    ``…_NAME``, ``…_BIRTHDAY`` …), your text fields by name, and multiple-choice questions."""

    common_fields: Sequence[str] = ()
    custom_fields: Sequence[str] = ()
    rich_fields: Sequence[RichField] = ()
    can_modify: bool = False

    def __post_init__(self) -> None:
        odd = [name for name in self.common_fields if not name.startswith(_COMMON_FIELD)]
        if odd:
            raise ValueError(f"common_fields are WeChat's {_COMMON_FIELD}* names (e.g. USER_FORM_INFO_FLAG_MOBILE), "
                             f"got {odd}; put your own fields in custom_fields")
        if not (self.common_fields or self.custom_fields or self.rich_fields):
            raise ValueError("a MemberForm needs at least one field")

    def wire(self) -> dict[str, Any]:
        return {
            "can_modify": self.can_modify,
            **({"common_field_id_list": list(self.common_fields)} if self.common_fields else {}),
            **({"custom_field_list": list(self.custom_fields)} if self.custom_fields else {}),
            **({"rich_field_list": [{"type": f.type, "name": f.name, "values": list(f.values)}
                                    for f in self.rich_fields]} if self.rich_fields else {}),
        }


def _form_info(data: Mapping[str, Any]) -> MemberFormInfo:
    def values(key: str) -> list[FormValue]:
        return [build(FormValue, item) for item in data.get(key) or []]

    return build(MemberFormInfo, data, common_fields=values("common_field_list"),
                 custom_fields=values("custom_field_list"))


def _custom_values(prefix: str, values: Mapping[int, str]) -> dict[str, str]:
    """``{1: "金卡"}`` as ``{prefix + "1": "金卡"}``: the card face's three custom fields, 12 bytes each."""
    wire = {}
    for index, value in values.items():
        if index not in (1, 2, 3):
            raise ValueError(f"a member card has custom fields 1, 2 and 3, got {index}")
        if len(value.encode()) > MAX_CUSTOM_FIELD_BYTES:
            raise ValueError(f"custom field {index} is at most {MAX_CUSTOM_FIELD_BYTES} bytes (4 Chinese characters), "
                             f"got {value!r}")
        wire[f"{prefix}{index}"] = value
    return wire


def _link(name: str, link: tuple[str, str] | None) -> dict[str, Any]:
    return {} if link is None else {name: {"name": link[0], "url": link[1]}}


class MemberCardAPI(Group):
    """``client.card.member``."""

    async def activate(
        self,
        code: str,
        membership_number: str,
        *,
        card_id: str | None = None,
        init_bonus: int | None = None,
        init_bonus_record: str | None = None,
        init_balance: int | None = None,
        begin: datetime | int | None = None,
        end: datetime | int | None = None,
        background_pic_url: str | None = None,
        custom_fields: Mapping[int, str] | None = None,
    ) -> None:
        """Make the holder of ``code`` a member, numbered ``membership_number`` (shown on the card; it may equal the
        code), with starting points and balance (fen) and the card face's custom fields ``{1: "金卡"}``. ``begin`` /
        ``end`` override the card's validity for this member. Retried: activating again with the same values
        changes nothing."""
        body = {
            **_required(code=code, membership_number=membership_number),
            **drop_none(card_id=card_id, init_bonus=init_bonus, init_bonus_record=init_bonus_record,
                        init_balance=init_balance, background_pic_url=background_pic_url,
                        activate_begin_time=None if begin is None else timestamp(begin),
                        activate_end_time=None if end is None else timestamp(end)),
            **_custom_values("init_custom_field_value", custom_fields or {}),
        }
        await self._caller.post("/card/membercard/activate", body)

    async def activation_url(self, card_id: str, outer_str: str | None = None) -> str:
        """The link that opens WeChat's activation form for the card (``outer_str`` tags the channel; it comes back
        in the activation event)."""
        body = {"card_id": needed(card_id, "card_id"), **drop_none(outer_str=outer_str)}
        return str((await self._caller.post("/card/membercard/activate/geturl", body))["url"])

    async def set_activation_form(
        self,
        card_id: str,
        *,
        required: MemberForm | None = None,
        optional: MemberForm | None = None,
        service_statement: tuple[str, str] | None = None,
        bind_old_card: tuple[str, str] | None = None,
    ) -> None:
        """The fields of WeChat's activation form for a ``wx_activate`` card; ``service_statement`` and
        ``bind_old_card`` are ``(name, url)`` links shown under it."""
        if required is None and optional is None:
            raise ValueError("set_activation_form needs required= or optional= (a MemberForm)")
        body = {
            "card_id": needed(card_id, "card_id"),
            **({"required_form": required.wire()} if required else {}),
            **({"optional_form": optional.wire()} if optional else {}),
            **_link("service_statement", service_statement),
            **_link("bind_old_card", bind_old_card),
        }
        await self._caller.post("/card/membercard/activateuserform/set", body)

    async def activation_info(self, activate_ticket: str) -> MemberFormInfo:
        """What the follower filled in, from the ``activate_ticket`` WeChat adds to your page's URL after the form."""
        body = {"activate_ticket": needed(activate_ticket, "activate_ticket")}
        data = await self._caller.post("/card/membercard/activatetempinfo/get", body)
        return _form_info(data.get("info") or {})

    async def info(self, card_id: str, code: str) -> MemberInfo:
        body = _required(card_id=card_id, code=code)
        data = await self._caller.post("/card/membercard/userinfo/get", body)
        return build(MemberInfo, data, form=_form_info(data.get("user_info") or {}))

    async def update(
        self,
        card_id: str,
        code: str,
        *,
        bonus: int | None = None,
        add_bonus: int | None = None,
        record_bonus: str | None = None,
        balance: int | None = None,
        add_balance: int | None = None,
        record_balance: str | None = None,
        custom_fields: Mapping[int, str] | None = None,
        background_pic_url: str | None = None,
        notify: Mapping[str, bool] | None = None,
    ) -> MemberUpdate:
        """Change a member's points and balance (fen): ``bonus`` / ``balance`` set the totals, ``add_bonus`` /
        ``add_balance`` add (or, negative, take) an amount; with both, the ``add_`` value is the change the member's
        notice shows and the total is what the card shows. ``record_*`` is that notice's reason; ``notify``
        (``{"is_notify_bonus": False}`` …) silences some notices.

        Setting totals is retried like any call; an update with ``add_bonus`` or ``add_balance`` is not retried
        blindly, since a repeat would add twice.
        """
        changes = drop_none(bonus=bonus, add_bonus=add_bonus, record_bonus=record_bonus, balance=balance,
                            add_balance=add_balance, record_balance=record_balance,
                            background_pic_url=background_pic_url)
        changes.update(_custom_values("custom_field_value", custom_fields or {}))
        if not changes:
            raise ValueError("member.update needs a change: bonus=, add_bonus=, balance=, add_balance=, custom_fields= "
                             "or background_pic_url=")
        if notify:
            changes["notify_optional"] = dict(notify)
        body = {**_required(card_id=card_id, code=code), **changes}
        additive = add_bonus is not None or add_balance is not None
        return build(MemberUpdate, await self._caller.post("/card/membercard/updateuser", body, safe=not additive))


def _required(**values: str) -> dict[str, str]:
    return {name: needed(value, name) for name, value in values.items()}
