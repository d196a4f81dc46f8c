"""被拒回报 / Refused system reports: per-system cards (today, 7 days, by reason, per day) and
the list with filters and paging, each row linking to its order
(docs/exceptions-retry-and-refusals.md). Linked from the exceptions page
(``_refused_reports_link.html``) and the diagnosis index; no menu entry of its own."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.adapters import refused_reports as views
from orderpilot.adapters.views.rules import order_numbers
from orderpilot.domain.refused_reports import REASONS
from orderpilot.domain.times import SHANGHAI
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import Reader
from orderpilot.entrypoints.console.render import ConsoleDep

router = APIRouter(prefix="/console")
DAYS = 7
PAGE = 50


@router.get("/refused-reports", name="console:refused_reports")
def refused_reports(request: Request, hub: HubDep, console: ConsoleDep, who: Reader,
                    system: str = "", reason: str = "", source: str = "",
                    cursor: str = "") -> Response:
    now = hub.clock()
    filters = {"system": system[:64], "reason": reason if reason in REASONS else "",
               "source": source[:64]}
    before = int(cursor) if cursor.isdigit() else None
    with hub.db.read() as conn:
        systems = views.summary(conn, now - timedelta(days=DAYS), now)
        items, more = views.listing(conn, system=filters["system"] or None,
                                    reason=filters["reason"] or None,
                                    source=filters["source"] or None, before_seq=before,
                                    limit=PAGE)
        numbers = order_numbers(conn, {i["order_id"] for i in items})
    zh = console.locale(request) == "zh_CN"
    reason_names = {code: names[0] if zh else names[1] for code, names in REASONS.items()}
    days = [(now.astimezone(SHANGHAI).date() - timedelta(days=n)).isoformat()
            for n in range(DAYS - 1, -1, -1)]
    for s in systems:
        s["chart"] = {"grid": {"left": 32, "right": 8, "top": 8, "bottom": 24},
                      "tooltip": {"trigger": "axis"},
                      "xAxis": {"type": "category", "data": [d[5:] for d in days]},
                      "yAxis": {"type": "value", "minInterval": 1},
                      "series": [{"type": "bar", "data": [s["per_day"].get(d, 0) for d in days],
                                  "itemStyle": {"color": "#c0392b"}}]}
    base_query = urlencode({k: v for k, v in filters.items() if v})
    next_query = urlencode({**{k: v for k, v in filters.items() if v}, "cursor": more}) \
        if more is not None else ""
    return console.render(request, "refused_reports.html", {
        "nav": "exceptions", "systems": systems, "items": items, "numbers": numbers,
        "filters": filters, "reason_names": reason_names, "days": DAYS,
        "base_query": base_query, "next_query": next_query, "first_page": before is not None})

