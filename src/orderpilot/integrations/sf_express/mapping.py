"""SF Express route nodes (路由节点) as hub carrier events.

Format facts and where they come from:

* Route query ``EXP_RECE_SEARCH_ROUTES`` (路由查询接口): msgData
  ``{"language", "trackingType": 1 (SF waybill numbers), "trackingNumber": [...],
  "methodType": 1}`` (fields and meanings: mr-xiaoyu's SF Java SDK,
  ``club/mrxiao/sf/bean/routes/SearchRoutesRequest.java``; error 8003 "at most 10 numbers per
  query" in the SF-Express API overview, a copy of SF's English docs kept in a public
  repository, find_string id 204237361). The answer's apiResultData is a JSON *string*:
  ``{"success", "errorCode": "S0000", "errorMsg", "msgData": {"routeResps": [{"mailNo",
  "routes": [{"acceptTime", "acceptAddress", "remark", "opCode"}]}]}}`` (read the same way by
  the Eagle1 tracker's ``sfex.ts`` and maomaolulu/sys-java
  ``src/main/java/may/yuntian/external/express/sf/constant/SFConstants.java``: A1000 / S0000).
* Route push ``RoutePushService`` (路由推送接口, https://www.showdoc.com.cn/hnqiao/9157102515696868):
  up to 10 ``WaybillRoute`` elements, each ``{"mailno", "orderid", "acceptTime",
  "acceptAddress", "remark", "opCode", "id", "reasonCode", "reasonName"}`` under
  ``{"Body": {"WaybillRoute": [...]}}``; the receiver answers ``{"return_code": "0000",
  "return_msg": "成功"}`` (``"1000"`` = failed, SF pushes again). Incremental: one node is pushed
  once, but SF retries until it gets 0000, so duplicates happen.
* ``acceptTime`` is a zone-less Beijing time "2024-10-26 06:12:43" (Eagle1 ``sfex.ts`` appends
  +08:00).
* opCodes: 50/54 picked up (收件); 30/31/36/105/106/310/302/305/204/634 on the way; 44 out for
  delivery (派送中); 125/642 in a locker or station awaiting pickup; 80/8000 signed for
  (签收); 70 delivery failed. From Eagle1 ``sfex.ts`` (statusCodeMap) and the SFTRACKINGLITE
  webhook notes (find_string "secondaryStatusCode", id 60251738450). **SF publishes no
  complete opCode table openly**: any other code is kept as ``system.status`` with status
  ``sf:<opCode>``, never dropped, never guessed into a move.
* The outlet (网点): neither the route query nor the push carries a documented outlet-code
  field. SF writes the scanning outlet or centre into the remark in 【】 brackets ("快件到达
  【深圳宝安集散中心】"); that name is recorded as ``outlet`` (with ``accept_address``), and a
  ``deptCode``/``outletCode`` field is taken when present. Not verified against SF's own table.
"""

from __future__ import annotations

import re
from typing import Any

from orderpilot.domain.channel_orders import local, unmappable
from orderpilot.domain.shipments import (
    DELIVERED,
    IN_TRANSIT,
    SHIPPED,
    STATUS_ONLY,
    CarrierEvent,
    event_data,
)

CARRIER = "sf"
ZONE = "Asia/Shanghai"
MAX_WAYBILLS_PER_QUERY = 10

# opCode -> (hub event type, status word in the carrier's view)
OP_CODES: dict[str, tuple[str, str]] = {
    **{c: (SHIPPED, "picked_up") for c in ("50", "54")},
    **{c: (IN_TRANSIT, "in_transit")
       for c in ("30", "31", "36", "105", "106", "310", "302", "305", "204", "634")},
    "44": (IN_TRANSIT, "out_for_delivery"),
    **{c: (IN_TRANSIT, "awaiting_pickup") for c in ("125", "642")},
    **{c: (DELIVERED, "delivered") for c in ("80", "8000")},
    "70": (STATUS_ONLY, "delivery_failed"),
}
_BRACKETED = re.compile(r"【([^】]{1,80})】")


def _text(node: dict[str, Any], key: str) -> str:
    value = node.get(key)
    return "" if value is None else str(value).strip()


def route_event(waybill: str, node: object, where: str) -> CarrierEvent:
    """One route node of WAYBILL; WHERE is its field path for error messages."""
    if not isinstance(node, dict):
        raise unmappable(where, f"{where} is not an object", f"{where} 不是对象")
    op_code = _text(node, "opCode")
    if not op_code:
        raise unmappable(f"{where}.opCode", f"{where}.opCode is missing",
                         f"{where}.opCode 缺失")
    raw_time = _text(node, "acceptTime")
    occurred_at = local(raw_time, ZONE, f"{where}.acceptTime")
    event_type, status = OP_CODES.get(op_code, (STATUS_ONLY, f"sf:{op_code}"))
    remark = _text(node, "remark")
    bracketed = _BRACKETED.search(remark)
    outlet = _text(node, "outletCode") or _text(node, "deptCode") \
        or (bracketed.group(1) if bracketed else "")
    data = event_data(waybill, CARRIER, status, op_code=op_code,
                      accept_address=_text(node, "acceptAddress"), outlet=outlet,
                      remark=remark, reason_code=_text(node, "reasonCode"),
                      reason_name=_text(node, "reasonName"), route_id=_text(node, "id"),
                      accept_time=raw_time)
    return CarrierEvent(waybill, CARRIER, event_type, occurred_at,
                        f"{waybill}:{op_code}:{raw_time}", data)


def _waybill(value: object, where: str) -> str:
    number = "" if value is None else str(value).strip()
    if not number or len(number) > 64:
        raise unmappable(where, f"{where} is not a waybill number: {number[:40]!r}",
                         f"{where} 不是运单号：{number[:40]!r}")
    return number


def routes_from_query(result: object) -> list[CarrierEvent]:
    """The events in a route query's business result (apiResultData, already parsed)."""
    msg = result.get("msgData") if isinstance(result, dict) else None
    resps = msg.get("routeResps") if isinstance(msg, dict) else None
    if not isinstance(resps, list):
        raise unmappable("msgData.routeResps", "the route answer has no routeResps list",
                         "路由查询结果缺少 routeResps 列表")
    events = []
    for i, resp in enumerate(resps):
        where = f"msgData.routeResps[{i}]"
        if not isinstance(resp, dict):
            raise unmappable(where, f"{where} is not an object", f"{where} 不是对象")
        waybill = _waybill(resp.get("mailNo"), f"{where}.mailNo")
        routes = resp.get("routes") or []
        if not isinstance(routes, list):
            raise unmappable(f"{where}.routes", f"{where}.routes is not a list",
                             f"{where}.routes 不是列表")
        events += [route_event(waybill, node, f"{where}.routes[{j}]")
                   for j, node in enumerate(routes)]
    return events


def routes_from_push(body: object) -> list[CarrierEvent]:
    """The events of one route push body ``{"Body": {"WaybillRoute": [...]}}``."""
    inner = body.get("Body") if isinstance(body, dict) else None
    nodes = inner.get("WaybillRoute") if isinstance(inner, dict) else None
    if isinstance(nodes, dict):  # one element, as XML-to-JSON converters write it
        nodes = [nodes]
    if not isinstance(nodes, list) or not nodes:
        raise unmappable("Body.WaybillRoute", "the push has no Body.WaybillRoute list",
                         "推送缺少 Body.WaybillRoute 列表")
    events = []
    for i, node in enumerate(nodes):
        where = f"Body.WaybillRoute[{i}]"
        number = node.get("mailno") if isinstance(node, dict) else None
        events.append(route_event(_waybill(number, f"{where}.mailno"), node, where))
    return events
