"""/api/v1/return-centres and /api/v1/return-policy: where returned parcels go (S7)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Path, UploadFile
from pydantic import Field

from orderpilot.adapters.spreadsheets import UnreadableSheet, sheet_from_bytes
from orderpilot.adapters.views import return_policy as views
from orderpilot.adapters.views import returns as return_views
from orderpilot.domain.errors import InvalidInput, NotFound
from orderpilot.entrypoints.api.deps import (
    CanDecideReturns,
    CanManageReturnPolicy,
    CanReadOrders,
    HubDep,
)
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services.returns_routing import decisions, registers

router = APIRouter(prefix="/api/v1", tags=["return routing"])
MAX_UPLOAD = 5 * 1024 * 1024
Text = Annotated[str, Field(max_length=200)]
Code = Annotated[str, Path(min_length=1, max_length=64)]


class AddressIn(Strict):
    country: Text
    province: Text
    city: Text
    district: Text = ""
    line1: Text
    postal_code: Text = ""


class CentreIn(Strict):
    name_zh: Text
    name_en: Text
    address: AddressIn
    phone: Annotated[str, Field(max_length=32)]


class PolicyRowIn(Strict):
    outlet_code: Annotated[str, Field(max_length=64)]
    return_centre: Annotated[str, Field(max_length=64)]


class PolicyIn(Strict):
    rows: Annotated[list[PolicyRowIn], Field(max_length=5000)]


class RouteDecisionIn(Strict):
    return_centre: Annotated[str | None, Field(min_length=1, max_length=64)] = None
    retry: bool = False
    note: Annotated[str, Field(max_length=500)] = ""


@router.put("/return-centres/{code}", summary="Create or replace a return centre")
def put_centre(hub: HubDep, who: CanManageReturnPolicy, code: Code,
               body: CentreIn) -> dict[str, Any]:
    centre, created = registers.put_centre(hub.uow, hub.clock, code, body.model_dump(),
                                           who.name)
    return {**centre.dump(), "created": created}


@router.get("/return-centres", summary="Every return centre, by code")
def list_centres(hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    with hub.db.read() as conn:
        return {"items": views.centres(conn)}


@router.put("/return-policy", summary="Replace the outlet -> return centre table (a new "
                                      "version)")
def put_policy(hub: HubDep, who: CanManageReturnPolicy, body: PolicyIn) -> dict[str, Any]:
    version, _ = registers.replace_policy(hub.uow, hub.clock,
                                          [r.model_dump() for r in body.rows], who.name)
    with hub.db.read() as conn:
        return views.policy(conn, version)


@router.get("/return-policy", summary="The current policy and every version")
def get_policy(hub: HubDep, who: CanReadOrders) -> dict[str, Any]:
    with hub.db.read() as conn:
        return views.policy(conn)


@router.post("/return-policy/sheet", summary="Replace the policy from an .xlsx or .csv")
def import_policy(hub: HubDep, who: CanManageReturnPolicy,
                  file: Annotated[UploadFile, File(description=".xlsx or .csv")]
                  ) -> dict[str, Any]:
    data = file.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("the file is larger than 5 MB", field="file", zh="文件超过 5 MB")
    filename = file.filename or "upload"
    try:
        sheet = sheet_from_bytes(data, filename, registers.SHEET_LIMITS)
    except UnreadableSheet as error:
        raise InvalidInput(str(error), field="file", code="unreadable_sheet",
                           zh=error.message_zh) from error
    version, _ = registers.import_policy(hub.uow, hub.clock, filename, sheet.header,
                                         sheet.rows, who.name)
    with hub.db.read() as conn:
        return views.policy(conn, version)


@router.post("/returns/{return_id}/route",
             summary="Decide a return that needs a decision: the centre, or route again",
             description='{"return_centre": "<code>", "note"} routes the return to the centre '
                         'a person picked; {"retry": true, "note"} routes it again by the '
                         "policy (after the policy or the shipment was fixed). The order's "
                         "return_decision_required holds are released, and the rule template "
                         "return-route-decided books the pickup and texts the buyer once. A "
                         "return that needs no decision (e.g. decided already) is 409.")
def decide_route(return_id: Annotated[str, Path(min_length=1, max_length=64)],
                 body: RouteDecisionIn, hub: HubDep, who: CanDecideReturns) -> dict[str, Any]:
    decisions.decide_route(decisions.DecideRoute(return_id, who.name, body.return_centre,
                                                 body.retry, body.note.strip()),
                           hub.uow, hub.clock)
    with hub.db.read() as conn:
        found = return_views.return_detail(conn, return_id)
    if found is None:
        raise NotFound(f"no return {return_id}", field="id", code="return_not_found",
                       zh=f"没有退货单 {return_id}")
    return found

