"""Realistic Lazada orders in Lazada's own shape (header + ``order_items``, one row per unit),
for the simulator's generator and the demo. Shapes follow the documented samples cited in
mapping.py: strings for money and ids, masked phones, ISO header times, item times like
"2026-03-01 10:20:30 +0800"."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from orderpilot.integrations.lazada.mapping import REGION_CURRENCY

ZONE_HOURS = {"SG": 8, "MY": 8, "PH": 8, "TH": 7, "ID": 7, "VN": 7}
# Prices are set in SGD and scaled to the site's money (whole units where cents are not used).
SCALE = {"SG": (Decimal(1), 2), "MY": (Decimal("3.5"), 2), "PH": (Decimal(42), 0),
         "TH": (Decimal(26), 0), "ID": (Decimal(11800), -2), "VN": (Decimal(18500), -3)}
COUNTRY = {"SG": "Singapore", "MY": "Malaysia", "PH": "Philippines", "TH": "Thailand",
           "ID": "Indonesia", "VN": "Vietnam"}
CATALOGUE = (
    ("CAT-FOOD-2KG", "Grain-free cat food 2 kg", Decimal("24.90")),
    ("DEWORM-3PK", "Cat dewormer, 3 tablets", Decimal("15.50")),
    ("LITTER-10L", "Clumping cat litter 10 L", Decimal("12.80")),
    ("", "Feather wand toy", Decimal("4.90")),  # no seller SKU: Lazada's ids stand in
    ("BOWL-SS-M", "Stainless steel bowl M", Decimal("7.30")),
    ("HARNESS-S", "Cat harness S", Decimal("18.00")),
)
NAMES = ("Tan Wei Ming", "Nur Aisyah", "Somchai P.", "Nguyen Van An", "Maria Santos", "Budi S.")
ORDER_BASE = 600_000_000_000_000


def lazada_times(moment: datetime, region: str) -> tuple[str, str]:
    """(header time, item time) of MOMENT in the site's zone."""
    hours = ZONE_HOURS.get(region, 8)
    local = moment.astimezone(timezone(timedelta(hours=hours)))
    return (local.isoformat(timespec="seconds"),
            local.strftime("%Y-%m-%d %H:%M:%S ") + f"+{hours:02d}00")


def _price(sgd: Decimal, region: str) -> Decimal:
    factor, places = SCALE.get(region, SCALE["SG"])
    return (sgd * factor).quantize(Decimal(1).scaleb(-places)).quantize(Decimal("0.01"))


def make_order(rng: random.Random, serial: int, region: str, created: datetime,
               updated: datetime) -> dict[str, Any]:
    region = region if region in ZONE_HOURS else "SG"
    order_id = str(ORDER_BASE + serial * 100_003)
    created_at, item_created = lazada_times(created, region)
    updated_at, item_updated = lazada_times(updated, region)
    roll = rng.random()
    status = ("unpaid" if roll < 0.08 else "canceled" if roll < 0.14 else
              "ready_to_ship" if roll < 0.3 else "shipped" if roll < 0.4 else
              "delivered" if roll < 0.5 else "pending")
    items: list[dict[str, Any]] = []
    for product in rng.sample(range(len(CATALOGUE)), rng.choice((1, 1, 2, 3))):
        sku, name, base = CATALOGUE[product]
        price = _price(base, region)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            item_id = str(int(order_id) + len(items) + 1)
            items.append({
                "order_item_id": item_id, "order_id": order_id, "name": name, "sku": sku,
                "shop_sku": f"{product + 1}{region}AMZ-{1000 + product}",
                "sku_id": str(2000 + product), "product_id": str(3000 + product),
                "item_price": f"{price:.2f}", "paid_price": f"{price:.2f}",
                "voucher_amount": "0.00", "voucher_seller": "0.00",
                "voucher_platform": "0.00", "shipping_amount": "0.00", "tax_amount": "0.00",
                "status": status, "currency": REGION_CURRENCY[region],
                "package_id": f"FP{order_id[-9:]}" if status in ("shipped", "delivered")
                else "",
                "tracking_code": f"LXSG{order_id[-10:]}" if status in ("shipped", "delivered")
                else "", "shipment_provider": "LEX SG", "shipping_type": "Dropshipping",
                "created_at": item_created, "updated_at": item_updated})
    if len(items) > 1 and status in ("pending", "ready_to_ship") and rng.random() < 0.15:
        items[-1]["status"] = "canceled"  # a partial cancellation
    price_total = sum((Decimal(i["item_price"]) for i in items), Decimal("0.00"))
    shipping = _price(Decimal(rng.choice(("0", "1.99", "3.49"))), region)
    seller_voucher = _price(Decimal("2.00"), region) if rng.random() < 0.25 else Decimal("0.00")
    platform_voucher = _price(Decimal("1.00"), region) if rng.random() < 0.2 else Decimal(
        "0.00")
    first = items[0]
    unit = Decimal(first["item_price"])
    seller_voucher = min(seller_voucher, unit)
    platform_voucher = min(platform_voucher, unit - seller_voucher)
    voucher = seller_voucher + platform_voucher
    first.update(voucher_seller=f"{seller_voucher:.2f}",
                 voucher_platform=f"{platform_voucher:.2f}", voucher_amount=f"{voucher:.2f}",
                 paid_price=f"{unit - voucher:.2f}", shipping_amount=f"{shipping:.2f}")
    phone = f"{rng.randint(6, 9)}****{rng.randint(10, 99)}"
    name = rng.choice(NAMES)
    street = f"{rng.randint(1, 300)} Changi Village Road, #{rng.randint(1, 20):02d}-59"
    address = {"first_name": name, "last_name": "", "phone": phone, "phone2": "",
               "address1": street, "address2": "", "address3": COUNTRY[region],
               "address4": "", "address5": "", "city": COUNTRY[region], "addressDsitrict": "",
               "post_code": str(rng.randint(100000, 899999)), "country": COUNTRY[region]}
    return {
        "order_id": order_id, "order_number": order_id, "created_at": created_at,
        "updated_at": updated_at, "price": f"{price_total:.2f}",
        "shipping_fee": f"{shipping:.2f}", "shipping_fee_original": f"{shipping:.2f}",
        "shipping_fee_discount_seller": "0.00", "shipping_fee_discount_platform": "0.00",
        "voucher": f"{voucher:.2f}", "voucher_seller": f"{seller_voucher:.2f}",
        "voucher_platform": f"{platform_voucher:.2f}", "voucher_code": "",
        "items_count": str(len(items)), "payment_method": rng.choice(("COD", "MIXEDCARD",
                                                                        "LAZADA_WALLET")),
        "statuses": sorted({i["status"] for i in items}), "customer_first_name": name,
        "customer_last_name": "", "buyer_note": "", "remarks": "", "gift_option": "false",
        "warehouse_code": "dropshipping", "address_shipping": address,
        "address_billing": dict(address), "order_items": items}


def sample_order(n: int, region: str) -> dict[str, Any]:
    """Order number N of REGION, the same every time."""
    moment = datetime(2026, 3, 1, 2, 0, tzinfo=UTC) + timedelta(minutes=n)
    return make_order(random.Random(n), n, region.upper(), moment, moment + timedelta(minutes=5))
