"""A helpdesk: tickets opened by the hub get an id HD-000001, HD-000002, ..."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.simulators.external.checks import (
    bearer_refusal,
    first_refusal,
    hub_signature_refusal,
    json_object_refusal,
)
from orderpilot.simulators.external.recorder import handle, read_body, recorder_for

NAME = "helpdesk"
router = APIRouter()


@router.post("/api/tickets")
async def create_ticket(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)

    def answer() -> tuple[int, Any]:
        ticket_id = f"HD-{next(recorder.serial):06d}"
        recorder.data.setdefault("tickets", {})[ticket_id] = body
        return 201, {"id": ticket_id, "status": "open"}

    return await handle(request, NAME, body=body, key=request.headers.get("idempotency-key"),
                        reject=lambda: first_refusal(
                            bearer_refusal(request, SIM.helpdesk_token),
                            hub_signature_refusal(request, raw),
                            json_object_refusal(body, {"subject": str})),
                        answer=answer)
