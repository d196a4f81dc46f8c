"""Realistic Shopee orders for the simulator and the demo, in get_order_detail's own shape
(see mapping.py for the sources), each with the escrow detail Shopee would give for it.

Lines come from the demo company's baby-products catalogue (the WMS's SKUs), some items with
models (``model_sku``) and some without (``item_sku``, ``model_id`` 0); discounts, seller and
Shopee vouchers, coins and the buyer's shipping fee vary; buyer name and phone are masked the
way Shopee masks them (``P******n``, ``******64``); ``order_sn`` is Shopee's
``YYMMDD`` + 8 characters.
"""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")
# sku -> (item_id, model_id, item name, model name, SGD price); model_id 0: no variations
CATALOGUE = (
    ("DIAPER-L", 23620853561, 221404189791, "Dolphin Baby Soft Diapers", "L 54pcs",
     Decimal("28.90")),
    ("DIAPER-M", 23620853561, 221404189792, "Dolphin Baby Soft Diapers", "M 62pcs",
     Decimal("27.90")),
    ("FORMULA-2", 24110045327, 0, "Dolphin Growing-Up Formula Stage 2 800g", "",
     Decimal("45.50")),
    ("FORMULA-3", 24110045328, 0, "Dolphin Growing-Up Formula Stage 3 800g", "",
     Decimal("43.50")),
    ("WIPES-80", 25001230011, 231100450021, "Water Baby Wipes", "80 sheets x 1",
     Decimal("3.20")),
    ("BOTTLE-240", 25001230078, 231100450098, "Wide-Neck Feeding Bottle", "240ml",
     Decimal("16.80")),
    ("TEETHER-01", 26004411202, 0, "Silicone Fruit Teether", "", Decimal("9.90")),
    ("CREAM-50", 26004411290, 0, "Gentle Baby Cream 50g", "", Decimal("12.50")),
)
STATUS_WEIGHTS = (("UNPAID", 8), ("READY_TO_SHIP", 30), ("PROCESSED", 12), ("SHIPPED", 20),
                  ("TO_CONFIRM_RECEIVE", 5), ("COMPLETED", 17), ("CANCELLED", 5),
                  ("IN_CANCEL", 1), ("TO_RETURN", 2))
SHIPPED_STATUSES = {"SHIPPED", "TO_CONFIRM_RECEIVE", "COMPLETED", "TO_RETURN"}
PACKED_STATUSES = {"PROCESSED", "RETRY_SHIP"} | SHIPPED_STATUSES
LOGISTICS = {"PROCESSED": "LOGISTICS_READY", "SHIPPED": "LOGISTICS_PICKUP_DONE",
             "TO_CONFIRM_RECEIVE": "LOGISTICS_DELIVERY_DONE",
             "COMPLETED": "LOGISTICS_DELIVERY_DONE", "TO_RETURN": "LOGISTICS_DELIVERY_DONE",
             "RETRY_SHIP": "LOGISTICS_PICKUP_RETRY", "READY_TO_SHIP": "LOGISTICS_NOT_START"}
REGION_MONEY = {"SG": ("SGD", Decimal(1), CENT), "MY": ("MYR", Decimal("3.5"), CENT),
                "TH": ("THB", Decimal(26), CENT), "PH": ("PHP", Decimal(42), CENT),
                "VN": ("VND", Decimal(18000), Decimal(1)),
                "ID": ("IDR", Decimal(11000), Decimal(1)),
                "TW": ("TWD", Decimal(24), Decimal(1))}
PLACE = timezone(timedelta(hours=8))  # order_sn dates read as Shopee's UTC+8 day
_STATUSES = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
_SN = string.ascii_uppercase + string.digits


def generate(count: int, seed: int, start: datetime, spread_seconds: int,
             region: str = "SG", shop_id: int = 0) -> list[dict[str, Any]]:
    """COUNT orders created and updated within SPREAD_SECONDS from START (each with its
    ``escrow_detail``; the simulator keeps that apart)."""
    rng = random.Random(seed)
    base = int(start.timestamp())
    seen: set[str] = set()
    orders = []
    for _ in range(count):
        created = base + (rng.randrange(spread_seconds) if spread_seconds > 0 else 0)
        order = order_for(rng, created, base + max(spread_seconds, 0), region, seen)
        orders.append(order)
    return orders


def sample_order(n: int, region: str) -> dict[str, Any]:
    """Sample order number N of REGION (stable for one N), with its escrow detail."""
    created = int(datetime(2026, 3, 1, 2, 0, tzinfo=UTC).timestamp()) + n * 97
    return order_for(random.Random(n), created, created + 86_400, region or "SG", set())


def order_for(rng: random.Random, created: int, latest: int, region: str,
              seen: set[str]) -> dict[str, Any]:
    currency, rate, step = REGION_MONEY.get(region.upper(), REGION_MONEY["SG"])
    status = rng.choice(_STATUSES)
    order_sn = _order_sn(rng, created, seen)
    items = [_item(rng, rate, step) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
    subtotal = sum((i["model_discounted_price"] * i["model_quantity_purchased"]
                    for i in items), Decimal(0))
    shipping = Decimal(0) if subtotal >= 40 * rate else (Decimal("2.99") * rate).quantize(step)
    offers = subtotal >= 15 * rate  # vouchers have a minimum spend
    seller_voucher = (2 * rate).quantize(step) if offers and rng.random() < 0.2 else Decimal(0)
    shopee_voucher = (3 * rate).quantize(step) if offers and rng.random() < 0.15 \
        else Decimal(0)
    coins = (Decimal(rng.randrange(50, 151)) / 100 * rate).quantize(step) \
        if offers and rng.random() < 0.25 else Decimal(0)
    total = max(subtotal + shipping - seller_voucher - shopee_voucher - coins, Decimal(0))
    paid = status != "UNPAID"
    pay_time = created + rng.randrange(30, 900) if paid else 0
    updated = min(max(pay_time, created) + rng.randrange(0, 3600), max(latest, created))
    masked_phone = "******" + f"{rng.randrange(100):02d}"
    first, last = rng.choice("ALMSTWJKPN"), rng.choice("ngaeyhs")
    order: dict[str, Any] = {
        "order_sn": order_sn, "region": region.upper(), "currency": currency, "cod": False,
        "order_status": status, "create_time": created, "update_time": max(updated, created),
        "pay_time": pay_time, "days_to_ship": 2, "ship_by_date": created + 2 * 86_400,
        "buyer_user_id": rng.randrange(10**8, 2 * 10**9),
        "buyer_username": "".join(rng.choice(string.ascii_lowercase + string.digits)
                                  for _ in range(10)),
        "message_to_seller": rng.choice(("", "", "", "请尽快发货", "Please pack well")),
        "note": "", "payment_method": rng.choice(("Credit/Debit Card", "ShopeePay",
                                                  "PayNow")),
        "shipping_carrier": "Standard Delivery", "estimated_shipping_fee":
            (Decimal("3.49") * rate).quantize(step), "actual_shipping_fee": Decimal(0),
        "total_amount": total.quantize(step),
        "recipient_address": {
            "name": f"{first}******{last}", "phone": masked_phone, "town": "",
            "district": "", "city": "Singapore" if region.upper() == "SG" else "",
            "state": "", "region": region.upper(), "zipcode": f"{rng.randrange(10**5, 10**6)}",
            "full_address": f"Blk {rng.randrange(1, 999)} Tampines St {rng.randrange(10, 99)}, "
                            f"#0{rng.randrange(1, 9)}-{rng.randrange(10, 999)}"},
        "item_list": items, "package_list": _packages(rng, order_sn, items, status),
        "escrow_detail": {"order_sn": order_sn, "buyer_payment_info": {
            "buyer_payment_method": "ShopeePay", "merchant_subtotal": subtotal.quantize(step),
            "shipping_fee": shipping, "seller_voucher": -seller_voucher,
            "shopee_voucher": -shopee_voucher, "shopee_coins_redeemed": -coins,
            "credit_card_promotion": Decimal(0), "buyer_total_amount": total.quantize(step)}}
        if paid else None,
    }
    if order["escrow_detail"] is None:
        del order["escrow_detail"]
    return order


def _order_sn(rng: random.Random, created: int, seen: set[str]) -> str:
    day = datetime.fromtimestamp(created, PLACE).strftime("%y%m%d")
    while True:
        order_sn = day + "".join(rng.choice(_SN) for _ in range(8))
        if order_sn not in seen:
            seen.add(order_sn)
            return order_sn


def _item(rng: random.Random, rate: Decimal, step: Decimal) -> dict[str, Any]:
    sku, item_id, model_id, name, model, price = rng.choice(CATALOGUE)
    original = (price * rate).quantize(step)
    discounted = (original * Decimal("0.9")).quantize(step) if rng.random() < 0.3 else original
    return {"item_id": item_id, "item_name": name, "item_sku": sku if not model_id else "",
            "model_id": model_id, "model_name": model, "model_sku": sku if model_id else "",
            "model_quantity_purchased": rng.choice((1, 1, 1, 2, 3)),
            "model_original_price": original, "model_discounted_price": discounted,
            "order_item_id": item_id, "promotion_type":
                "product_promotion" if discounted != original else "",
            "weight": Decimal("0.5")}


def _packages(rng: random.Random, order_sn: str, items: list[dict[str, Any]],
              status: str) -> list[dict[str, Any]]:
    if status not in LOGISTICS:
        return []
    return [{"package_number": f"OFG{rng.randrange(10**14, 10**15)}",
             "logistics_status": LOGISTICS[status], "shipping_carrier": "Standard Delivery",
             "item_list": [{"item_id": i["item_id"], "model_id": i["model_id"],
                            "model_quantity": i["model_quantity_purchased"]} for i in items]}]
