"""Return routing (S7): return centres (退货中心), the versioned return policy (carrier outlet
网点 -> return centre), and why a return could not be routed.

A return is never sent to a default address: when a step cannot be done the route says
``decision_required`` with one of the reasons below, in both languages, and ops decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orderpilot.domain.rules.problems import Problem, Problems, RuleInvalid
from orderpilot.domain.times import SHANGHAI

ADDRESS_FIELDS = ("country", "province", "city", "district", "line1", "postal_code")
CODE_MAX = 64
TEXT_MAX = 200
MAX_POLICY_ROWS = 5000


class ReturnPolicyInvalid(RuleInvalid):
    """A return centre or a policy table that cannot be saved; names every row and field."""

    code = "return_policy_invalid"

    def __init__(self, problems: list[Problem], what: str, *, zh: str) -> None:
        super().__init__(problems, what)
        self.zh = f"{zh}：{(self.zh or '').split('：', 1)[-1]}"


@dataclass(frozen=True)
class ReturnCentre:
    code: str
    name_zh: str
    name_en: str
    address: dict[str, str]
    phone: str

    def dump(self) -> dict[str, Any]:
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "address": dict(self.address), "phone": self.phone}


@dataclass(frozen=True)
class PolicyRow:
    outlet_code: str
    return_centre: str


def _text(value: Any, where: str, problems: Problems, *, required: bool = True,
          limit: int = TEXT_MAX) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        problems.add(where, "must be text", "应为文本")
    elif required and not text:
        problems.add(where, "is required", "必填")
    elif len(text) > limit:
        problems.add(where, f"at most {limit} characters", f"最多 {limit} 个字符")
    return text


def return_centre(code: str, body: dict[str, Any]) -> ReturnCentre:
    """A centre from its API body; every problem at once (ReturnPolicyInvalid)."""
    problems = Problems()
    code = _text(code, "code", problems, limit=CODE_MAX)
    address = body.get("address")
    if not isinstance(address, dict):
        problems.add("address", "must be an object with " + ", ".join(ADDRESS_FIELDS),
                     "应为包含 " + "、".join(ADDRESS_FIELDS) + " 的对象")
        address = {}
    kept = {f: _text(address.get(f), f"address.{f}", problems,
                     required=f in ("country", "province", "city", "line1"))
            for f in ADDRESS_FIELDS}
    for extra in sorted(set(address) - set(ADDRESS_FIELDS)):
        problems.add(f"address.{extra}", "is not an address field", "不是地址字段")
    centre = ReturnCentre(code, _text(body.get("name_zh"), "name_zh", problems),
                          _text(body.get("name_en"), "name_en", problems), kept,
                          _text(body.get("phone"), "phone", problems, limit=32))
    if problems:
        raise ReturnPolicyInvalid(problems.items, "the return centre", zh="退货中心")
    return centre


def policy_rows(rows: list[dict[str, Any]], centres: set[str],
                where: str = "rows") -> list[PolicyRow]:
    """The policy table checked whole: an outlet mapped twice or to an unknown centre names
    its rows; nothing is written unless every row is right."""
    problems = Problems()
    if len(rows) > MAX_POLICY_ROWS:
        problems.add(where, f"at most {MAX_POLICY_ROWS} rows", f"最多 {MAX_POLICY_ROWS} 行")
    first_row: dict[str, int] = {}
    kept = []
    for i, row in enumerate(rows):
        at = f"{where}[{i}]"
        if not isinstance(row, dict):
            problems.add(at, "must be an object {outlet_code, return_centre}",
                         "应为对象 {outlet_code, return_centre}")
            continue
        outlet = _text(row.get("outlet_code"), f"{at}.outlet_code", problems, limit=CODE_MAX)
        centre = _text(row.get("return_centre"), f"{at}.return_centre", problems,
                       limit=CODE_MAX)
        if outlet and outlet in first_row:
            problems.add(f"{at}.outlet_code",
                         f"outlet {outlet} is already mapped in {where}[{first_row[outlet]}]",
                         f"网点 {outlet} 已在 {where}[{first_row[outlet]}] 中映射")
        elif outlet:
            first_row[outlet] = i
        if centre and centre not in centres:
            problems.add(f"{at}.return_centre", f"unknown return centre {centre}",
                         f"未知的退货中心 {centre}")
        kept.append(PolicyRow(outlet, centre))
    if problems:
        raise ReturnPolicyInvalid(problems.items, "the return policy", zh="退货政策")
    return kept


@dataclass(frozen=True)
class RouteException:
    reason: str
    message_zh: str
    message_en: str

    def dump(self) -> dict[str, str]:
        return {"reason": self.reason, "message_zh": self.message_zh,
                "message_en": self.message_en}


def route_exception(reason: str, **values: str) -> RouteException:
    zh, en = EXCEPTION_TEXTS[reason]
    return RouteException(reason, zh.format(**values), en.format(**values))


# Why a return needs a person: (zh, en), with {outlet}, {centre}, {carrier}, {detail}.
EXCEPTION_TEXTS: dict[str, tuple[str, str]] = {
    "no_shipment": ("订单没有发货记录，无法确定退货网点，请人工决定退货地址",
                    "The order has no shipment, so no outlet: decide the return address"),
    "no_outlet": ("运单 {detail} 没有承运商网点信息（{carrier}），请人工决定退货地址",
                  "Waybill {detail} has no carrier outlet ({carrier}): decide the return "
                  "address"),
    "no_policy_row": ("退货政策中没有网点 {outlet} 对应的退货中心，请补充政策或人工决定",
                      "The return policy has no row for outlet {outlet}: add one or decide"),
    "unknown_centre": ("退货政策指向的退货中心 {centre} 不存在，请维护退货中心",
                       "The policy names return centre {centre}, which does not exist"),
    "carrier_refused": ("承运商拒绝预约上门取件：{detail}",
                        "The carrier refused the pickup booking: {detail}"),
}
HOLD_REASON = "return_decision_required"
# Recorded on the order when a person decides a return that needed it (services/returns_routing
# /decisions.py); the rule template return-route-decided books the pickup and texts the buyer.
ROUTE_DECIDED = "return.route_decided"


@dataclass(frozen=True)
class LastShipment:
    """The order's last waybill and the outlet recorded for it, if any."""

    carrier: str
    tracking_number: str
    outlet_code: str | None


@dataclass(frozen=True)
class RouteDecision:
    """Where a return goes, or why a person must decide (then ``exception`` is set)."""

    outlet_code: str | None
    centre: ReturnCentre | None
    policy_version: int | None
    exception: RouteException | None

    @property
    def decision_required(self) -> bool:
        return self.exception is not None


def decide(shipment: LastShipment | None, outlet: str | None, policy_version: int | None,
           centre_code: str | None, centre: ReturnCentre | None) -> RouteDecision:
    """The route from what was found: the first missing link is the reason."""
    if shipment is None:
        return RouteDecision(None, None, policy_version, route_exception("no_shipment"))
    if not outlet:
        return RouteDecision(None, None, policy_version, route_exception(
            "no_outlet", carrier=shipment.carrier, detail=shipment.tracking_number))
    if centre_code is None:
        return RouteDecision(outlet, None, policy_version,
                             route_exception("no_policy_row", outlet=outlet))
    if centre is None:
        return RouteDecision(outlet, None, policy_version,
                             route_exception("unknown_centre", centre=centre_code))
    return RouteDecision(outlet, centre, policy_version, None)


def pickup_start(now: datetime) -> datetime:
    """The pickup the hub asks for: the next full hour at least two hours away, between 09:00
    and 16:00 Beijing time (a two-hour window ending by 18:00), else 09:00 the next day."""
    local = (now + timedelta(hours=2)).astimezone(SHANGHAI)
    start = local.replace(minute=0, second=0, microsecond=0)
    if start < local:
        start += timedelta(hours=1)
    if start.hour < 9:
        start = start.replace(hour=9)
    elif start.hour > 16:
        start = (start + timedelta(days=1)).replace(hour=9)
    return start


def window_text(start: datetime, end: datetime) -> str:
    """``12月03日 09:00-11:00`` in Beijing time, for the SMS."""
    a, b = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    return f"{a:%m月%d日 %H:%M}-{b:%H:%M}"


def address_text(address: dict[str, Any]) -> str:
    return "".join(str(address.get(f) or "") for f in ("province", "city", "district", "line1"))
