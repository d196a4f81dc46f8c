"""Refused system reports, per system (docs/exceptions-retry-and-refusals.md).

    GET /api/v1/refused-reports/summary?days=7   per system: count, today, last seen, reasons,
                                                 top event types, per day
    GET /api/v1/refused-reports?system=&source=&reason=&order_id=&since=&until=&cursor=&limit=

Readable by every role that reads orders; the kept payload is masked for roles without
``pii.read`` (and the answer's net in ``masking.py`` masks the rest).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from orderpilot.adapters import refused_reports as views
from orderpilot.domain.access import allowed
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.masking import mask_document
from orderpilot.domain.refused_reports import KEEP_DAYS, REASONS
from orderpilot.domain.times import filter_time
from orderpilot.entrypoints.api.deps import CanReadOrders, HubDep

router = APIRouter(prefix="/api/v1/refused-reports", tags=["refused reports"])
Name = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/summary", summary="Refused reports per system and reason")
def summary(hub: HubDep, who: CanReadOrders,
            days: Annotated[int, Query(ge=1, le=KEEP_DAYS)] = 7) -> dict[str, Any]:
    now = hub.clock()
    since = now - timedelta(days=days)
    with hub.db.read() as conn:
        systems = views.summary(conn, since, now)
    return {"since": since.isoformat(), "until": now.isoformat(), "systems": systems,
            "reasons": {code: {"zh": zh, "en": en} for code, (zh, en) in REASONS.items()}}


@router.get("", summary="Refused reports, newest first, with filters and a cursor")
def listing(hub: HubDep, who: CanReadOrders, system: Name = None, source: Name = None,
            reason: Name = None, order_id: Annotated[str | None, Query(max_length=200)] = None,
            since: datetime | None = None, until: datetime | None = None,
            cursor: Annotated[str | None, Query(max_length=20)] = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    if reason is not None and reason not in REASONS:
        raise InvalidInput(f"reason is one of {', '.join(REASONS)}", field="reason",
                           zh=f"reason 应为 {'、'.join(REASONS)} 之一")
    with hub.db.read() as conn:
        items, more = views.listing(
            conn, system=system, source=source, reason=reason, order_id=order_id,
            since=filter_time(since, "since"), until=filter_time(until, "until"),
            before_seq=_cursor(cursor), limit=limit)
    if not allowed(who.role, "pii.read"):
        items = [{**i, "payload": mask_document(i["payload"])} for i in items]
    return {"items": items, "next_cursor": str(more) if more is not None else None}


def _cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    if not cursor.isdigit():
        raise InvalidInput("cursor is not one this API returned", field="cursor",
                           zh="cursor 不是本 API 返回的游标")
    return int(cursor)
