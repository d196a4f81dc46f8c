"""The demo's four shops on their platforms' simulators: orders arrive as the platforms send
them, by signed push (some pushed twice, some never pushed and caught up by the scheduled pull).

The shops: Shopee Singapore, Lazada, the company's own Shopify store and the Youzan WeChat
mini-program. Each is a channel account on the simulator that `orderpilot demo` starts; a new
order is made on the platform (in its own format), paid there as a rule, and pushed to the
hub's /hooks/{code} by the simulator, signed as the platform signs.
"""

from __future__ import annotations

import importlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from orderpilot.bootstrap import Hub
from orderpilot.services.channels import accounts


@dataclass(frozen=True)
class DemoShop:
    platform: str
    code: str
    paid_status: str  # the platform's status for "paid, waiting to ship"
    weight: float


SHOPS = (
    DemoShop("youzan", "youzan-mini", "WAIT_SELLER_SEND_GOODS", 0.35),
    DemoShop("shopify", "own-store", "paid", 0.25),
    DemoShop("shopee", "shopee-sg", "READY_TO_SHIP", 0.25),
    DemoShop("lazada", "lazada-sg", "pending", 0.15),
)
LOST_PUSH = 0.08  # never pushed: the scheduled pull finds it
REPLAYED_PUSH = 0.05  # the platform pushes it twice
UNPAID = 0.04  # left unpaid on the platform


def connect_shops(hub: Hub, sim_url: str) -> None:
    """The four channel accounts, pointing at the simulators (idempotent: a re-run updates)."""
    for shop in SHOPS:
        module = importlib.import_module(f"orderpilot.integrations.{shop.platform}.simulator")
        credentials = dict(module.SIM_CREDENTIALS)
        if getattr(module, "SIM_REFRESH_TOKEN", None):
            credentials.setdefault("refresh_token", module.SIM_REFRESH_TOKEN)
        accounts.put_account(shop.code, accounts.AccountInput(
            shop.platform, module.SIM_SHOP_ID, module.SIM_REGION,
            f"{sim_url.rstrip('/')}/{shop.platform}", "", "", credentials,
            pull_every_minutes=1), hub.uow, hub.clock, hub.channels)
    hub.channel_accounts.clear()
    _erp_mapping(hub)


def _erp_mapping(hub: Hub) -> None:
    """The demo company's ERP has the shops' currencies set up (SGD, MYR as its own 币别)."""
    from orderpilot.integrations.kingdee.mapping import default_document, parse_mapping
    from orderpilot.services.back_office import finance

    document = default_document(hub.settings.kingdee_org_number)
    values = document["lookups"]["currencies"]["values"]
    values.update({"SGD": "SGD", "MYR": "MYR", "THB": "THB"})
    document["lookups"]["customers"]["values"].update(
        {"shopee": "CUST-SHOPEE", "lazada": "CUST-LAZADA", "shopify": "CUST-WEB",
         "youzan": "CUST-YOUZAN"})
    finance.save_mapping(hub.uow, hub.clock, document, "demo",
                         lambda d: parse_mapping(d).document)


@dataclass
class FeedStats:
    made: int = 0
    pushed: int = 0
    replayed: int = 0
    lost: int = 0
    refused: int = 0


class ChannelFeed:
    """Makes one order on a platform simulator and has the platform push it to the hub."""

    def __init__(self, sim_url: str, hub_url: str, seed: int = 7) -> None:
        self.sim = httpx.Client(base_url=sim_url.rstrip("/"), timeout=15.0)
        self.hub_url = hub_url.rstrip("/")
        self.rng = random.Random(seed + 99)
        self.stats = FeedStats()

    def place(self, number: int) -> tuple[str, str] | None:
        """(platform, the platform's order id), or None when the simulator said no."""
        shop = self.rng.choices(SHOPS, weights=[s.weight for s in SHOPS])[0]
        made = self.sim.post(f"/_sim/{shop.platform}/generate", json={
            "count": 1, "seed": self.rng.randrange(10**9) + number,
            "start": datetime.now(UTC).isoformat(), "spread_seconds": 1})
        if made.status_code != 200:
            return None
        external_id = str(made.json()["external_ids"][0])
        self.stats.made += 1
        if self.rng.random() >= UNPAID:
            self.sim.post(f"/_sim/{shop.platform}/status", json={
                "external_id": external_id, "status": shop.paid_status})
        if self.rng.random() < LOST_PUSH:
            self.stats.lost += 1
            return shop.platform, external_id
        times = 2 if self.rng.random() < REPLAYED_PUSH else 1
        sent = self.sim.post(f"/_sim/{shop.platform}/push", json={
            "hook_url": f"{self.hub_url}/hooks/{shop.code}", "external_id": external_id,
            "times": times})
        if sent.status_code == 200 and 200 <= int(sent.json().get("status", 0)) < 300:
            self.stats.pushed += 1
            self.stats.replayed += times - 1
        else:
            self.stats.refused += 1
        return shop.platform, external_id

    def close(self) -> None:
        self.sim.close()
