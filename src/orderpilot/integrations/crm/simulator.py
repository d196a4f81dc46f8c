"""A CRM: customers found by phone number collect tags.

Our CRM contract also has the look-up by key the hub uses before a resend:
``GET /crm/api/customers/tags?request_key=K`` -> ``{"pushes": [{"request_key", "tags", "at"}]}``
(the tag pushes applied with Idempotency-Key K; empty when none).

Customer levels (会员等级): ``POST /crm/api/customers/level`` {"phone", "change", "reason"}
moves the level (default 3, floor 0) and answers {"ok", "phone", "from", "to"};
``GET /crm/api/customers/level?request_key=K`` -> {"changes": [...]} finds a change by its key;
the admin ``POST /_sim/crm/levels`` {"levels": {phone: level}} sets levels for a test.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orderpilot.adapters.connectors.endpoints import SIM
from orderpilot.adapters.connectors.sms_provider import national_number
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
    now_iso,
    read_body,
    recorder_for,
)

NAME = "crm"
DEFAULT_LEVEL = 3
router = APIRouter()
admin_router = APIRouter()


@router.post("/api/customers/tags")
async def push_tags(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)

    key = request.headers.get("idempotency-key")

    def answer() -> tuple[int, Any]:
        recorder.data.setdefault("pushes", []).append(
            {"request_key": key, "tags": list(body["tags"]), "at": now_iso()})
        tags: set[str] = recorder.data.setdefault("tags", {}).setdefault(
            national_number(body["phone"]), set())
        tags.update(str(t) for t in body["tags"])
        return 200, {"ok": True, "tags": sorted(tags)}

    return await handle(request, NAME, body=body, key=key,
                        reject=lambda: first_refusal(
                            bearer_refusal(request, SIM.crm_token),
                            hub_signature_refusal(request, raw),
                            json_object_refusal(body, {"phone": str, "tags": list})),
                        answer=answer)


@router.get("/api/customers/tags")
async def find_tag_pushes(request: Request) -> JSONResponse:
    raw, _ = await read_body(request)
    recorder = recorder_for(request, NAME)
    key = request.query_params.get("request_key", "")

    def answer() -> Answer:
        return 200, {"pushes": [p for p in recorder.data.get("pushes", [])
                                if p["request_key"] == key]}

    def refusal() -> Answer | None:
        if not key:
            return 422, {"error": "request_key is required", "field": "request_key"}
        return first_refusal(bearer_refusal(request, SIM.crm_token),
                             hub_signature_refusal(request, raw))

    return await handle_look_up(request, NAME, query={"request_key": key}, reject=refusal,
                                answer=answer)


@admin_router.post("/levels")
async def set_levels(request: Request) -> JSONResponse:
    _, body = await read_body(request)
    refusal = json_object_refusal(body, {"levels": dict})
    if refusal:
        return JSONResponse(refusal[1], refusal[0])
    recorder = recorder_for(request, NAME)
    with recorder.lock:
        levels: dict[str, int] = recorder.data.setdefault("levels", {})
        levels.update({national_number(p): int(v) for p, v in body["levels"].items()})
        return JSONResponse({"levels": dict(levels)})


@router.post("/api/customers/level")
async def change_level(request: Request) -> JSONResponse:
    raw, body = await read_body(request)
    recorder = recorder_for(request, NAME)
    key = request.headers.get("idempotency-key")

    def answer() -> tuple[int, Any]:
        change = body.get("change")
        if isinstance(change, bool) or not isinstance(change, int) or change == 0:
            return 422, {"error": "change must be a non-zero whole number", "field": "change"}
        phone = national_number(body["phone"])
        levels: dict[str, int] = recorder.data.setdefault("levels", {})
        before = levels.get(phone, DEFAULT_LEVEL)
        after = max(0, before + change)
        levels[phone] = after
        recorder.data.setdefault("level_changes", []).append(
            {"request_key": key, "phone": phone, "from": before, "to": after,
             "reason": str(body.get("reason") or ""), "at": now_iso()})
        return 200, {"ok": True, "phone": phone, "from": before, "to": after}

    return await handle(request, NAME, body=body, key=key,
                        reject=lambda: first_refusal(
                            bearer_refusal(request, SIM.crm_token),
                            hub_signature_refusal(request, raw),
                            json_object_refusal(body, {"phone": str})),
                        answer=answer)


@router.get("/api/customers/level")
async def find_level_changes(request: Request) -> JSONResponse:
    raw, _ = await read_body(request)
    recorder = recorder_for(request, NAME)
    key = request.query_params.get("request_key", "")

    def answer() -> Answer:
        return 200, {"changes": [{k: c[k] for k in ("request_key", "from", "to", "at")}
                                 for c in recorder.data.get("level_changes", [])
                                 if c["request_key"] == key]}

    def refusal() -> Answer | None:
        if not key:
            return 422, {"error": "request_key is required", "field": "request_key"}
        return first_refusal(bearer_refusal(request, SIM.crm_token),
                             hub_signature_refusal(request, raw))

    return await handle_look_up(request, NAME, query={"request_key": key}, reject=refusal,
                                answer=answer)
