"""The Shopee simulator's returns (v2 module 102, see return_client.py for the wire facts):
get_return_list paged by ``page_no`` with the 15-day update-time limit, get_return_detail,
and confirm (REQUESTED / PROCESSING -> ACCEPTED), each behind the same signature, partner,
timestamp and token checks as the order APIs (simulator.py ``_serve``).

Test controls, at /_sim/shopee:

    POST /returns          {"returns": [<get_return_detail response>, ...]} -> {"stored": n}
    POST /return_status    {"return_sn", "status"}  (update_time becomes now)
    POST /refuse_confirm   {"return_sn", "message"}  confirm answers this error from now on
    POST /push_return      {"hook_url", "return_sn", "times"?}  the order goes TO_RETURN and
                           its signed order status push (code 3) is sent
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from orderpilot.adapters.channels.base import read_json
from orderpilot.integrations.shopee.return_client import (
    CONFIRM_PATH,
    RETURN_DETAIL_PATH,
    RETURN_LIST_PATH,
)
from orderpilot.integrations.shopee.signing import push_signature
from orderpilot.integrations.shopee.sim_admin import _send
from orderpilot.integrations.shopee.sim_state import (
    NAME,
    SIM_CREDENTIALS,
    Answer,
    error,
    json_answer,
    ok,
    push_body,
    state,
)
from orderpilot.integrations.shopee.simulator import MAX_RANGE_S, _serve
from orderpilot.simulators.external.recorder import recorder_for

router = APIRouter()
admin = APIRouter()
CONFIRMABLE = ("REQUESTED", "PROCESSING")


def _returns(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = data.setdefault("returns", {})
    return found


@router.get(RETURN_LIST_PATH)
async def get_return_list(request: Request) -> Response:
    q = request.query_params

    def answer(data: dict[str, Any], _: Any) -> Answer:
        try:
            page_no, size = int(q.get("page_no", "")), int(q.get("page_size", ""))
            start = int(q.get("update_time_from", "0"))
            end = int(q.get("update_time_to", str(int(time.time()))))
        except ValueError:
            return error(400, "error_param", "parameter invalid")
        if not 1 <= size <= 100 or page_no < 0:
            return error(400, "error_param", "Wrong parameters, detail: page_size.")
        if start > end or end - start > MAX_RANGE_S:
            return error(400, "error_param", "Wrong parameters, detail: the update time range "
                                             "must be within 15 days.")
        found = sorted((r for r in _returns(data).values()
                        if start <= int(r["update_time"]) <= end),
                       key=lambda r: (int(r["update_time"]), str(r["return_sn"])))
        page = found[page_no * size:(page_no + 1) * size]
        return ok({"response": {"more": (page_no + 1) * size < len(found),
                                "return": [dict(r) for r in page]}})

    return await _serve(request, RETURN_LIST_PATH, True, answer)


@router.get(RETURN_DETAIL_PATH)
async def get_return_detail(request: Request) -> Response:
    return_sn = request.query_params.get("return_sn", "")

    def answer(data: dict[str, Any], _: Any) -> Answer:
        found = _returns(data).get(return_sn)
        if found is None:
            return error(400, "error_param", "Return SN or ID is invalid.")
        return ok({"response": dict(found)})

    return await _serve(request, RETURN_DETAIL_PATH, True, answer)


@router.post(CONFIRM_PATH)
async def confirm(request: Request) -> Response:
    def answer(data: dict[str, Any], body: Any) -> Answer:
        return_sn = str(body.get("return_sn") or "") if isinstance(body, dict) else ""
        found = _returns(data).get(return_sn)
        if found is None:
            return error(400, "error_param", "Return SN or ID is invalid.")
        refusal = data.setdefault("refuse_confirm", {}).get(return_sn)
        if refusal:
            return error(400, "error_param", refusal)
        if found["status"] not in CONFIRMABLE:
            return error(400, "error_param", f"The return is {found['status']} and cannot "
                                             f"be confirmed.")
        found["status"] = "ACCEPTED"
        found["update_time"] = int(time.time())
        return ok({"response": {"return_sn": return_sn}})

    return await _serve(request, CONFIRM_PATH, True, answer)


async def _body(request: Request) -> dict[str, Any]:
    body = read_json(await request.body() or b"{}", "body")
    return body if isinstance(body, dict) else {}


@admin.post("/returns")
async def put_returns(request: Request) -> dict[str, Any]:
    body = await _body(request)
    recorder = recorder_for(request, NAME)
    stored = 0
    with recorder.lock:
        returns = _returns(state(recorder))
        for raw in body.get("returns") or ():
            if isinstance(raw, dict) and raw.get("return_sn"):
                returns[str(raw["return_sn"])] = dict(raw)
                stored += 1
    return {"stored": stored}


@admin.post("/return_status")
async def return_status(request: Request) -> Response:
    body = await _body(request)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        found = _returns(state(recorder)).get(str(body.get("return_sn")))
        if found is None:
            return json_answer((404, {"error": "no such return", "field": "return_sn"}))
        found["status"] = str(body.get("status"))
        found["update_time"] = int(time.time())
    return json_answer((200, {"ok": True}))


@admin.post("/refuse_confirm")
async def refuse_confirm(request: Request) -> dict[str, Any]:
    body = await _body(request)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        state(recorder).setdefault("refuse_confirm", {})[str(body.get("return_sn"))] = str(
            body.get("message") or "The return cannot be confirmed.")
    return {"ok": True}


@admin.post("/push_return")
def push_return(request: Request, spec: dict[str, Any]) -> Response:
    """The return's order goes TO_RETURN; Shopee's signed order status push for it is sent."""
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        data = state(recorder)
        found = _returns(data).get(str(spec.get("return_sn")))
        order = data["orders"].get(str(found["order_sn"])) if found else None
        if order is not None:
            order["order_status"] = "TO_RETURN"
            order["update_time"] = int(time.time())
            data["version"] += 1
        body = push_body(order) if order is not None else b""
    if order is None:
        return json_answer((404, {"error": "no such return or order", "field": "return_sn"}))
    url = str(spec["hook_url"])
    headers = {"Authorization": push_signature(SIM_CREDENTIALS["partner_key"], url, body),
               "Content-Type": "application/json"}
    return _send(url, body, headers, int(spec.get("times") or 1))
