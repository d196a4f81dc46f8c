"""ACME's WMS on the loopback simulator (`orderpilot sim serve` mounts it at /acme_wms)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from acme_wms.settings import SIM_TOKEN
from orderpilot.simulators.external.checks import (
    bearer_refusal,
    first_refusal,
    hub_signature_refusal,
    json_object_refusal,
)
from orderpilot.simulators.external.recorder import handle, read_body, recorder_for

NAME = "acme_wms"  # the integration's name: its recorder and its path
router = APIRouter()


@router.post("/api/reservations")
async def reserve(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)

    def answer() -> tuple[int, Any]:
        return 201, {"reservation_id": f"R-{next(recorder.serial):05d}", **body}

    return await handle(request, NAME, body=body, key=request.headers.get("idempotency-key"),
                        reject=lambda: first_refusal(
                            bearer_refusal(request, SIM_TOKEN),
                            hub_signature_refusal(request, raw),
                            json_object_refusal(body, {"sku": str, "quantity": int})),
                        answer=answer)
