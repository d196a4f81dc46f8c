"""A CRM: customers found by phone number collect tags."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.adapters.connectors.sms import national_number
from orderpilot.simulators.external.checks import (
    bearer_refusal,
    first_refusal,
    hub_signature_refusal,
    json_object_refusal,
)
from orderpilot.simulators.external.recorder import handle, read_body, recorder_for

NAME = "crm"
router = APIRouter()


@router.post("/api/customers/tags")
async def push_tags(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)

    def answer() -> tuple[int, Any]:
        tags: set[str] = recorder.data.setdefault("tags", {}).setdefault(
            national_number(body["phone"]), set())
        tags.update(str(t) for t in body["tags"])
        return 200, {"ok": True, "tags": sorted(tags)}

    return await handle(request, NAME, body=body, key=request.headers.get("idempotency-key"),
                        reject=lambda: first_refusal(
                            bearer_refusal(request, SIM.crm_token),
                            hub_signature_refusal(request, raw),
                            json_object_refusal(body, {"phone": str, "tags": list})),
                        answer=answer)
