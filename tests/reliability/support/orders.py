"""Valid canonical orders, as the API takes them (money as decimal strings)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

CHANNELS = ("shopee", "lazada", "own_store", "tmall")


def canonical_order(n: int, prefix: str) -> dict[str, Any]:
    """Order number ``n``: distinct external id, a total that matches its lines."""
    quantity = 1 + n % 3
    unit_price = Decimal("19.90") + n % 7
    discount = Decimal("1.50") if n % 4 == 0 else Decimal("0.00")
    shipping_fee = Decimal("6.00") if n % 5 == 0 else Decimal("0.00")
    total = quantity * unit_price - discount + shipping_fee
    return {
        "channel": CHANNELS[n % len(CHANNELS)],
        "shop_id": "SHOP-1",
        "external_id": f"{prefix}-{n:06d}",
        "placed_at": f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:15:00+08:00",
        "currency": "CNY",
        "customer": {"name": f"客户 {n}", "phone": f"138{n:08d}"},
        "shipping_address": {"country": "CN", "province": "浙江省", "city": "杭州市",
                             "district": "西湖区", "line1": f"文三路 {n} 号",
                             "postal_code": "310000"},
        "lines": [{"sku": f"SKU-{n % 11}", "name": "保温杯", "quantity": quantity,
                   "unit_price": str(unit_price), "discount": str(discount)}],
        "total": str(total),
        "shipping_fee": str(shipping_fee),
        "tags": ["reliability"],
    }
