"""/api/v1/exceptions: the exception workbench (docs/exceptions.md).

    GET  /api/v1/exceptions            filters kind, reason, status, owner, assignee, mine,
                                       overdue, order_id, q; cursor paging (oldest first)
    GET  /api/v1/exceptions/groups     active exceptions by reason: count, overdue, decision
    POST /api/v1/exceptions/bulk       preview (``preview: true``) or apply with the preview's
                                       ``token`` or ``confirm`` = its order count (409 when the
                                       selection changed)
    GET  /api/v1/exceptions/{id}       with comments and history
    POST /api/v1/exceptions/{id}/assign | /comments | /resolve
"""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from orderpilot.domain.exception_filters import parse
from orderpilot.entrypoints import exception_views as views
from orderpilot.entrypoints.api.deps import HubDep, require
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services.accounts import Principal
from orderpilot.services.exceptions import bulk, work

router = APIRouter(prefix="/api/v1/exceptions", tags=["exceptions"])
CanRead = Annotated[Principal, Depends(require("orders.read"))]
CanAct = Annotated[Principal, Depends(require("exceptions.act"))]
FILTERS = ("kind", "reason", "status", "owner", "assignee", "mine", "overdue", "order_id", "q")


class AssignIn(Strict):
    assignee: Annotated[str, Field(max_length=100, description="A user name; empty unassigns; "
                                                               "omitted with me=true")] = ""
    me: bool = False


class CommentIn(Strict):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class BulkIn(Strict):
    action: Annotated[str, Field(max_length=40, description="release, assign, resolve, retry_push, "
                                                             "retry_allocation, cancel")]
    ids: Annotated[list[Annotated[str, Field(max_length=36)]],
                   Field(min_length=1, max_length=bulk.MAX_SELECTION)]
    preview: bool = False
    confirm: int | None = Field(None, ge=0, description="The preview's order count")
    token: Annotated[str, Field(max_length=64)] = ""
    reason: Annotated[str, Field(max_length=64, description="release: the release reason; "
                                                           "cancel: the cancel reason")] = ""
    note: Annotated[str, Field(max_length=1000)] = ""
    assignee: Annotated[str, Field(max_length=100)] = ""


@router.get("", summary="The exception queue, oldest first")
async def listing(request: Request, hub: HubDep, who: CanRead,
                  cursor: Annotated[str | None, Query(max_length=200)] = None,
                  limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
    query = {k: v for k, v in request.query_params.items() if k in FILTERS}
    f = parse(query)
    return await to_thread.run_sync(lambda: views.page(hub, f, who.name, cursor, limit))


@router.get("/groups", summary="Active exceptions by reason: counts, overdue first")
async def groups(hub: HubDep, _: CanRead) -> dict[str, Any]:
    return {"items": await to_thread.run_sync(lambda: views.groups(hub))}


def _preview_shown(p: bulk.Preview) -> dict[str, Any]:
    return {"action": p.action, "orders": p.orders, "exceptions": p.exceptions,
            "exception_ids": p.exception_ids, "order_ids": p.order_ids, "token": p.token}


@router.post("/bulk", summary="Preview a bulk action, or apply it once confirmed")
async def bulk_action(body: BulkIn, hub: HubDep, who: CanAct) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        bulk.check_permission(body.action, who.role)
        if body.preview:
            return {"preview": _preview_shown(bulk.preview(hub.uow, body.action, body.ids))}
        params = {"reason": body.reason, "note": body.note, "assignee": body.assignee}
        done = bulk.apply(hub.uow, hub.clock, body.action, body.ids, params, who.name,
                          confirm=body.confirm, token=body.token or None,
                          platforms=hub.channels.platforms())
        return {"applied": _preview_shown(done.preview), "changed": done.changed}

    return await to_thread.run_sync(run)


@router.get("/{exception_id}", summary="One exception with its comments and history")
async def one(exception_id: str, hub: HubDep, _: CanRead) -> dict[str, Any]:
    return await to_thread.run_sync(lambda: views.one(hub, exception_id))


@router.post("/{exception_id}/assign", summary="Assign (to a user, or to me) or unassign")
async def assign(exception_id: str, body: AssignIn, hub: HubDep,
                 who: CanAct) -> dict[str, Any]:
    assignee = who.name if body.me else body.assignee

    def run() -> dict[str, Any]:
        work.assign(hub.uow, hub.clock, exception_id, assignee, who.name)
        return views.one(hub, exception_id)

    return await to_thread.run_sync(run)


@router.post("/{exception_id}/comments", status_code=201, summary="Comment on an exception")
async def comment(exception_id: str, body: CommentIn, hub: HubDep,
                  who: CanAct) -> dict[str, Any]:
    done = await to_thread.run_sync(lambda: work.comment(hub.uow, hub.clock, exception_id,
                                                         body.text, who.name))
    return views.comment_shown(done)


@router.post("/{exception_id}/resolve", summary="Resolve by hand")
async def resolve(exception_id: str, hub: HubDep, who: CanAct) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        work.resolve(hub.uow, hub.clock, exception_id, who.name)
        return views.one(hub, exception_id)

    return await to_thread.run_sync(run)
