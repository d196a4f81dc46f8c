"""/api/v1/inventory, /api/v1/availability and /api/v1/promotions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field, StrictBool, StrictInt

from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.domain import reporters
from orderpilot.domain.errors import NotFound
from orderpilot.entrypoints.api.deps import (
    CanManageInventory,
    CanManagePromotions,
    CanReadInventory,
    HubDep,
)
from orderpilot.entrypoints.api.schemas import Strict
from orderpilot.services.inventory import allocation as inventory
from orderpilot.services.inventory import promotions
from orderpilot.services.inventory import sync as inventory_sync

router = APIRouter(prefix="/api/v1", tags=["inventory"])
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Count = Annotated[StrictInt, Field(ge=0, le=10**9)]


class SourceIn(Strict):
    """The shape of a source; what its values may be is checked once, in the domain."""

    kind: Annotated[str, Field(examples=["bonded_spot"])]
    name_zh: Annotated[str, Field(examples=["宁波仓"])]
    name_en: Annotated[str, Field(examples=["Ningbo"])]
    region: str = ""
    lead_time_days: StrictInt
    reservation_ttl_hours: StrictInt = 24
    lead_times: dict[str, StrictInt] = {}
    sync_schedule: str = "manual"
    safety_stock: StrictInt = 0
    low_threshold: StrictInt = 0


class LevelIn(Strict):
    source: Code
    sku: Code
    on_hand: Count
    expected_at: date | None = None
    as_of: datetime | None = None
    safety_stock: Count | None = None
    low_threshold: Count | None = None


class LevelsIn(Strict):
    source_event_id: Annotated[str, Field(min_length=1, max_length=200)]
    levels: Annotated[list[LevelIn], Field(min_length=1, max_length=inventory_sync.MAX_LEVELS)]


class StrategyIn(Strict):
    tiers: Annotated[list[str], Field(min_length=1, max_length=5)] = ["bonded_spot",
                                                                      "domestic_transfer"]
    allow_split: StrictBool = False
    allocate_on: str = "paid"
    reservation_ttl_hours: Annotated[StrictInt | None, Field(ge=1, le=720)] = None


class PromotionIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    trigger_sku: Code
    gift_sku: Code
    gift_source: Code
    quota: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    gift_quantity: Annotated[StrictInt, Field(ge=1, le=1000)] = 1
    channel: Annotated[str | None, Field(max_length=32)] = None


def _repo_call(hub: HubDep, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with hub.db.read() as conn:
        return fn(InventoryRepository(conn), *args, **kwargs)


@router.put("/inventory/sources/{code}", summary="Create or change a stock source")
def put_source(code: Code, body: SourceIn, hub: HubDep,
               who: CanManageInventory) -> dict[str, Any]:
    source = inventory_sync.build_source(code=code, **body.model_dump())
    inventory_sync.put_source(source, hub.uow, hub.clock)
    return inventory_sync.present_source(source)


@router.get("/inventory/sources", summary="Sources with totals and their last sync")
def list_sources(hub: HubDep, who: CanReadInventory) -> dict[str, Any]:
    return {"items": _repo_call(hub, inventory_sync.list_source_views)}


@router.get("/inventory/levels", summary="Stock per source and SKU")
def list_levels(hub: HubDep, who: CanReadInventory,
                sku: Annotated[str | None, Query(max_length=64)] = None,
                source: Annotated[str | None, Query(max_length=64)] = None) -> dict[str, Any]:
    def read(repo: InventoryRepository) -> list[dict[str, Any]]:
        if source and repo.source(source) is None:
            raise NotFound(f"no source {source!r}", field="source",
                           zh=f"没有库存来源 {source!r}")
        return inventory_sync.list_levels(repo, hub.clock(), sku=sku, source=source)

    return {"items": _repo_call(hub, read)}


@router.put("/inventory/levels", summary="A system reports on-hand stock (idempotent)")
def put_levels(body: LevelsIn, hub: HubDep, who: CanManageInventory) -> JSONResponse:
    for i, level in enumerate(body.levels):  # a token pushes only its own stock sources
        reporters.check_stock_source(who.kind, who.name, who.scopes, level.source,
                                     field=f"levels[{i}].source")
    reports = [inventory_sync.LevelReport(**level.model_dump()) for level in body.levels]
    result = inventory_sync.apply_levels(body.source_event_id, reports, hub.uow, hub.clock)
    return JSONResponse(result, status_code=200)


@router.get("/inventory/strategies/{channel}", summary="A channel's allocation strategy")
def get_strategy(channel: Annotated[str, Field(max_length=32)], hub: HubDep,
                 who: CanReadInventory) -> dict[str, Any]:
    def read(repo: InventoryRepository) -> dict[str, Any]:
        own = repo.strategy(channel)
        s = repo.strategy_for(channel)
        return {"channel": channel, "tiers": list(s.tiers), "allow_split": s.allow_split,
                "allocate_on": s.allocate_on, "reservation_ttl_hours": s.reservation_ttl_hours,
                "inherited": own is None}

    return _repo_call(hub, read)  # type: ignore[no-any-return]


@router.put("/inventory/strategies/{channel}", summary="Set a channel's allocation strategy")
def put_strategy(channel: Annotated[str, Field(max_length=32)], body: StrategyIn, hub: HubDep,
                 who: CanManageInventory) -> dict[str, Any]:
    strategy = inventory_sync.build_strategy(channel=channel, tiers=tuple(body.tiers),
                                             allow_split=body.allow_split,
                                             allocate_on=body.allocate_on,
                                             reservation_ttl_hours=body.reservation_ttl_hours)
    inventory_sync.put_strategy(strategy, hub.uow, hub.clock)
    return {"channel": channel, "tiers": list(strategy.tiers),
            "allow_split": strategy.allow_split, "allocate_on": strategy.allocate_on,
            "reservation_ttl_hours": strategy.reservation_ttl_hours, "inherited": False}


@router.get("/inventory/sync-runs", summary="Recent stock sync runs")
def sync_runs(hub: HubDep, who: CanReadInventory,
              source: Annotated[str | None, Query(max_length=64)] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    return {"items": _repo_call(hub, inventory_sync.list_sync_runs, source=source,
                                limit=limit)}


@router.get("/availability", summary="Can it be sold, from where, and when will it arrive")
def availability(hub: HubDep, who: CanReadInventory,
                 sku: Annotated[str, Query(min_length=1, max_length=64)],
                 quantity: Annotated[int, Query(ge=1, le=10**6)] = 1,
                 region: Annotated[str | None, Query(max_length=100)] = None,
                 channel: Annotated[str | None, Query(max_length=32)] = None) -> dict[str, Any]:
    return _repo_call(hub, inventory.availability, sku, quantity,  # type: ignore[no-any-return]
                      region, channel, hub.clock())


@router.post("/promotions", status_code=201, summary="Create a promotion quota (draft)")
def create_promotion(body: PromotionIn, hub: HubDep,
                     who: CanManagePromotions) -> dict[str, Any]:
    promotion_id = promotions.create(promotions.NewPromotion(**body.model_dump()), hub.uow,
                                     hub.clock)
    return _board(hub, promotion_id)


@router.post("/promotions/{promotion_id}/start", summary="Lock the quota and go live")
def start_promotion(promotion_id: str, hub: HubDep, who: CanManagePromotions) -> dict[str, Any]:
    promotions.start(promotion_id, hub.uow, hub.clock)
    return _board(hub, promotion_id)


@router.post("/promotions/{promotion_id}/end", summary="End it; unclaimed units go back")
def end_promotion(promotion_id: str, hub: HubDep, who: CanManagePromotions) -> dict[str, Any]:
    promotions.end(promotion_id, hub.uow, hub.clock)
    return _board(hub, promotion_id)


@router.get("/promotions/{promotion_id}", summary="The live board: claimed, remaining, orders")
def get_promotion(promotion_id: str, hub: HubDep, who: CanReadInventory) -> dict[str, Any]:
    return _board(hub, promotion_id)


def _board(hub: HubDep, promotion_id: str) -> dict[str, Any]:
    return _repo_call(hub, promotions.board, promotion_id)  # type: ignore[no-any-return]
