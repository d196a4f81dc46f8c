"""Read-only console pages: the dashboard, the order list and one order's whole story."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.adapters import saved_views
from orderpilot.adapters.views import console as queries
from orderpilot.adapters.views import order_notes, order_search
from orderpilot.adapters.views import orders as read_models
from orderpilot.bootstrap import Hub
from orderpilot.domain.address import Address
from orderpilot.domain.errors import Forbidden, InvalidInput
from orderpilot.domain.hold_release import RELEASE_REASONS
from orderpilot.domain.lifecycle import NODES
from orderpilot.domain.order_filters import SORTS
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader
from orderpilot.entrypoints.console.i18n import CHANNELS
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.entrypoints.console.tickets import automation_for_order
from orderpilot.entrypoints.order_selection import read_filter

router = APIRouter(prefix="/console")
PAGE_SIZE = 50
# Filters folded under "more filters" on a phone, shown open when one is set.
ADVANCED_FILTERS = ("shop", "sku", "reason", "tag", "placed_from", "placed_to", "currency",
                    "min_total", "max_total", "phone", "address", "sort")


@router.get("", name="console:dashboard")
def dashboard(request: Request, hub: HubDep, console: ConsoleDep, who: Reader) -> Response:
    with hub.db.read() as conn:
        counts = queries.status_counts(conn)
        held, held_pending = queries.held_counts(conn)
        backlog = read_models.backlog(conn)
        dead = backlog["outbox_dead"] + queries.dead_timer_count(conn)
        days, series = queries.channel_days(conn, hub.clock())
    pending = sum(counts.get(n.id, 0) for n in NODES if n.pre_shipment)
    return console.render(request, "dashboard.html", {
        "nav": "dashboard", "counts": counts, "total": sum(counts.values()),
        "largest": max(counts.values(), default=0), "nodes": NODES, "held": held,
        "held_pending": held_pending, "pending": pending, "backlog": backlog, "dead": dead,
        "chart": chart_option(console, request, days, series) if series else None})


def chart_option(console: Console, request: Request, days: list[str],
                 series: dict[str, list[int]]) -> dict[str, Any]:
    """An ECharts stacked bar chart of orders per channel per day; the page only draws it."""
    def label(code: str) -> str:
        return console.translate(request, CHANNELS[code]) if code in CHANNELS else code

    return {
        "color": ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899",
                  "#84cc16", "#64748b", "#f97316", "#14b8a6", "#a855f7"],
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"left": 8, "right": 16, "top": 40, "bottom": 8, "containLabel": True},
        "xAxis": {"type": "category", "data": [d[5:] for d in days],
                  "axisTick": {"alignWithLabel": True}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": label(channel), "type": "bar", "stack": "orders", "data": counts,
                    "barMaxWidth": 32, "emphasis": {"focus": "series"}}
                   for channel, counts in series.items()],
    }


@router.get("/orders", name="console:orders")
def orders(request: Request, hub: HubDep, console: ConsoleDep, who: Reader) -> Response:
    params = {k: v for k, v in request.query_params.items() if k not in ("cursor", "view")}
    cursor = request.query_params.get("cursor", "")
    error: str | None = None
    status = 200
    items: list[dict[str, Any]] = []
    next_cursor: str | None = None
    total: int | None = None
    query: dict[str, str] = {}
    try:
        if len(cursor) > 200:
            raise InvalidInput("cursor is too long", field="cursor", zh="cursor 过长")
        found = read_filter(params, who.role)
        query = found.as_query()
        with hub.db.read() as conn:
            items, next_cursor, total = order_search.search(conn, found, limit=PAGE_SIZE,
                                                            cursor=cursor or None)
    except (InvalidInput, Forbidden) as exc:
        error = console.say(request, exc)
        status = 403 if isinstance(exc, Forbidden) else 422
    with hub.db.read() as conn:
        views = saved_views.list_views(conn, who.id) if who.kind == "user" else []
    context = {"nav": "orders", "items": items, "filters": params, "error": error,
               "nodes": NODES, "first_page": bool(cursor), "total": total,
               "base_query": urlencode(query), "views": views,
               "advanced": any(params.get(k) for k in ADVANCED_FILTERS),
               "sorts": SORTS, "release_reasons": RELEASE_REASONS,
               "next_query": urlencode({**query, "cursor": next_cursor}) if next_cursor else None}
    partial = is_htmx(request) and request.headers.get("hx-target") == "results"
    return console.render(request, "orders.html", context,
                          blocks=["results"] if partial else None, status=status)


def order_context(hub: Hub, order_id: str) -> dict[str, Any] | None:
    with hub.db.read() as conn:
        detail = read_models.order_detail(conn, order_id)
        events = read_models.timeline(conn, order_id) if detail else []
        notes = order_notes.notes(conn, order_id) if detail else []
    if detail is None:
        return None
    a = detail["shipping_address"]
    address = Address(a["country"], a["province"], a["city"], a["district"], a["line1"],
                      a["postal_code"], tuple(a["flags"]))
    for event in events:
        event["lag"] = _seconds_between(event["occurred_at"], event["recorded_at"])
        event["outcome"] = event["payload"].get("outcome")
    for line in detail["lines"]:
        line["amount"] = str(Decimal(line["unit_price"]) * line["quantity"]
                             - Decimal(line["discount"]))
    holds = detail["holds"]
    return {"nav": "orders", "order": detail, "events": events,
            "bonded_kind": address.bonded_zone_kind if address.bonded_zone else None,
            "notes": notes, "release_reasons": RELEASE_REASONS,
            "active_holds": [h for h in holds if h["released_at"] is None],
            "released_holds": [h for h in holds if h["released_at"] is not None]}


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


@router.get("/orders/{order_id}", name="console:order")
def order(request: Request, order_id: str, hub: HubDep, console: ConsoleDep,
          who: Reader) -> Response:
    context = order_context(hub, order_id)
    if context is None:
        missing = console.translate(request, "There is no order with this ID.")
        return console.error(request, missing, 404)
    context["automation"] = automation_for_order(hub, order_id)
    return console.render(request, "order.html", context)
