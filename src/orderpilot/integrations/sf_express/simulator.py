"""A loopback SF Express (顺丰丰桥): the route query endpoint and route pushes to the hub.

    POST /sf_express/std/service   form: partnerID, requestID, serviceCode, timestamp,
                                   msgDigest, msgData (EXP_RECE_SEARCH_ROUTES; the
                                   return pickups of simulator_pickups.py)

The msgDigest is checked with SIM_CREDENTIALS (A1006 when wrong, A1001 when a field is
missing, A1004 for another partner or service); more than 10 numbers get business error 8003.
A queued fault with status 429 answers SF's rate-limit code A1005 (HTTP 200, as SF answers);
5xx answers that status; ``delay_ms`` slows the answer; ``hold_ms`` acts, records, then keeps
the caller waiting (a hub killed meanwhile does not know the outcome).

Admin (``/_sim/sf_express``), JSON in and out:

    POST /routes     {"waybill", "routes": [{"opCode", "acceptTime"?, "acceptAddress"?,
                      "remark"?, "deptCode"?}]}    -> {"stored": n} (nodes appended)
    POST /pickup_refusals {"mobile"}              -> pickups from that phone are refused
    POST /push       {"hook_url", "waybill", "times"?: 1, "all"?: false}
                     -> {"status", "body", "elapsed_ms", "pushed": n}: SF's route push of the
                        nodes not pushed yet (all of them with "all"), signed, POSTed `times`
    POST /push_raw   {"hook_url", "body", "headers"?}  -> {"status", "body", "elapsed_ms"}

The push is sent as SF's unified-platform envelope (form fields as in a call, serviceCode
``RoutePushService``, msgData = ``{"Body": {"WaybillRoute": [...]}}``, signed with msgDigest);
see carrier_hooks.py for why.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.domain.times import SHANGHAI
from orderpilot.integrations.sf_express import simulator_pickups as pickups
from orderpilot.integrations.sf_express.signing import digest_matches, msg_digest
from orderpilot.simulators.external.recorder import (
    Recorder,
    entry_for,
    parse_body,
    recorder_for,
)

NAME = "sf_express"
SIM_CREDENTIALS: dict[str, str] = {"partner_id": "SIMSF0001",
                                   "checkword": "simSfCheckword0123456789abcdefXY"}
SIM_SHOP_ID = "SIMSF0001"
SIM_REGION = "CN"
PUSH_SERVICE = "RoutePushService"
SERVICES = frozenset({"EXP_RECE_SEARCH_ROUTES", *pickups.SERVICES})
router = APIRouter()
admin_router = APIRouter()
push_transport: httpx.BaseTransport | None = None  # tests send pushes into an in-process hub


def _platform(code: str, message: str, data: Any = None) -> dict[str, Any]:
    return {"apiResultCode": code, "apiErrorMsg": message,
            "apiResponseID": uuid.uuid4().hex.upper(),
            "apiResultData": None if data is None else json.dumps(data, ensure_ascii=False)}


def _business(success: bool, code: str, message: str | None, msg: Any) -> dict[str, Any]:
    return _platform("A1000", "", {"success": success, "errorCode": code, "errorMsg": message,
                                   "msgData": msg})


def _routes(recorder: Recorder) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = recorder.data.setdefault("routes", {})
    return found


@router.post("/std/service")
async def service(request: Request) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    raw = await request.body()
    form = parse_body(raw, request.headers.get("content-type", ""))
    fault = recorder.take_fault()
    if fault is not None:
        await asyncio.sleep(fault.delay_ms / 1000)
        if fault.status == 429:
            return JSONResponse(_platform("A1005", "流量超限"))
        if fault.status is not None:
            return JSONResponse({"error": "simulated SF fault"}, fault.status)
    with recorder.lock:
        recorder.records.append({**entry_for(request, form), "idempotency_key": None,
                                 "deliveries": 1, "status_code": 200})
    answer = _answer(recorder, form if isinstance(form, dict) else {})
    if fault is not None and fault.hold_ms:  # done and recorded; the caller is kept waiting
        await asyncio.sleep(fault.hold_ms / 1000)
    return JSONResponse(answer)


def _answer(recorder: Recorder, form: dict[str, str]) -> dict[str, Any]:
    needed = ("partnerID", "requestID", "serviceCode", "timestamp", "msgDigest", "msgData")
    if any(not form.get(k) for k in needed):
        return _platform("A1001", "必填参数不能为空")
    if form["partnerID"] != SIM_CREDENTIALS["partner_id"]:
        return _platform("A1004", "无对应服务权限")
    if not digest_matches(form["msgData"], form["timestamp"], SIM_CREDENTIALS["checkword"],
                          form["msgDigest"]):
        return _platform("A1006", "数字签名无效")
    if form["serviceCode"] not in SERVICES:
        return _platform("A1004", "无对应服务权限")
    try:
        msg = json.loads(form["msgData"])
    except ValueError:
        return _platform("A1001", "msgData 不是 JSON")
    if form["serviceCode"] != "EXP_RECE_SEARCH_ROUTES":
        return pickups.answer(recorder, form["serviceCode"], msg)
    numbers = msg.get("trackingNumber") if isinstance(msg, dict) else None
    if isinstance(numbers, str):
        numbers = [n for n in numbers.split(",") if n]
    if not numbers:
        return _business(False, "8013", "未传入查询单号", None)
    if len(numbers) > 10:
        return _business(False, "8003", "查询单号超过最大限制", None)
    routes = _routes(recorder)
    with recorder.lock:
        resps = [{"mailNo": n, "routes": [_query_node(r) for r in routes.get(str(n), [])]}
                 for n in numbers]
    return _business(True, "S0000", None, {"routeResps": resps})


def _query_node(node: dict[str, Any]) -> dict[str, Any]:
    kept = {k: node[k] for k in ("acceptTime", "acceptAddress", "remark", "opCode")}
    if node.get("deptCode"):
        kept["deptCode"] = node["deptCode"]
    return kept


@admin_router.post("/routes")
async def add_routes(request: Request) -> dict[str, Any]:
    body = await request.json()
    recorder = recorder_for(request, NAME)
    waybill = str(body["waybill"])
    with recorder.lock:
        nodes = _routes(recorder).setdefault(waybill, [])
        for node in body.get("routes", []):
            at = node.get("acceptTime") or datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
            nodes.append({"acceptTime": at, "acceptAddress": node.get("acceptAddress", ""),
                          "remark": node.get("remark", ""), "opCode": str(node["opCode"]),
                          "deptCode": str(node.get("deptCode") or ""),
                          "id": str(next(recorder.serial)), "reasonCode": "",
                          "reasonName": "", "pushed": False})
    return {"stored": len(body.get("routes", []))}


def push_form(waybill: str, nodes: list[dict[str, Any]],
              credentials: dict[str, str] = SIM_CREDENTIALS,
              timestamp: int | None = None) -> dict[str, str]:
    """SF's route push for WAYBILL's NODES as the signed form fields."""
    body = {"Body": {"WaybillRoute": [
        {"mailno": waybill, "orderid": "", "acceptTime": n["acceptTime"],
         "acceptAddress": n["acceptAddress"], "remark": n["remark"], "opCode": n["opCode"],
         "id": n["id"], "reasonCode": n.get("reasonCode", ""),
         "reasonName": n.get("reasonName", "")} for n in nodes]}}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    stamp = str(timestamp if timestamp is not None else int(time.time() * 1000))
    return {"partnerID": credentials["partner_id"], "requestID": str(uuid.uuid4()),
            "serviceCode": PUSH_SERVICE, "timestamp": stamp,
            "msgDigest": msg_digest(text, stamp, credentials["checkword"]), "msgData": text}


def _send(hook_url: str, times: int, **request: Any) -> dict[str, Any]:
    status, text, started = 0, "", time.perf_counter()
    with httpx.Client(transport=push_transport, timeout=10) as client:
        for _ in range(max(1, times)):
            response = client.post(hook_url, **request)
            status, text = response.status_code, response.text
    return {"status": status, "body": text,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 2)}


@admin_router.post("/push")
def push(request: Request, body: dict[str, Any]) -> JSONResponse:
    recorder = recorder_for(request, NAME)
    waybill = str(body["waybill"])
    with recorder.lock:
        nodes = [n for n in _routes(recorder).get(waybill, [])
                 if body.get("all") or not n["pushed"]]
    if not nodes:
        return JSONResponse({"error": f"no route nodes to push for {waybill}"}, 404)
    sent = _send(str(body["hook_url"]), int(body.get("times", 1)),
                 data=push_form(waybill, nodes))
    if sent["status"] == 200 and '"0000"' in sent["body"]:
        with recorder.lock:
            for node in nodes:
                node["pushed"] = True
    return JSONResponse({**sent, "pushed": len(nodes)})


@admin_router.post("/push_raw")
def push_raw(body: dict[str, Any]) -> dict[str, Any]:
    return _send(str(body["hook_url"]), 1, content=str(body["body"]).encode(),
                 headers=body.get("headers") or {})


def reset(recorder: Recorder) -> None:
    recorder.data["routes"] = {}
    pickups.reset(recorder)


def timeline(start: datetime, waybill: str) -> list[dict[str, str]]:
    """A realistic route of WAYBILL from START (Beijing time): picked up to signed for."""
    steps = [("50", "深圳市", "顺丰速运 已收取快件"),
             ("30", "深圳市", "快件在【深圳宝安集散中心】完成分拣,准备发往下一站"),
             ("31", "宁波市", "快件到达【宁波北仑营业点】"),
             ("44", "宁波市", "快件交给张师傅,正在派送途中"),
             ("80", "宁波市", "已签收,感谢使用顺丰,期待再次为您服务")]
    at = start.astimezone(SHANGHAI)
    return [{"opCode": code, "acceptAddress": city, "remark": remark,
             "acceptTime": (at + timedelta(hours=6 * i)).strftime("%Y-%m-%d %H:%M:%S")}
            for i, (code, city, remark) in enumerate(steps)]


admin_router.add_api_route("/pickup_refusals", pickups.refuse, methods=["POST"])
