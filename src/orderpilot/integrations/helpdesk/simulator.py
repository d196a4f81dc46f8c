"""A helpdesk: tickets opened by the hub get an id HD-000001, HD-000002, ...

Our helpdesk contract also has the look-up by key the hub uses before a resend:
``GET /helpdesk/api/tickets?external_key=K`` -> ``{"tickets": [{"id", "status",
"external_key"}]}`` (the tickets opened with Idempotency-Key K; empty when none).
"""

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
from orderpilot.simulators.external.recorder import (
    Answer,
    handle,
    handle_look_up,
    read_body,
    recorder_for,
)

NAME = "helpdesk"
router = APIRouter()


@router.post("/api/tickets")
async def create_ticket(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)

    key = request.headers.get("idempotency-key")

    def answer() -> tuple[int, Any]:
        ticket_id = f"HD-{next(recorder.serial):06d}"
        recorder.data.setdefault("tickets", {})[ticket_id] = {**body, "_key": key}
        return 201, {"id": ticket_id, "status": "open"}

    return await handle(request, NAME, body=body, key=key,
                        reject=lambda: first_refusal(
                            bearer_refusal(request, SIM.helpdesk_token),
                            hub_signature_refusal(request, raw),
                            json_object_refusal(body, {"subject": str})),
                        answer=answer)


@router.get("/api/tickets")
async def find_tickets(request: Request) -> JSONResponse:
    raw, _ = await read_body(request)
    recorder = recorder_for(request, NAME)
    key = request.query_params.get("external_key", "")

    def answer() -> Answer:
        tickets = recorder.data.get("tickets", {})
        return 200, {"tickets": [{"id": ticket_id, "status": "open", "external_key": key}
                                 for ticket_id, ticket in tickets.items()
                                 if ticket.get("_key") == key]}

    def refusal() -> Answer | None:
        if not key:
            return 422, {"error": "external_key is required", "field": "external_key"}
        return first_refusal(bearer_refusal(request, SIM.helpdesk_token),
                             hub_signature_refusal(request, raw))

    return await handle_look_up(request, NAME, query={"external_key": key}, reject=refusal,
                                answer=answer)
