"""SF Express for returns: the outlet (网点) of a waybill and booking a return pickup.

Sources (SF Open Platform, 丰桥, https://open.sf-express.com; the service codes and sample
bodies as SF's official SDK ships them, ``callExpressRequest/13.reverse_order.json``, mirrored
in public SDKs: find_string ids 45179244801, 3502304160):

* ``EXP_RECE_CREATE_REVERSE_ORDER`` (退货下单 / 仓配退货下单): ``orderId`` (the client's
  unique order number), ``cargoDetails`` [{name, count, cargoSku}], ``contactInfoList`` with
  ``contactType`` 1 = the sender (here the customer, where the courier picks up) and 2 = the
  receiver (the return centre), each {contact, mobile, tel, country, province, city, county,
  address, postCode}, ``expressTypeId``, ``payMethod``, ``sendStartTm`` (the pickup time asked,
  ``yyyy-MM-dd HH:mm:ss`` Beijing time). The answer is read like EXP_RECE_CREATE_ORDER's
  (``waybillNoInfoList`` [{waybillType, waybillNo}]); not verified against a live account.
* ``EXP_RECE_SEARCH_ORDER_RESP`` (订单结果查询, https://open.sf-express.com/Api/ApiDetails?
  level3=396): {searchType "1", orderId, language}; the same ``waybillNoInfoList``. Asked before
  a resend so a pickup interrupted mid-call is booked once.
* The outlet: SF documents no outlet-code field on route nodes (see mapping.py); its outlet
  query ``EXP_RECE_QUERY_GIS_DEPARTMENT`` (网点查询) searches by address, not by waybill. The
  hub takes ``deptCode`` / ``outletCode`` of the latest route node carrying one (what SF's
  route query returns to accounts with the field enabled; the simulator sends ``deptCode``).

The pickup window is the hub's: SF takes one start time (``sendStartTm``); the window kept and
texted to the customer is that start and PICKUP_SLOT after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orderpilot.domain.times import SHANGHAI

CREATE_REVERSE_ORDER = "EXP_RECE_CREATE_REVERSE_ORDER"
SEARCH_ORDER = "EXP_RECE_SEARCH_ORDER_RESP"
PICKUP_SLOT = timedelta(hours=2)
SF_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class ReturnPickup:
    order_id: str  # the hub's key: "RT" + the return id
    customer: dict[str, Any]  # contact, mobile, address fields (the hub's names)
    centre: dict[str, Any]
    cargo: list[dict[str, Any]]  # [{sku, quantity}]
    start: datetime

    def msg_data(self) -> dict[str, Any]:
        return {"language": "zh-CN", "orderId": self.order_id,
                "cargoDetails": [{"name": str(c.get("sku") or ""),
                                  "cargoSku": str(c.get("sku") or ""),
                                  "count": int(c.get("quantity") or 1), "unit": "件"}
                                 for c in self.cargo] or [{"name": "退货", "count": 1}],
                "contactInfoList": [_contact(1, self.customer), _contact(2, self.centre)],
                "expressTypeId": 1, "payMethod": 1,
                "sendStartTm": self.start.astimezone(SHANGHAI).strftime(SF_TIME)}


def _contact(kind: int, who: dict[str, Any]) -> dict[str, Any]:
    address = who.get("address") or {}
    return {"contactType": kind, "contact": str(who.get("name") or ""),
            "mobile": str(who.get("phone") or ""), "country": str(address.get("country") or
                                                                  "CN"),
            "province": str(address.get("province") or ""),
            "city": str(address.get("city") or ""),
            "county": str(address.get("district") or ""),
            "address": str(address.get("line1") or ""),
            "postCode": str(address.get("postal_code") or "")}


@dataclass(frozen=True)
class BookedPickup:
    order_id: str
    waybill: str
    start: datetime
    end: datetime

    def dump(self) -> dict[str, Any]:
        return {"booked": True, "sf_order_id": self.order_id, "waybill": self.waybill,
                "pickup_start": self.start.isoformat(), "pickup_end": self.end.isoformat()}


def booked(result: Any, pickup_start: datetime | None, order_id: str) -> BookedPickup:
    """The waybill and window from a create or search answer's business result."""
    msg = result.get("msgData") if isinstance(result, dict) else None
    msg = msg if isinstance(msg, dict) else {}
    numbers = msg.get("waybillNoInfoList") or []
    waybill = next((str(n.get("waybillNo")) for n in numbers
                    if isinstance(n, dict) and n.get("waybillNo")), "")
    start = pickup_start
    if isinstance(msg.get("sendStartTm"), str):
        start = datetime.strptime(msg["sendStartTm"], SF_TIME).replace(tzinfo=SHANGHAI)
    if not waybill or start is None:
        raise ValueError("the answer has no waybill number or pickup time")
    return BookedPickup(str(msg.get("orderId") or order_id), waybill, start,
                        start + PICKUP_SLOT)


def outlet_from_routes(result: Any) -> str | None:
    msg = result.get("msgData") if isinstance(result, dict) else None
    resps = msg.get("routeResps") if isinstance(msg, dict) else None
    found = None
    for resp in resps if isinstance(resps, list) else []:
        for node in (resp.get("routes") or []) if isinstance(resp, dict) else []:
            code = isinstance(node, dict) and (node.get("deptCode") or node.get("outletCode"))
            if code:
                found = str(code).strip()[:100]
    return found or None
