"""Realistic TikTok Shop orders (API 202309 shape) for the simulator and the demo.

One row per unit in ``line_items``, seller and platform discounts per unit, shipping fees with
shipping discounts, masked recipient fields, ids as TikTok shapes them (18-digit strings
starting ``576``), money as decimal strings ("149", "4.9"). See mapping.py for the sources.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

# seller_sku, sku_id, product_id, product name, variation, price in MYR
CATALOGUE = (
    ("DIAPER-L", "1729556497383196642", "1729556489100298210", "Soft Diapers Pack", "L, 54 pcs",
     Decimal("69.90")),
    ("DIAPER-M", "1729556497383196643", "1729556489100298210", "Soft Diapers Pack", "M, 60 pcs",
     Decimal("65.90")),
    ("FORMULA-2", "1729556497383196701", "1729556489100298301", "Growing-up Milk Stage 2",
     "900 g", Decimal("119.00")),
    ("WIPES-80", "1729556497383196802", "1729556489100298402", "Water Wipes", "80 sheets",
     Decimal("12.50")),
    ("BOTTLE-240", "1729556497383196903", "1729556489100298503", "Glass Feeding Bottle",
     "240 ml", Decimal("39.00")),
    ("", "1729556497383197004", "1729556489100298604", "Baby Cream", "50 ml",
     Decimal("24.90")),
)
STATUS_WEIGHTS = (("AWAITING_SHIPMENT", 40), ("UNPAID", 8), ("ON_HOLD", 4),
                  ("AWAITING_COLLECTION", 10), ("PARTIALLY_SHIPPING", 3), ("IN_TRANSIT", 12),
                  ("DELIVERED", 8), ("COMPLETED", 10), ("CANCELLED", 5))
CURRENCY = {"MY": ("MYR", Decimal(1)), "SG": ("SGD", Decimal("0.3")),
            "TH": ("THB", Decimal(8)), "PH": ("PHP", Decimal(12)),
            "VN": ("VND", Decimal(5000)), "ID": ("IDR", Decimal(3500)),
            "US": ("USD", Decimal("0.25")), "GB": ("GBP", Decimal("0.2"))}
SHIPPED = frozenset({"AWAITING_COLLECTION", "PARTIALLY_SHIPPING", "IN_TRANSIT", "DELIVERED",
                     "COMPLETED"})
PAID = SHIPPED | {"ON_HOLD", "AWAITING_SHIPMENT"}
STATES = (("Selangor", "Petaling Jaya"), ("Johor", "Johor Bahru"), ("Penang", "George Town"),
          ("Perak", "Ipoh"), ("Sabah", "Kota Kinabalu"))


@lru_cache(maxsize=4096)
def money_text(amount: Decimal) -> str:
    """As TikTok writes money: "149", "4.9", "12.5"."""
    if amount == amount.to_integral_value():
        return str(int(amount))
    return f"{amount:.2f}".rstrip("0")


def generate(count: int, seed: int, start: datetime, spread_seconds: int,
             region: str = "MY") -> list[dict[str, Any]]:
    """COUNT orders with create and update times within SPREAD_SECONDS from START."""
    rng = random.Random(seed)
    begin = int(start.timestamp())
    end = begin + max(int(spread_seconds), 0)
    statuses = [s for s, _ in STATUS_WEIGHTS]
    weights = [w for _, w in STATUS_WEIGHTS]
    seen: set[str] = set()
    orders = []
    for _ in range(count):
        order_id = _tiktok_id(rng)
        while order_id in seen:
            order_id = _tiktok_id(rng)
        seen.add(order_id)
        status = rng.choices(statuses, weights)[0]
        created = rng.randint(begin, end)
        orders.append(_order(rng, order_id, status, created, end, region))
    return orders


def sample_order(seed: int, region: str) -> dict[str, Any]:
    """One realistic order (the ChannelPlatform's ``sample_order``)."""
    return generate(1, seed, datetime(2026, 3, 1, 10, tzinfo=UTC), 3600, region)[0]


def _order(rng: random.Random, order_id: str, status: str, created: int, end: int,
           region: str) -> dict[str, Any]:
    currency, factor = CURRENCY.get(region.upper(), CURRENCY["MY"])
    whole = factor >= 100
    units: list[dict[str, Any]] = []
    for seller_sku, sku_id, product_id, name, variation, price in rng.sample(
            CATALOGUE, rng.randint(1, 3)):
        original = _scale(price, factor, whole)
        seller = _scale(price * Decimal(rng.choice((0, 0, 10, 15))) / 100, factor, whole)
        platform = _scale(Decimal(rng.choice((0, 0, 0, 1, 2))), factor, whole)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            units.append({
                "id": _tiktok_id(rng), "sku_id": sku_id,
                "product_id": product_id, "seller_sku": seller_sku, "product_name": name,
                "sku_name": variation, "currency": currency,
                "original_price": money_text(original),
                "sale_price": money_text(original - seller - platform),
                "seller_discount": money_text(seller),
                "platform_discount": money_text(platform), "is_gift": False,
                "display_status": status, "sku_type": "NORMAL"})
    paid = min(created + rng.randint(5, 300), end) if status in PAID or (
        status == "CANCELLED" and rng.random() < 0.5) else None
    updated = max(paid or created, min(created + rng.randint(0, 3600), end))
    order = {
        "id": order_id, "status": status, "create_time": created, "update_time": updated,
        "buyer_email": f"v2{rng.randrange(10**9, 10**10)}@scs2.tiktok.com",
        "buyer_message": rng.choice(("", "", "", "Please pack carefully")),
        "user_id": str(7494000000000000000 + rng.randrange(10**15)),
        "commerce_platform": "TIKTOK_SHOP", "order_type": "NORMAL",
        "fulfillment_type": "FULFILLMENT_BY_SELLER", "shipping_type": "TIKTOK",
        "delivery_type": "HOME_DELIVERY", "delivery_option_name": "Standard shipping",
        "payment_method_name": rng.choice(("Online Banking", "Credit/Debit Card",
                                           "Cash on delivery")),
        "is_cod": False, "is_on_hold_order": status == "ON_HOLD", "is_sample_order": False,
        "line_items": units, "payment": _payment(rng, units, currency, factor, whole),
        "recipient_address": _address(rng, region), "packages": []}
    if paid is not None:
        order["paid_time"] = paid
    if status == "CANCELLED":
        order.update(cancel_time=updated, cancel_reason="Need to change color or size",
                     cancellation_initiator="BUYER")
    if status in ("DELIVERED", "COMPLETED"):
        order["delivery_time"] = updated
    if status in PAID:
        _package(rng, order, status)
    return order


def _payment(rng: random.Random, units: list[dict[str, Any]], currency: str,
             factor: Decimal, whole: bool) -> dict[str, str]:
    original = sum((Decimal(u["original_price"]) for u in units), Decimal(0))
    seller = sum((Decimal(u["seller_discount"]) for u in units), Decimal(0))
    platform = sum((Decimal(u["platform_discount"]) for u in units), Decimal(0))
    ship = _scale(Decimal(rng.choice(("4.90", "4.90", "8.00", "0"))), factor, whole)
    ship_platform = ship if rng.random() < 0.4 else Decimal(0)
    ship_seller = _scale(Decimal(2), factor, whole) if ship and not ship_platform \
        and rng.random() < 0.3 else Decimal(0)
    shipping = ship - ship_platform - ship_seller
    return {"currency": currency, "original_total_product_price": money_text(original),
            "seller_discount": money_text(seller), "platform_discount": money_text(platform),
            "sub_total": money_text(original - seller - platform),
            "original_shipping_fee": money_text(ship),
            "shipping_fee_seller_discount": money_text(ship_seller),
            "shipping_fee_platform_discount": money_text(ship_platform),
            "shipping_fee": money_text(shipping), "tax": "0",
            "total_amount": money_text(original - seller - platform + shipping)}


def _package(rng: random.Random, order: dict[str, Any], status: str) -> None:
    package_id = f"1153{rng.randrange(10**14, 10**15)}"
    order["packages"] = [{"id": package_id}]
    units = order["line_items"]
    shipped = status in SHIPPED and status != "AWAITING_COLLECTION"
    tracking = f"JNT{rng.randrange(10**9, 10**10)}" if status in SHIPPED else ""
    for index, unit in enumerate(units):
        unit["package_id"] = package_id
        unit["package_status"] = ("COMPLETED" if status in ("DELIVERED", "COMPLETED") else
                                  "PROCESSING" if shipped else "TO_FULFILL")
        if tracking:
            unit.update(tracking_number=tracking, shipping_provider_name="J&T Express")
        if status == "PARTIALLY_SHIPPING":
            unit["display_status"] = "IN_TRANSIT" if index == 0 else "AWAITING_SHIPMENT"
    if tracking:
        order.update(tracking_number=tracking, shipping_provider="J&T Express")


def _address(rng: random.Random, region: str) -> dict[str, Any]:
    state, city = rng.choice(STATES)
    initial = rng.choice("ABCDEFGHJKLMNPRSTW")
    detail = f"No. {rng.randint(1, 9)}*, Jalan ******"
    return {"name": f"{initial}*** {rng.choice('LTWKC')}***",
            "phone_number": f"(+60)1{rng.randint(1, 9)}*******{rng.randint(10, 99)}",
            "region_code": region.upper() or "MY", "postal_code": f"{rng.randint(1, 9)}****",
            "address_detail": detail, "full_address": f"Malaysia, {state}, {city}, {detail}",
            "district_info": [
                {"address_level": "L0", "address_level_name": "Country",
                 "address_name": "Malaysia"},
                {"address_level": "L1", "address_level_name": "State", "address_name": state},
                {"address_level": "L2", "address_level_name": "City", "address_name": city}]}


def _tiktok_id(rng: random.Random) -> str:
    """18 digits starting 576, as TikTok's order and line item ids look."""
    return f"576{10**14 + rng.getrandbits(49)}"


def _scale(amount: Decimal, factor: Decimal, whole: bool) -> Decimal:
    scaled = amount * factor
    return scaled.quantize(Decimal(1) if whole else Decimal("0.01"))
