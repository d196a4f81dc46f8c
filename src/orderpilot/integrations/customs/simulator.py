"""The customs cross-border buyer check: is this phone a qualified (registered) buyer?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.sms_provider import national_number
from orderpilot.simulators.external.checks import (
    first_refusal,
    hub_signature_refusal,
    json_object_refusal,
)
from orderpilot.simulators.external.recorder import handle, read_body, recorder_for

NAME = "customs"
router = APIRouter()
admin_router = APIRouter()


@admin_router.post("/qualified")
async def register_qualified(request: Request) -> JSONResponse:
    _, body = await read_body(request)
    refusal = json_object_refusal(body, {"phone": str})
    if refusal:
        return JSONResponse(refusal[1], refusal[0])
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        qualified: set[str] = recorder.data.setdefault("qualified", set())
        qualified.add(national_number(body["phone"]))
        count = len(qualified)
    return JSONResponse({"registered": national_number(body["phone"]), "qualified": count})


@router.post("/api/qualification/check")
async def check(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)

    def answer() -> tuple[int, Any]:
        phone = national_number(body["phone"])
        qualified = phone in recorder.data.get("qualified", set())
        return 200, {"qualified": qualified, "reference": f"CQ-{next(recorder.serial):06d}"}

    return await handle(request, NAME, body=body, key=request.headers.get("idempotency-key"),
                        reject=lambda: first_refusal(hub_signature_refusal(request, raw),
                                                     json_object_refusal(body, {"phone": str})),
                        answer=answer)
