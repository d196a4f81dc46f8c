"""The simulator's return pickups: EXP_RECE_CREATE_REVERSE_ORDER books one per orderId (a
second call with the same orderId answers the first booking, unchanged) and
EXP_RECE_SEARCH_ORDER_RESP finds it by orderId (business error 8018 when there is none, the
simulator's code). Pickups from a refused phone get business error 1010 (the simulator's).
Field names: see returns.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import Request

from orderpilot.integrations.sf_express.returns import CREATE_REVERSE_ORDER, SEARCH_ORDER
from orderpilot.simulators.external.recorder import Recorder, recorder_for

SERVICES = frozenset({CREATE_REVERSE_ORDER, SEARCH_ORDER})


def _answer(success: bool, code: str, message: str | None, msg: Any) -> dict[str, Any]:
    data = {"success": success, "errorCode": code, "errorMsg": message, "msgData": msg}
    return {"apiResultCode": "A1000", "apiErrorMsg": "",
            "apiResponseID": uuid.uuid4().hex.upper(),
            "apiResultData": json.dumps(data, ensure_ascii=False)}


def booked(recorder: Recorder) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = recorder.data.setdefault("pickups", {})
    return found


def answer(recorder: Recorder, service: str, msg: Any) -> dict[str, Any]:
    order_id = str(msg.get("orderId") or "") if isinstance(msg, dict) else ""
    if not order_id:
        return _answer(False, "8013", "orderId 不能为空", None)
    with recorder.lock:
        pickups = booked(recorder)
        if service == SEARCH_ORDER:
            found = pickups.get(order_id)
            return _answer(True, "S0000", None, found) if found else \
                _answer(False, "8018", "未找到订单", None)
        if order_id in pickups:
            return _answer(True, "S0000", None, pickups[order_id])
        contacts = msg.get("contactInfoList") or []
        sender = next((c for c in contacts if isinstance(c, dict)
                       and c.get("contactType") == 1), None)
        if sender is None or not sender.get("address") or not msg.get("sendStartTm"):
            return _answer(False, "1001", "寄件人地址或上门时间缺失", None)
        if sender.get("mobile") in recorder.data.setdefault("refused_mobiles", set()):
            return _answer(False, "1010", "该地址暂不支持上门取件", None)
        pickups[order_id] = {
            "orderId": order_id, "sendStartTm": msg["sendStartTm"],
            "waybillNoInfoList": [{"waybillType": 1,
                                   "waybillNo": f"SF7{next(recorder.serial):011d}"}],
            "request": msg}
        return _answer(True, "S0000", None, pickups[order_id])


async def refuse(request: Request) -> dict[str, Any]:
    body = await request.json()
    recorder = recorder_for(request, "sf_express")
    with recorder.lock:
        recorder.data.setdefault("refused_mobiles", set()).add(str(body["mobile"]))
    return {"refused": str(body["mobile"])}


def reset(recorder: Recorder) -> None:
    recorder.data["pickups"] = {}
    recorder.data["refused_mobiles"] = set()
