"""The promotion board (S6): "the first 100 orders get a free sample", claimed and remaining
live, with the orders that got the gift; ops create, start and end quotas here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.domain.errors import Conflict, NotFound, OrderpilotError
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import InventoryReader, PromotionManager
from orderpilot.entrypoints.console.i18n import CHANNELS, N_
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.services.inventory import promotions
from orderpilot.services.inventory import sync as inventory_sync

router = APIRouter(prefix="/console")
STATUS_LABELS = {"draft": N_("Draft"), "live": N_("Live"), "ended": N_("Ended")}


def gauge(console: Console, request: Request, board: dict[str, Any]) -> dict[str, Any]:
    """An ECharts gauge of claimed against quota; no animation, so a refresh does not flash."""
    quota = max(int(board["quota"]), 1)
    return {
        "animation": False,
        "series": [{
            "type": "gauge", "min": 0, "max": quota, "startAngle": 210, "endAngle": -30,
            "progress": {"show": True, "width": 18, "itemStyle": {"color": "#1d4ed8"}},
            "axisLine": {"lineStyle": {"width": 18, "color": [[1, "#e2e6ec"]]}},
            "axisTick": {"show": False}, "splitLine": {"show": False},
            "axisLabel": {"distance": 24, "color": "#667085"},
            "pointer": {"show": False},
            "title": {"offsetCenter": [0, "28%"], "fontSize": 13, "color": "#667085"},
            "detail": {"valueAnimation": False, "offsetCenter": [0, "-4%"], "fontSize": 34,
                       "fontWeight": 650, "formatter": f"{{value}} / {quota}"},
            "data": [{"value": int(board["claimed"]),
                      "name": console.translate(request, "claimed")}]}]}


def _read(hub: HubDep, promotion_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        board: dict[str, Any] = promotions.board(InventoryRepository(conn), promotion_id)
    return board


@router.get("/promotions", name="console:promotions")
def promotion_list(request: Request, hub: HubDep, console: ConsoleDep,
                   who: InventoryReader) -> Response:
    return _list_page(request, hub, console)


def _list_page(request: Request, hub: HubDep, console: Console, *, error: str | None = None,
               form: dict[str, str] | None = None, status: int = 200) -> Response:
    with hub.db.read() as conn:
        repo = InventoryRepository(conn)
        items = [promotions.present(p) for p in repo.promotions.recent()]
        sources = [s for s in inventory_sync.list_source_views(repo) if s["sellable"]]
    return console.render(request, "promotions.html", {
        "nav": "inventory", "items": items, "sources": sources, "error": error,
        "form": form or {}, "status_labels": STATUS_LABELS, "channels": list(CHANNELS)},
        status=status)


@router.post("/promotions", name="console:promotion-create")
def create(request: Request, hub: HubDep, console: ConsoleDep, who: PromotionManager,
           name: Annotated[str, Form()] = "", trigger_sku: Annotated[str, Form()] = "",
           gift_sku: Annotated[str, Form()] = "", gift_source: Annotated[str, Form()] = "",
           quota: Annotated[str, Form()] = "", gift_quantity: Annotated[str, Form()] = "1",
           channel: Annotated[str, Form()] = "") -> Response:
    form = {"name": name, "trigger_sku": trigger_sku.strip(), "gift_sku": gift_sku.strip(),
            "gift_source": gift_source, "quota": quota.strip(),
            "gift_quantity": gift_quantity.strip(), "channel": channel}
    numbers = (form["quota"], form["gift_quantity"])
    if not all(n.isdigit() and 0 < int(n) <= 1_000_000 for n in numbers):
        error = console.translate(request, "Quota and gift quantity are whole numbers from 1.")
        return _list_page(request, hub, console, error=error, form=form, status=422)
    try:
        promotion_id = promotions.create(promotions.NewPromotion(
            name=name[:200], trigger_sku=form["trigger_sku"], gift_sku=form["gift_sku"],
            gift_source=gift_source, quota=int(form["quota"]),
            gift_quantity=int(form["gift_quantity"]),
            channel=channel if channel in CHANNELS else None), hub.uow, hub.clock)
    except OrderpilotError as exc:
        said = console.say(request, exc)
        message = f"{exc.field}: {said}" if exc.field else said
        return _list_page(request, hub, console, error=message, form=form, status=422)
    return RedirectResponse(str(request.app.url_path_for("console:promotion",
                                                         promotion_id=promotion_id)),
                            status_code=303)


@router.get("/promotions/{promotion_id}", name="console:promotion")
def promotion_board(request: Request, promotion_id: str, hub: HubDep, console: ConsoleDep,
                    who: InventoryReader) -> Response:
    try:
        board = _read(hub, promotion_id)
    except NotFound:
        return console.error(request, console.translate(
            request, "There is no promotion with this ID."), 404)
    partial = is_htmx(request) and request.headers.get("hx-target") == "board"
    return console.render(request, "promotion.html", {
        "nav": "inventory", "p": board, "chart": gauge(console, request, board),
        "status_labels": STATUS_LABELS}, blocks=["board"] if partial else None)


@router.post("/promotions/{promotion_id}/{action}", name="console:promotion-action")
def start_or_end(request: Request, promotion_id: str, action: str, hub: HubDep,
                 console: ConsoleDep, who: PromotionManager) -> Response:
    steps = {"start": promotions.start, "end": promotions.end}
    if action not in steps:
        return console.error(request, console.translate(request, "Unknown action."), 404)
    try:
        steps[action](promotion_id, hub.uow, hub.clock)
    except OrderpilotError as exc:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) \
            else 422
        return console.error(request, console.say(request, exc), status)
    target = str(request.app.url_path_for("console:promotion", promotion_id=promotion_id))
    return RedirectResponse(target, status_code=303)
