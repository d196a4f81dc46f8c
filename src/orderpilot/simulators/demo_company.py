"""The demo company, 海豚跨境 Dolphin Cross-border (Ningbo, baby products), and the script of
each simulated order's life: which systems report what, when, and how untidily.

Times in a script are *demo seconds* after the order was placed; the stream divides them by
its speed factor, so at speed 1 a whole lifecycle plays out in one to two minutes.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.simulators.demo_returns_plan import CARRIER_SOURCES
from orderpilot.simulators.demo_returns_plan import request as return_request
from orderpilot.simulators.demo_returns_plan import shipment as plan_shipment

COMPANY = "海豚跨境 Dolphin Cross-border"
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Shop:
    channel: str
    shop_id: str
    currency: str
    market: str  # CN | SG | MY
    weight: float
    cny_per_unit: Decimal  # to price the CNY catalogue in the shop's currency
    prefix: str  # how the platform's order numbers start


SHOPS = (
    Shop("youzan", "wx-mini", "CNY", "CN", 0.35, Decimal(1), "YZ"),
    Shop("own_store", "web-cn", "CNY", "CN", 0.25, Decimal(1), "WEB"),
    Shop("shopee", "SG-01", "SGD", "SG", 0.25, Decimal("5.35"), "SP"),
    Shop("lazada", "MY-01", "MYR", "MY", 0.15, Decimal("1.55"), "LZ"),
)

PRODUCTS = (  # sku, name, CNY price
    ("DIAPER-L", "纸尿裤L码", Decimal("129.00")), ("DIAPER-M", "纸尿裤M码", Decimal("119.00")),
    ("FORMULA-2", "婴儿奶粉2段", Decimal("268.00")),
    ("FORMULA-3", "婴儿奶粉3段", Decimal("248.00")),
    ("WIPES-80", "婴儿湿巾80抽", Decimal("19.90")), ("BOTTLE-240", "奶瓶240ml", Decimal("89.00")),
    ("TEETHER-01", "硅胶牙胶", Decimal("39.90")), ("CREAM-50", "婴儿护臀膏50g", Decimal("59.00")),
)

# Every source the simulated company reports as: its shops, the ERP, the WMS, the couriers and
# the CRM. The demo's API token is issued for exactly these (``source:<name>`` scopes).
REPORTING_SOURCES = (*(shop.channel for shop in SHOPS), "kingdee", "wms", *CARRIER_SOURCES,
                     "crm")

CN_PLACES = (  # province, city, district, postal code
    ("浙江省", "宁波市", "鄞州区", "315100"), ("浙江省", "杭州市", "西湖区", "310013"),
    ("上海市", "上海市", "浦东新区", "200120"), ("江苏省", "苏州市", "吴中区", "215100"),
    ("广东省", "深圳市", "南山区", "518000"), ("广东省", "广州市", "天河区", "510620"),
    ("北京市", "北京市", "朝阳区", "100020"), ("四川省", "成都市", "武侯区", "610041"),
    ("湖北省", "武汉市", "洪山区", "430070"), ("山东省", "青岛市", "市南区", "266000"),
    ("福建省", "厦门市", "思明区", "361000"), ("河南省", "郑州市", "金水区", "450000"),
)
BONDED_PLACES = (  # exercises the bonded-zone address flag (S4)
    ("浙江省", "宁波市", "北仑区", "宁波北仑保税区港东大道{n}号", "315800"),
    ("浙江省", "宁波市", "北仑区", "宁波梅山综合保税区梅山大道{n}号", "315832"),
    ("河南省", "郑州市", "新郑市", "郑州新郑综合保税区航程路{n}号", "451150"),
)
STREETS = ("人民路", "中山路", "解放大道", "建设路", "文化路", "新华路", "长江路", "和平街")
FOREIGN_PLACES = {
    "SG": (("", "Singapore", "", "Blk {n} Tampines St 8{m}, #0{m}-1{n}", "520{n}"),),
    "MY": (("Selangor", "Petaling Jaya", "", "No. {n}, Jalan SS2/{m}", "47300"),
           ("Kuala Lumpur", "Kuala Lumpur", "", "{n} Jalan Ampang, Unit {m}-2", "50450")),
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
GIVEN = ("芳", "静", "婷", "磊", "洋", "敏", "佳怡", "子涵", "欣然", "浩然", "雨桐", "一诺")
FOREIGN_NAMES = {"SG": ("Tan Wei Ling", "Lim Jia Hui", "Rachel Ong", "Muhammad Faiz"),
                 "MY": ("Nur Aisyah", "Lee Mei Ling", "Ahmad Hafiz", "Siti Rahmah")}
CANCEL_REASONS = ("等不及", "太贵", "拍错了", "不想要了")
# A return's moves the stream makes through the returns API (ops): the rest (inspection,
# refund) is left to the console's staff.
RETURN_MOVES = (("approve", 5.0, 15.0), ("in-transit", 10.0, 25.0), ("received", 10.0, 25.0),
                ("inspect", 3.0, 8.0))
OPEN_AFTER_RETURN = 0.2  # returns whose receivable the ERP never closes (the seed's finding)


@dataclass(frozen=True)
class Step:
    at: float  # demo seconds after placement
    kind: str  # event | hold | release | return (a request) | return_move (data: move)
    type: str = ""  # event type, or the hold reason
    source: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    late_by: float = 0.0  # real seconds: occurred_at lies this far before the send
    duplicate: bool = False  # the system sends the same report twice


@dataclass(frozen=True)
class OrderPlan:
    body: dict[str, Any]
    idempotency_key: str
    post_twice: bool
    steps: tuple[Step, ...]
    out_of_order: bool


def _share(key: str) -> float:
    """A stable number in [0, 1) for KEY, to decide without drawing from the script's RNG."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 16**8


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _address(rng: random.Random, market: str) -> tuple[dict[str, str], bool]:
    """A shipping address, and whether it lacks the parts a courier needs."""
    n, m = rng.randint(1, 99), rng.randint(1, 9)
    if market != "CN":
        province, city, district, line1, postal = rng.choice(FOREIGN_PLACES[market])
        return {"country": market, "province": province, "city": city, "district": district,
                "line1": line1.format(n=n, m=m), "postal_code": postal.format(n=n)}, False
    roll = rng.random()
    if roll < 0.05:  # the buyer typed only a housing estate: hold until they complete it
        return {"country": "CN", "line1": f"阳光花园{m}栋{n}0{m}室"}, True
    if roll < 0.20:
        province, city, district, line1, postal = rng.choice(BONDED_PLACES)
        return {"country": "CN", "province": province, "city": city, "district": district,
                "line1": line1.format(n=n), "postal_code": postal}, False
    province, city, district, postal = rng.choice(CN_PLACES)
    line1 = f"{rng.choice(STREETS)}{n}号{m}栋{rng.randint(1, 30)}0{m}室"
    return {"country": "CN", "province": province, "city": city, "district": district,
            "line1": line1, "postal_code": postal}, False


def order_body(rng: random.Random, shop: Shop, external_id: str,
               placed_at: datetime) -> tuple[dict[str, Any], bool]:
    """The order as the channel's connector would post it to the hub's API."""
    lines: list[dict[str, Any]] = []
    for sku, name, cny in rng.sample(PRODUCTS, rng.choice((1, 1, 1, 2, 2, 3))):
        price = (cny / shop.cny_per_unit).quantize(TENTH)
        quantity = rng.choice((1, 1, 2, 3)) if sku != "WIPES-80" else rng.choice((2, 4, 6))
        lines.append({"sku": sku, "name": name, "quantity": quantity,
                      "unit_price": _money(price), "discount": "0.00"})
    subtotal = sum(Decimal(ln["unit_price"]) * ln["quantity"] for ln in lines)
    if rng.random() < 0.3 and subtotal > 50:  # 店铺满减
        lines[0]["discount"] = _money((Decimal(10) / shop.cny_per_unit).quantize(TENTH))
        subtotal -= Decimal(lines[0]["discount"])
    fee = Decimal(0) if subtotal >= 99 / shop.cny_per_unit else \
        (Decimal(8) / shop.cny_per_unit).quantize(TENTH)
    address, incomplete = _address(rng, shop.market)
    if shop.market == "CN":
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        phone = rng.choice(("138", "139", "150", "186", "187", "135", "177")) + \
            f"{rng.randrange(10**8):08d}"
    else:
        name = rng.choice(FOREIGN_NAMES[shop.market])
        phone = ("+658" if shop.market == "SG" else "+6012") + f"{rng.randrange(10**7):07d}"
    tags = [t for t, p in (("直播间", 0.15), ("新客", 0.1), ("会员", 0.05)) if rng.random() < p]
    body = {"channel": shop.channel, "shop_id": shop.shop_id, "external_id": external_id,
            "placed_at": placed_at.isoformat(), "currency": shop.currency,
            "customer": {"name": name, "phone": phone}, "shipping_address": address,
            "lines": lines, "total": _money(subtotal + fee), "shipping_fee": _money(fee),
            "tags": tags}
    return body, incomplete


def plan_order(rng: random.Random, number: int, run_tag: str, placed_at: datetime) -> OrderPlan:
    """One order and the reports the outside world will send about it, untidy as in life:
    some late, some twice, some out of order; a few cancelled, held or returned. The ERP
    opens a receivable after booking and closes it when the platform pays out or the order
    is refunded, except for a fifth of the returns (left open, as the seed found)."""
    shop = rng.choices(SHOPS, weights=[s.weight for s in SHOPS])[0]
    external_id = f"{shop.prefix}{run_tag}{number:05d}"
    body, incomplete = order_body(rng, shop, external_id, placed_at)
    channel, total = shop.channel, body["total"]
    steps: list[Step] = []
    t = 0.0

    def after(low: float, high: float, kind: str, type_: str = "", source: str = "",
              **data: Any) -> None:
        nonlocal t
        t += rng.uniform(low, high)
        late = rng.uniform(5, 150) if kind == "event" and rng.random() < 0.15 else 0.0
        steps.append(Step(t, kind, type_, source, data, late,
                          kind == "event" and rng.random() < 0.08))

    if rng.random() < 0.04:  # never paid
        after(10, 30, "event", "order.cancelled", channel, reason="超时未支付")
        return OrderPlan(body, f"demo:{channel}:{external_id}", False, tuple(steps), False)
    after(1, 5, "event", "payment.succeeded", channel, amount=total,
          method=rng.choice(("wechat_pay", "alipay", "card")))
    if incomplete:
        after(0.3, 1, "hold", "address_incomplete", note="收货地址缺少省市区,已联系买家补充")
        after(10, 20, "release", note="买家已补全地址")
    after(2, 8, "event", "erp.booked", "kingdee", bill_no=f"XSDD-{external_id}")
    receivable = {"bill_no": f"AR-{external_id}", "order_no": f"XSDD-{external_id}",
                  "amount": total}

    def erp_receivable(status: str) -> None:
        """Two demo seconds after the last step, drawing nothing from RNG, so the rest of the
        script is what it was before the ERP reported receivables."""
        extra = {"written_off": total} if status == "closed" else {}
        steps.append(Step(t + 2.0, "event", f"erp.receivable_{status}", "kingdee",
                          {**receivable, **extra, "status": status}))

    erp_receivable("opened")
    if rng.random() < 0.05:
        after(1, 5, "event", "order.cancelled", channel, reason=rng.choice(CANCEL_REASONS))
        after(3, 8, "event", "refund.succeeded", channel, amount=total)
        erp_receivable("closed")
        return OrderPlan(body, f"demo:{channel}:{external_id}", rng.random() < 0.03,
                         tuple(steps), False)
    bonded = "保税区" in body["shipping_address"].get("line1", "")
    after(2, 6, "event", "wms.released", "wms", warehouse="NB-BONDED" if bonded else "NB-01")
    picked = len(steps)
    after(4, 10, "event", "wms.picked", "wms")
    after(2, 6, "event", "wms.packed", "wms", parcels=1)
    shipped = plan_shipment(rng, f"{run_tag}:{number}")
    carrier, tracking = shipped.source, shipped.tracking_number
    after(3, 8, "event", "shipment.shipped", carrier, **shipped.data())
    out_of_order = rng.random() < 0.08
    if out_of_order:  # the WMS batch upload lands after the carrier's first scan
        step = steps.pop(picked)
        steps.append(Step(t + rng.uniform(1, 4), step.kind, step.type, step.source, step.data,
                          step.late_by, step.duplicate))
    after(6, 15, "event", "shipment.in_transit", carrier, tracking_number=tracking)
    after(10, 25, "event", "shipment.delivered", carrier, tracking_number=tracking)
    if rng.random() < (0.12 if shop.market == "CN" else 0.0):  # mainland buyers (the SMS)
        # Through the returns API: the routing rule routes it (or holds the order for a
        # decision), books SF's pickup and texts the buyer; ops approve and receive it.
        after(4, 12, "return", "return.requested", channel,
              **return_request(rng, body, shipped, external_id))
        for move, low, high in RETURN_MOVES:
            after(low, high, "return_move", move)
        if _share(external_id) >= OPEN_AFTER_RETURN:
            erp_receivable("closed")
    else:
        after(8, 20, "event", "order.completed", channel)
        erp_receivable("closed")
    return OrderPlan(body, f"demo:{channel}:{external_id}", rng.random() < 0.03,
                     tuple(sorted(steps, key=lambda s: s.at)), out_of_order)
