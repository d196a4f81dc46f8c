"""The Kingdee simulator's admin routes, under /_sim/kingdee (see simulator.py)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.integrations.kingdee.sim_state import NAME, json_answer, now_text, state_of
from orderpilot.simulators.external.recorder import recorder_for

admin_router = APIRouter()


@admin_router.post("/receivables")
async def add_receivables(request: Request) -> dict[str, Any]:
    body = json.loads(await request.body() or b"{}", parse_float=Decimal)
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        state = state_of(recorder)
        for item in body.get("receivables", []):
            at = datetime.fromisoformat(item["modified_at"]) if item.get("modified_at") \
                else None
            state["receivables"][item["bill_no"]] = {
                "FID": state["receivables"].get(item["bill_no"], {}).get("FID")
                or next(state["fid"]),
                "FBillNo": item["bill_no"], "FORDERNUMBER": item.get("order_no", ""),
                "FALLAMOUNTFOR": Decimal(str(item.get("amount", "0"))),
                "FWRITTENOFFSTATUS": item.get("status", "A"), "FDocumentStatus": "C",
                "FModifyDate": now_text(at)}
    return {"stored": len(body.get("receivables", []))}


@admin_router.post("/close")
async def close_receivable(request: Request) -> dict[str, Any]:
    body = await request.json()
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        found = state_of(recorder)["receivables"].get(body.get("bill_no"))
        if found is None:
            return {"ok": False}
        at = datetime.fromisoformat(body["at"]) if body.get("at") else None
        found.update(FWRITTENOFFSTATUS="C", FModifyDate=now_text(at))
    return {"ok": True}


@admin_router.post("/partial")
async def partial(request: Request) -> dict[str, Any]:
    body = await request.json()
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        state = state_of(recorder)
        state["fail"] = {str(n): body.get("reason") or "第1行分录，物料编码不存在"
                         for n in body.get("fail_bill_nos", [])}
    return {"failing": sorted(state["fail"])}


@admin_router.post("/expire_sessions")
@admin_router.post("/expire_tokens")
async def expire_sessions(request: Request) -> dict[str, Any]:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        sessions = state_of(recorder)["sessions"]
        for sid in sessions:
            sessions[sid] = "expired"
    return {"expired": len(sessions)}


@admin_router.post("/answer_style")
async def answer_style(request: Request) -> dict[str, Any]:
    body = await request.json()
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        state_of(recorder)["style"] = {k: bool(body.get(k)) for k in (
            "is_success_as_text", "omit_success_entities")}
    return {"ok": True}


@admin_router.get("/bills")
async def bills(request: Request) -> Response:
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        held = [{k: v for k, v in b.items()} for b in state_of(recorder)["bills"].values()]
    return json_answer({"bills": held})


@admin_router.post("/receivables_from_bills")
async def receivables_from_bills(request: Request) -> dict[str, Any]:
    """An open receivable for every held sale order that has none (as 下推 to 应收单 would
    make), for the demo; {"close": true} writes them off completely at once."""
    raw = await request.body()
    close = bool(json.loads(raw).get("close")) if raw else False
    recorder = recorder_for(request, NAME)
    made = []
    with recorder.lock:
        state = state_of(recorder)
        sourced = {r["FORDERNUMBER"] for r in state["receivables"].values()}
        for number, bill in state["bills"].items():
            if number in sourced:
                continue
            bill_no = f"AR{next(state['fid'])}"
            state["receivables"][bill_no] = {
                "FID": next(state["fid"]), "FBillNo": bill_no, "FORDERNUMBER": number,
                "FALLAMOUNTFOR": _amount(bill["Model"]),
                "FWRITTENOFFSTATUS": "C" if close else "A", "FDocumentStatus": "C",
                "FModifyDate": now_text()}
            made.append(bill_no)
    return {"made": made}


def _amount(model: dict[str, Any]) -> Decimal:
    total = Decimal("0")
    for entry in model.get("FSaleOrderEntry") or []:
        gross = Decimal(str(entry.get("FQty", 0))) * Decimal(str(
            entry.get("FTaxPrice", entry.get("FPrice", 0))))
        total += gross * (1 - Decimal(str(entry.get("FDiscountRate", 0))) / 100)
    return total.quantize(Decimal("0.01"))
