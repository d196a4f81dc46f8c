"""Multi-source stock (S5): the sources side by side with their sellable logic and sync, stock
per SKU refreshed live, recent sync runs, and the settings ops change themselves: each
channel's allocation strategy and each source's thresholds."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.domain import inventory as inv
from orderpilot.domain import sync_schedule as schedules
from orderpilot.domain.errors import InvalidInput
from orderpilot.entrypoints.api.deps import HubDep
from orderpilot.entrypoints.console.auth import InventoryManager, InventoryReader
from orderpilot.entrypoints.console.i18n import CHANNELS, N_
from orderpilot.entrypoints.console.render import Console, ConsoleDep, is_htmx
from orderpilot.services.inventory import sync as inventory_sync

router = APIRouter(prefix="/console")
SYNC_WORDS = {"seconds": N_("Within seconds"), "every_5_minutes": N_("Every 5 minutes"),
              "daily_0200": N_("Daily at 02:00"), "manual": N_("When a system reports")}
SELLABLE_WORDS = {
    "bonded_spot": N_("Sold in real time: an order takes the units at once."),
    "domestic_transfer": N_("Reserved for %(hours)d h when ordered; released automatically "
                            "if the order does not move on in time."),
    "in_transit": N_("Never sold: only the expected arrival date is shown."),
}
STRATEGY_CHANNELS = ("default", *CHANNELS)
FIELD_WORDS = {"tiers": N_("Tier order"), "allocate_on": N_("Allocate when"),
               "reservation_ttl_hours": N_("Reservation hours"),
               "safety_stock": N_("Safety stock"), "low_threshold": N_("Low-stock threshold")}


def _labels() -> dict[str, Any]:
    return {"sync_words": SYNC_WORDS, "sellable_words": SELLABLE_WORDS,
            "kinds": inv.SOURCE_KINDS, "interval_seconds": schedules.interval_seconds}


def stock_by_sku(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Levels grouped per SKU with the SKU's sellable total and its earliest arrival."""
    grouped: dict[str, dict[str, Any]] = {}
    for level in levels:
        sku = grouped.setdefault(level["sku"], {"sku": level["sku"], "rows": [],
                                                "available": 0, "in_transit": 0,
                                                "arrival": None, "low": False})
        sku["rows"].append(level)
        if level["kind"] == "in_transit":
            sku["in_transit"] += level["on_hand"]
            if level["expected_at"] and (sku["arrival"] is None
                                         or level["expected_at"] < sku["arrival"]):
                sku["arrival"] = level["expected_at"]
        else:
            sku["available"] += level["available"]
            sku["low"] = sku["low"] or bool(level["low"])
    return list(grouped.values())


@router.get("/inventory", name="console:inventory")
def inventory(request: Request, hub: HubDep, console: ConsoleDep, who: InventoryReader,
              sku: str = "") -> Response:
    sku = sku.strip()[:64]
    with hub.db.read() as conn:
        repo = InventoryRepository(conn)
        sources = inventory_sync.list_source_views(repo)
        levels = inventory_sync.list_levels(repo, hub.clock(), sku=sku or None)
        runs = inventory_sync.list_sync_runs(repo, limit=20)
    names = {s["code"]: s for s in sources}
    partial = is_htmx(request) and request.headers.get("hx-target") == "live"
    return console.render(request, "inventory.html", {
        "nav": "inventory", "sources": sources, "skus": stock_by_sku(levels), "sku": sku,
        "runs": runs, "source_names": names, **_labels()},
        blocks=["live"] if partial else None)


def _strategies(repo: InventoryRepository) -> list[dict[str, Any]]:
    rows = []
    for channel in STRATEGY_CHANNELS:
        own = repo.strategy(channel)
        effective = own or repo.strategy_for(channel)
        rows.append({"channel": channel, "inherited": own is None, **asdict(effective),
                     "tiers": list(effective.tiers)})
    return rows


def _settings_page(request: Request, hub: HubDep, console: Console, channel: str, *,
                   errors: dict[str, str] | None = None, form: dict[str, Any] | None = None,
                   notice: str | None = None, status: int = 200) -> Response:
    with hub.db.read() as conn:
        repo = InventoryRepository(conn)
        strategies = _strategies(repo)
        sources = inventory_sync.list_source_views(repo)
    chosen = next((s for s in strategies if s["channel"] == channel), strategies[0])
    return console.render(request, "inventory_strategies.html", {
        "nav": "inventory", "strategies": strategies, "chosen": form or chosen,
        "channel": chosen["channel"], "sources": sources, "errors": errors or {},
        "notice": notice, "sellable_kinds": inv.SELLABLE_KINDS, **_labels()}, status=status)


@router.get("/inventory/strategies", name="console:inventory-strategies")
def strategies(request: Request, hub: HubDep, console: ConsoleDep, who: InventoryReader,
               channel: str = "default", saved: str = "") -> Response:
    notice = console.translate(request, "Saved.") if saved else None
    return _settings_page(request, hub, console, channel, notice=notice)


def _whole(console: Console, request: Request, value: str, field: str, errors: dict[str, str],
           *, low: int = 0, high: int = 10**9, optional: bool = False) -> int | None:
    value = value.strip()
    if not value and optional:
        return None
    if value.isdigit() and low <= int(value) <= high:
        return int(value)
    errors[field] = console.translate(request, "Enter a whole number from %(low)d to "
                                               "%(high)d.") % {"low": low, "high": high}
    return None


def _domain_error(console: Console, request: Request, exc: InvalidInput) -> dict[str, str]:
    field = (exc.field or "").split("[")[0].split(".")[0]
    label = console.translate(request, FIELD_WORDS[field]) if field in FIELD_WORDS else field
    return {field or "form": f"{label}: {console.say(request, exc)}"}


@router.post("/inventory/strategies/{channel}", name="console:inventory-strategy-save")
def save_strategy(request: Request, channel: str, hub: HubDep, console: ConsoleDep,
                  who: InventoryManager, tier1: Annotated[str, Form()] = "",
                  tier2: Annotated[str, Form()] = "",
                  allow_split: Annotated[str, Form()] = "",
                  allocate_on: Annotated[str, Form()] = "paid",
                  ttl_hours: Annotated[str, Form()] = "") -> Response:
    if channel not in STRATEGY_CHANNELS:
        return console.error(request, console.translate(request, "There is no such channel."),
                             404)
    errors: dict[str, str] = {}
    ttl = _whole(console, request, ttl_hours, "reservation_ttl_hours", errors, low=1,
                 high=720, optional=True)
    tiers = tuple(t for t in (tier1, tier2) if t)
    form = {"channel": channel, "tiers": list(tiers), "allow_split": bool(allow_split),
            "allocate_on": allocate_on, "reservation_ttl_hours": ttl_hours.strip(),
            "inherited": False}
    if not errors:
        try:
            strategy = inventory_sync.build_strategy(
                channel=channel, tiers=tiers, allow_split=bool(allow_split),
                allocate_on=allocate_on, reservation_ttl_hours=ttl)
            inventory_sync.put_strategy(strategy, hub.uow, hub.clock)
        except InvalidInput as exc:
            errors = _domain_error(console, request, exc)
    if errors:
        return _settings_page(request, hub, console, channel, errors=errors, form=form,
                              status=422)
    if not is_htmx(request):
        return RedirectResponse(f"/console/inventory/strategies?channel={channel}&saved=1",
                                status_code=303)
    return _settings_page(request, hub, console, channel,
                          notice=console.translate(request, "Strategy saved."))


@router.post("/inventory/sources/{code}/thresholds", name="console:inventory-source-save")
def save_thresholds(request: Request, code: str, hub: HubDep, console: ConsoleDep,
                    who: InventoryManager, safety_stock: Annotated[str, Form()] = "",
                    low_threshold: Annotated[str, Form()] = "",
                    reservation_ttl_hours: Annotated[str, Form()] = "",
                    channel: Annotated[str, Form()] = "default") -> Response:
    channel = channel if channel in STRATEGY_CHANNELS else "default"
    with hub.db.read() as conn:
        source = InventoryRepository(conn).source(code)
    if source is None:
        return console.error(request, console.translate(request, "There is no such source."),
                             404)
    errors: dict[str, str] = {}
    changes = {
        "safety_stock": _whole(console, request, safety_stock, "safety_stock", errors),
        "low_threshold": _whole(console, request, low_threshold, "low_threshold", errors),
        "reservation_ttl_hours": _whole(console, request, reservation_ttl_hours,
                                        "reservation_ttl_hours", errors, low=1, high=720)}
    if not errors:
        try:
            inventory_sync.put_source(inventory_sync.build_source(**{**asdict(source),
                                                                     **changes}),
                                      hub.uow, hub.clock)
        except InvalidInput as exc:
            errors = _domain_error(console, request, exc)
    if errors:
        return _settings_page(request, hub, console, channel,
                              errors={f"{code}.{k}": v for k, v in errors.items()},
                              status=422)
    notice = console.translate(request, "Thresholds of %(source)s saved.") % {"source": code}
    if not is_htmx(request):
        return RedirectResponse(f"/console/inventory/strategies?channel={channel}&saved=1",
                                status_code=303)
    return _settings_page(request, hub, console, channel, notice=notice)
