"""A small, realistic data set for the console tests, made through the services (no SQL)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from orderpilot.adapters.accounts import AccountRepository
from orderpilot.adapters.quarantine import keep_in_quarantine
from orderpilot.bootstrap import Hub, bootstrap
from orderpilot.config import Settings
from orderpilot.domain.commands import (
    LineInput,
    PlaceHold,
    PlaceOrder,
    ReleaseHold,
    ReportEvent,
)
from orderpilot.domain.events import OrderEvent
from orderpilot.domain.messages import bilingual_note
from orderpilot.domain.order import Hold
from orderpilot.services import ordering
from orderpilot.services.accounts import create_user

PASSWORD = "correct-horse-42"
USERS = {"admin": "admin", "ops": "ops", "viewer": "viewer", "finance": "finance"}

# The order of moves from placement; each report comes from the system that owns the step.
STEPS = {
    "paid": ("payment.succeeded", "shopee"),
    "validated": ("order.validated", "hub"),
    "erp_booked": ("erp.booked", "kingdee"),
    "allocated": ("inventory.allocated", "hub"),
    "released_to_wms": ("wms.released", "wms"),
    "picked": ("wms.picked", "wms"),
    "packed": ("wms.packed", "wms"),
    "shipped": ("shipment.shipped", "sf"),
    "delivered": ("shipment.delivered", "sf"),
}
PATH = list(STEPS)


class SeedClock:
    """Real time, except while seeding: then the time the seed says, so recorded times and
    reporting lags look like a real day's (a report 12 minutes late, not two days)."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


@dataclass
class Seeded:
    hub: Hub
    orders: dict[str, str] = field(default_factory=dict)  # external id -> order id
    held_pre_shipment: set[str] = field(default_factory=set)  # order ids


def _crm_unreachable(event: OrderEvent, uow: object, clock: object) -> None:
    """A handler whose system is down, so the dead-letter page has something to show."""
    raise ConnectionError("CRM at crm.internal:8443 did not answer within 5 s")


def make_hub(data_dir: Path) -> Hub:
    hub = bootstrap(Settings(data_dir=data_dir, embedded_dispatcher=False, log_level="WARNING",
                             dispatch_max_attempts=1), clock=SeedClock())
    hub.registry.on("hold.released", "crm.sync_level", _crm_unreachable)
    if importlib.util.find_spec("orderpilot.adapters.migrations") is not None:
        from orderpilot.adapters import migrations

        migrations.upgrade(hub.db)
    else:
        from orderpilot.adapters.tables import metadata

        metadata.create_all(hub.db.engine)
    with hub.db.write() as conn:
        for name, role in USERS.items():
            create_user(AccountRepository(conn), name, PASSWORD, role, hub.clock,
                        display_name=name.title())
    return hub


def _place(hub: Hub, channel: str, external_id: str, placed_at: datetime, *, city: str,
           line1: str, phone: str, name: str, price: str, qty: int = 1) -> str:
    total = str(Decimal(price) * qty + Decimal("10.00"))
    cmd = PlaceOrder(channel=channel, shop_id=f"{channel}-main", external_id=external_id,
                     placed_at=placed_at, currency="CNY", customer_name=name,
                     customer_phone=phone,
                     address={"country": "CN", "province": "浙江省", "city": city,
                              "district": "", "line1": line1, "postal_code": "315800"},
                     lines=(LineInput("SKU-MILK-01", qty, price, "婴儿奶粉 1段 800g"),),
                     total=total, shipping_fee="10.00", tags=("vip",) if qty > 1 else (),
                     raw_payload={"order_sn": external_id, "buyer": name, "buyer_phone": phone,
                                  "items": qty},
                     raw_source=channel, raw_version="v2")
    return ordering.place_order(cmd, hub.uow, hub.clock).order_id


def _advance(hub: Hub, clock: SeedClock, order_id: str, to: str, start: datetime) -> None:
    when = start
    for node in PATH[:PATH.index(to) + 1]:
        when += timedelta(minutes=9)
        type_, source = STEPS[node]
        # The ERP books about 12 minutes after the fact (S3); the others within seconds.
        clock.at = when + (timedelta(minutes=12) if node == "erp_booked" else
                           timedelta(seconds=4))
        ordering.report_event(ReportEvent(order_id, type_, source, when,
                                          source_event_id=f"{order_id}:{node}"),
                              hub.uow, hub.clock)


def seed(hub: Hub) -> Seeded:
    clock = hub.clock
    assert isinstance(clock, SeedClock)
    now = datetime.now(UTC)
    out = Seeded(hub)
    plan = [  # channel, external id, days ago, status, city, address, phone, name, price, qty
        ("shopee", "SP2611260001", 0, "paid", "宁波市", "北仑区保税区港东大道8号", "13812340000",
         "王芳", "259.00", 2),
        ("lazada", "LZ2611250002", 1, "erp_booked", "杭州市", "西湖区文三路90号", "13900001111",
         "李娜", "129.00", 1),
        ("own_store", "OS2611250003", 1, "shipped", "宁波市", "鄞州区天童南路1号",
         "13700002222", "张伟", "399.00", 1),
        ("youzan", "YZ2611240004", 2, "validated", "宁波市", "北仑区综合保税区1号楼",
         "13600003333", "刘洋", "688.00", 1),
        ("tmall", "TM2611230005", 3, "delivered", "上海市", "浦东新区张江路100号",
         "13500004444", "陈静", "89.00", 3),
        ("shopee", "SP2611220006", 4, "placed", "金华市", "义乌市稠州北路2号", "13400005555",
         "杨磊", "59.00", 1),
        ("jd", "JD2611210007", 5, "released_to_wms", "苏州市", "工业园区星湖街3号",
         "13300006666", "赵敏", "149.00", 2),
    ]
    for channel, ext, days, status, city, line1, phone, name, price, qty in reversed(plan):
        # Oldest first, so arrival order (what the list sorts by) matches placement order.
        placed = now - timedelta(days=days, hours=3)
        clock.at = placed + timedelta(seconds=2)
        order_id = _place(hub, channel, ext, placed, city=city, line1=line1, phone=phone,
                          name=name, price=price, qty=qty)
        out.orders[ext] = order_id
        if status != "placed":
            _advance(hub, clock, order_id, status, placed)
    clock.at = now - timedelta(hours=2)

    def hold(ext: str, reason: str, note: str) -> Hold:
        assert clock.at is not None
        clock.at += timedelta(minutes=11)
        return ordering.place_hold(PlaceHold(out.orders[ext], reason, note, "ops", "user"),
                                   hub.uow, hub.clock)

    hold("SP2611260001", "address_incomplete", "门牌号缺失,已联系买家")
    hold("YZ2611240004", "qualification_pending", "金额>500且收货地址含保税区")
    hold("YZ2611240004", "customs_check", "")
    hold("OS2611250003", "customer_request", "已发货后买家要求拦截")  # shipped: not exported
    released = hold("LZ2611250002", "payment_review", "")
    ordering.release_hold(ReleaseHold(out.orders["LZ2611250002"], released.id, "ops",
                                      reason="payment_confirmed"), hub.uow, hub.clock)
    keep_in_quarantine(hub, "lazada", "/api/v1/orders", bilingual_note(
                       "total 129.00 does not match the lines (sum of quantity x unit_price - "
                       "discount, plus shipping_fee) = 139.00",
                       "订单总额 129.00 与商品行合计（数量 × 单价 - 优惠 + 运费）139.00 不符"),
                       "total",
                       '{"channel": "lazada", "external_id": "LZ2611259999", "total": "129.00"}')
    hub.rules.ensure_default_sms_templates()  # the rule builder offers SMS_QUAL_UPLOAD
    out.held_pre_shipment = {out.orders["SP2611260001"], out.orders["YZ2611240004"]}
    clock.at = None
    dispatcher = hub.dispatcher("seed")
    while dispatcher.run_once():
        pass
    return out
