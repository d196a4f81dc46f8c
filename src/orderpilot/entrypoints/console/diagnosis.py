"""诊断 / Diagnosis: the index of the proof pages, and the lifecycle board drawn from what
happened (Cytoscape graph, findings, sources table; an edge's slowest orders on click)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from orderpilot.adapters.analytics import flow
from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.flow import FlowFilter, node_names, parse_edge, parse_filter
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import DiagnosisReader
from orderpilot.entrypoints.console.i18n import N_
from orderpilot.entrypoints.console.render import ConsoleDep, is_htmx

router = APIRouter(prefix="/console")
SLOWEST = 20
# The proof pages of issue 12, each built in its own module; the index links them all.
PAGES = (
    ("flow", "/console/diagnosis/flow", N_("Lifecycle board"),
     N_("Transitions and their latency drawn from every system's reports; who reports late, "
        "twice or out of order.")),
    ("expectations", "/console/diagnosis/expectations", N_("Expectations"),
     N_("After event A, expect event B within a time: silent breakpoints, missing checks and "
        "reactions.")),
    ("walkthrough", "/console/diagnosis/walkthrough", N_("Walkthrough audit"),
     N_("Sample orders followed through every node: each system's view against the hub's.")),
    ("reconciliation", "/console/diagnosis/reconciliation", N_("Three-way reconciliation"),
     N_("Storefront sales, WMS outbound and ERP receivables against each other.")),
    ("refused", "/console/refused-reports", N_("Refused system reports"),
     N_("Reports the lifecycle refused, per system and reason: a misbehaving system shows "
        "here.")),
)
FORM_FIELDS = ("since", "until", "channel", "shop_id", "sku")


@router.get("/diagnosis", name="console:diagnosis")
def index(request: Request, console: ConsoleDep, who: DiagnosisReader) -> Response:
    return console.render(request, "diagnosis.html", {"nav": "diagnosis", "pages": PAGES})


def _form(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "").strip()[:200] for k in FORM_FIELDS}


def _graph(board: dict[str, Any], zh: bool) -> dict[str, Any]:
    """Nodes and edges for Cytoscape, named in the page's language."""
    nodes: dict[str, str] = {}
    for t in board["transitions"]:
        for node in (t["from"], t["to"]):
            nodes.setdefault(node, node_names(node)[0 if zh else 1])
    return {"nodes": [{"id": n, "label": label} for n, label in nodes.items()],
            "edges": [{"from": t["from"], "to": t["to"], "count": t["count"],
                       "p90": t["p90_seconds"], "target": t["target_seconds"],
                       "grade": t["grade"]} for t in board["transitions"]]}


@router.get("/diagnosis/flow", name="console:diagnosis-flow")
def flow_page(request: Request, hub: HubDep, console: ConsoleDep,
              who: DiagnosisReader) -> Response:
    form = _form(request)
    error, field = None, None
    try:
        chosen = parse_filter(**form)
    except InvalidInput as refused:
        error, field, chosen = console.say(request, refused), refused.field, FlowFilter()
    board = flow.board(hub.analytics(), chosen) if error is None else None
    zh = console.locale(request) == "zh_CN"
    query = urlencode({k: v for k, v in form.items() if v})
    return console.render(request, "diagnosis_flow.html", {
        "nav": "diagnosis", "form": form, "error": error, "error_field": field,
        "board": board, "graph": _graph(board, zh) if board else None, "query": query,
    }, status=422 if error else 200)


@router.get("/diagnosis/flow/slowest", name="console:diagnosis-flow-slowest")
def slowest(request: Request, hub: HubDep, console: ConsoleDep,
            who: DiagnosisReader) -> Response:
    """An edge's slowest orders: the fragment the board loads when an edge is clicked, or a
    page of its own when opened as a link."""
    given = request.query_params.get("from"), request.query_params.get("to")
    context: dict[str, Any] = {"edge": None, "items": [], "error": None}
    status = 200
    if any(given):
        try:
            edge = parse_edge(*given)
            items = flow.slowest_orders(hub.analytics(), parse_filter(**_form(request)),
                                        *edge, SLOWEST)
            context.update(edge=edge, items=items)
        except InvalidInput as refused:
            context["error"], status = console.say(request, refused), 422
    if is_htmx(request):
        return console.render(request, "_flow_slowest.html", context, status=status)
    back = urlencode({k: v for k, v in _form(request).items() if v})
    return console.render(request, "diagnosis_slowest.html",
                          {"nav": "diagnosis", "back": back, **context}, status=status)
