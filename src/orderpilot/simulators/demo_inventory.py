"""The demo company's stock (S5) and its live-stream promotion (S6), set up on the demo hub.

Three warehouses as in the brief: Ningbo Beilun bonded (sold first, in real time), Hangzhou
(transfer, held 24 h), Los Angeles (in transit: a date, never sold). Levels come from the WMS
simulator's own table, so the hub and the simulated WMS agree from the start; with a simulator
running, the hub keeps pulling from it. Running the demo again changes nothing already set.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from orderpilot.adapters.inventory import InventoryRepository
from orderpilot.domain.times import SHANGHAI
from orderpilot.integrations.wms import simulator as wms
from orderpilot.services.inventory import promotions
from orderpilot.services.inventory import pull as inventory_pull
from orderpilot.services.inventory import sync as inventory_sync
from orderpilot.services.inventory.sync import LevelReport

if TYPE_CHECKING:
    from orderpilot.bootstrap import Hub

# code -> kind, zh, en, region, lead days, schedule when pulling from the simulator
SOURCES = (
    ("NB-BONDED", "bonded_spot", "宁波仓", "Ningbo bonded", "浙江省", 1, "seconds"),
    ("HZ-DOMESTIC", "domestic_transfer", "杭州仓", "Hangzhou", "浙江省", 2, "every_60s"),
    ("LA-TRANSIT", "in_transit", "洛杉矶仓", "Los Angeles", "US", 20, "daily_0200"),
)
# Cross-border shops ship from the bonded zone only; the own store may split an order.
STRATEGIES: dict[str, dict[str, Any]] = {
    "youzan": {"tiers": ("bonded_spot", "domestic_transfer"), "allocate_on": "placed"},
    "own_store": {"tiers": ("bonded_spot", "domestic_transfer"), "allow_split": True},
    "shopee": {"tiers": ("bonded_spot",)},
    "lazada": {"tiers": ("bonded_spot",)},
}
PROMOTION = promotions.NewPromotion(
    name="直播间前100单送奶粉试用装", trigger_sku="FORMULA-2", gift_sku="SAMPLE-FORMULA-2",
    gift_source="NB-BONDED", quota=100)
LEVELS_EVENT = "demo:levels:v1"


def setup_demo_inventory(hub: Hub) -> None:
    pulling = bool(hub.settings.sim_url)
    for code, kind, zh, en, region, days, schedule in SOURCES:
        inventory_sync.put_source(inventory_sync.build_source(
            code=code, kind=kind, name_zh=zh, name_en=en, region=region, lead_time_days=days,
            sync_schedule=schedule if pulling else "manual",
            low_threshold=20 if kind == "bonded_spot" else 0), hub.uow, hub.clock)
    for channel, fields in STRATEGIES.items():
        inventory_sync.put_strategy(inventory_sync.build_strategy(channel=channel, **fields),
                                    hub.uow, hub.clock)
    today = datetime.now(SHANGHAI).date()
    levels = [LevelReport(code, sku, item["on_hand"],
                          date.fromisoformat(item["expected_at"])
                          if item.get("expected_at") else None)
              for code, items in wms.demo_stock(today).items() for sku, item in items.items()]
    inventory_sync.apply_levels(LEVELS_EVENT, levels, hub.uow, hub.clock, method="import")
    _ensure_promotion(hub)
    if pulling:
        inventory_pull.request_pulls(hub.uow, hub.clock, [s[0] for s in SOURCES])


def _ensure_promotion(hub: Hub) -> None:
    with hub.db.read() as conn:
        mine = [p for p in InventoryRepository(conn).promotions.recent()
                if p.name == PROMOTION.name and p.status in ("draft", "live")]
    if any(p.status == "live" for p in mine):
        return
    promotion_id = mine[0].id if mine else promotions.create(PROMOTION, hub.uow, hub.clock)
    promotions.start(promotion_id, hub.uow, hub.clock)
