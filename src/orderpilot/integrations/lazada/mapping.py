"""A Lazada order (GetOrder/GetOrders header + its items) as the hub's ChannelOrder.

Format facts and where they come from:

* The order header, GetOrders ``/orders/get`` and GetOrder ``/order/get``
  (https://open.lazada.com/apps/doc/api?path=%2Forders%2Fget , ...%2Forder%2Fget): strings
  throughout: ``order_id`` and ``order_number`` (ids as text, e.g. "491253082180001"),
  ``created_at``/``updated_at`` ("2018-02-09T22:44:30+08:00" in that sample), ``price`` ("Total
  amount for this order. Not the final transaction price of the order, excluding voucher and
  shipping_fee"), ``shipping_fee`` ("Total shipping fee for this order"), ``voucher`` ("Total
  voucher"), ``voucher_platform`` ("issued by Lazada"), ``voucher_seller`` ("issued by the
  seller"), ``statuses`` ("An array of unique status of the items"), ``address_shipping``
  (first_name, last_name, phone "6****67" masked, address1 "Detailed address", address3 "State
  name", address4/city "City name", address5 "Third-level address", addressDsitrict [sic],
  post_code, country "Singapore" as a name), ``buyer_note``, ``remarks``, ``payment_method``.
* The items, GetOrderItems ``/order/items/get`` and GetMultipleOrderItems ``/orders/items/get``
  (https://open.lazada.com/apps/doc/api?path=%2Forder%2Fitems%2Fget , ...%2Forders%2Fitems%2Fget):
  one row per unit bought (two of a SKU are two rows, each with its own ``order_item_id`` and
  ``status``; see also the "Get Order - Lazada" tutorial,
  https://open.alitrip.com/docs/doc.htm?articleId=121327&docType=1&treeId=499), with
  ``item_price`` "Product price", ``paid_price``, ``voucher_amount``, ``voucher_platform``,
  ``voucher_seller``, ``shipping_amount``, ``sku`` (the seller's SKU, e.g. "BRSD#02"),
  ``shop_sku`` (Lazada's), ``sku_id``, ``product_id``, ``package_id``, ``tracking_code``,
  ``shipment_provider``, ``currency`` ("SGD", ISO 4217), ``created_at``/``updated_at`` like
  "2014-10-15 19:12:15 +0800". The hub's raw order is the header with the items under
  ``order_items`` (the key GetMultipleOrderItems uses).
* Regions and currencies: the six API hosts (see __init__); SG SGD, MY MYR, TH THB, ID IDR,
  PH PHP, VN VND (each site's own currency).

Mapping rules: units of one SKU at one price become one line (``item_ids`` and per-unit
``statuses`` kept, ``cancelled_quantity`` = its cancelled units). Vouchers are order
adjustments (seller_voucher, platform_voucher, negative); the item price is already the selling
price, so lines carry no discount. ``paid_total`` = price - voucher + shipping_fee (Lazada
sends no paid total on the order; not documented as such: our reading of the three fields).
Lazada gives no payment time: ``payment.succeeded`` is dated at ``created_at``; the current
status's event at ``updated_at``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.adapters.channels.base import Account
from orderpilot.domain.channel_orders import (
    ChannelLine,
    ChannelOrder,
    Package,
    StatusChange,
    ids_text,
    iso,
    money,
    text,
    unmappable,
)
from orderpilot.integrations.lazada.statuses import (
    CANCELED,
    EVENT_OF,
    is_paid,
    order_status,
)

REGION_CURRENCY = {"SG": "SGD", "MY": "MYR", "TH": "THB", "ID": "IDR", "PH": "PHP",
                   "VN": "VND"}
COUNTRY_CODES = {"singapore": "SG", "malaysia": "MY", "thailand": "TH", "indonesia": "ID",
                 "philippines": "PH", "vietnam": "VN", "viet nam": "VN"}
ZERO = Decimal("0.00")


def lazada_time(value: object, field: str) -> datetime:
    """Lazada's two time shapes: "2014-10-15 19:12:15 +0800" and ISO with an offset."""
    raw = str(value or "").strip()
    if "T" in raw:
        return iso(raw, field)
    try:
        return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        raise unmappable(field, f"{field} is not a Lazada time: {raw[:40]!r}",
                         f"{field} 不是 Lazada 时间格式：{raw[:40]!r}") from None


def _amount(raw: Mapping[str, Any], key: str, field: str) -> Decimal:
    value = raw.get(key)
    if value is None or value == "":
        return ZERO
    return money(value, field)


def _items(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = raw.get("order_items")
    if not isinstance(items, list) or not items:
        raise unmappable("order_items", "the order has no items", "订单没有商品行")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise unmappable(f"order_items[{i}]", "an item is not an object",
                             "商品行不是对象")
    return items


def _status(item: Mapping[str, Any], field: str) -> str:
    status = str(item.get("status") or "").strip()
    if status not in EVENT_OF:
        raise unmappable(field, f"unknown Lazada item status {status!r}",
                         f"未知的 Lazada 商品状态 {status!r}")
    return status


def _sku(item: Mapping[str, Any]) -> str:
    """The seller's SKU; else Lazada's product and SKU ids; else Lazada's shop SKU."""
    seller_sku = text(item.get("sku"), 120)
    if seller_sku:
        return seller_sku
    product, sku_id = text(item.get("product_id"), 40), text(item.get("sku_id"), 40)
    if product or sku_id:
        return f"lazada:{product}:{sku_id}"
    return text(item.get("shop_sku"), 120)


def _lines(items: Sequence[Mapping[str, Any]]) -> tuple[list[ChannelLine], list[str]]:
    groups: dict[tuple[str, Decimal], dict[str, Any]] = {}
    statuses: list[str] = []
    for i, item in enumerate(items):
        path = f"order_items[{i}]"
        item_id = ids_text(item.get("order_item_id"), f"{path}.order_item_id")
        status = _status(item, f"{path}.status")
        price = money(item.get("item_price"), f"{path}.item_price")
        paid = _amount(item, "paid_price", f"{path}.paid_price")
        if price < 0 or paid < 0:
            raise unmappable(f"{path}.item_price", "an item's price is negative",
                             "商品价格为负数")
        sku = _sku(item)
        if not sku:
            raise unmappable(f"{path}.sku", "the item has no SKU and no Lazada ids",
                             "商品行既无 SKU 也无 Lazada 编号")
        group = groups.setdefault((sku, price), {"name": text(item.get("name")), "ids": [],
                                                 "statuses": []})
        group["ids"].append(item_id)
        group["statuses"].append(status)
        statuses.append(status)
    lines = [ChannelLine(sku=sku, quantity=len(g["ids"]), unit_price=price, name=g["name"],
                         item_ids=tuple(g["ids"]), statuses=tuple(g["statuses"]),
                         cancelled_quantity=g["statuses"].count(CANCELED))
             for (sku, price), g in groups.items()]
    return lines, statuses


def _packages(items: Sequence[Mapping[str, Any]]) -> tuple[Package, ...]:
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        package_id = text(item.get("package_id"), 60)
        if not package_id:
            continue
        package = found.setdefault(package_id, {
            "tracking": text(item.get("tracking_code"), 80),
            "carrier": text(item.get("shipment_provider"), 80),
            "status": text(item.get("status"), 40), "ids": []})
        package["ids"].append(str(item.get("order_item_id")))
    return tuple(Package(pid, p["tracking"], p["carrier"], p["status"], tuple(p["ids"]))
                 for pid, p in found.items())


def _address(raw: Mapping[str, Any], account: Account) -> dict[str, str]:
    shipping = raw.get("address_shipping")
    where: Mapping[str, Any] = shipping if isinstance(shipping, Mapping) else {}
    country = text(where.get("country"), 60)
    code = country.upper() if len(country) == 2 else COUNTRY_CODES.get(country.lower(), "")
    line1 = ", ".join(text(where.get(k)) for k in ("address1", "address2")
                      if text(where.get(k)) and text(where.get(k)) != "null")
    return {"country": code or account.region.upper() or country,
            "province": text(where.get("address3"), 80),
            "city": text(where.get("city") or where.get("address4"), 80),
            "district": text(where.get("addressDsitrict") or where.get("address5"), 80),
            "line1": line1, "postal_code": text(where.get("post_code"), 20)}


def _currency(items: Sequence[Mapping[str, Any]], account: Account) -> str:
    for item in items:
        currency = text(item.get("currency"), 3).upper()
        if currency:
            return currency
    return account.currency or REGION_CURRENCY.get(account.region.upper(), "")


def map_order(raw: Mapping[str, Any], account: Account) -> ChannelOrder:
    external_id = ids_text(raw.get("order_id"), "order_id")
    placed_at = lazada_time(raw.get("created_at"), "created_at")
    updated_at = lazada_time(raw.get("updated_at") or raw.get("created_at"), "updated_at")
    items = _items(raw)
    lines, unit_statuses = _lines(items)
    status = order_status(unit_statuses)
    price = (money(raw["price"], "price") if raw.get("price") not in (None, "")
             else sum((ln.unit_price * ln.quantity for ln in lines), ZERO))
    shipping_fee = (money(raw["shipping_fee"], "shipping_fee")
                    if raw.get("shipping_fee") not in (None, "")
                    else sum((_amount(it, "shipping_amount", "order_items.shipping_amount")
                              for it in items), ZERO))
    voucher_seller = _amount(raw, "voucher_seller", "voucher_seller")
    voucher_platform = _amount(raw, "voucher_platform", "voucher_platform")
    voucher = (_amount(raw, "voucher", "voucher") if raw.get("voucher") not in (None, "")
               else voucher_seller + voucher_platform)
    adjustments = tuple((kind, -amount) for kind, amount in (
        ("seller_voucher", voucher_seller), ("platform_voucher", voucher_platform)) if amount)
    changes = []
    if is_paid(unit_statuses):
        changes.append(StatusChange("payment.succeeded", "pending", placed_at))
    if EVENT_OF[status] != "payment.succeeded":
        changes.append(StatusChange(EVENT_OF[status], status, updated_at))
    shipping = raw.get("address_shipping")
    where: Mapping[str, Any] = shipping if isinstance(shipping, Mapping) else {}
    buyer = " ".join(text(where.get(k), 80) for k in ("first_name", "last_name")
                     if text(where.get(k))).strip()
    order = ChannelOrder(
        external_id=external_id, placed_at=placed_at, updated_at=updated_at,
        currency=_currency(items, account), status=status,
        buyer_name=buyer or text(raw.get("customer_first_name"), 80),
        buyer_phone=text(where.get("phone"), 40), address=_address(raw, account),
        lines=tuple(lines), shipping_fee=shipping_fee,
        paid_total=price - voucher + shipping_fee, adjustments=adjustments,
        statuses=tuple(changes), packages=_packages(items),
        buyer_note=text(raw.get("buyer_note") or "", 500),
        extra={k: v for k, v in {
            "order_number": text(raw.get("order_number"), 40),
            "statuses": ",".join(sorted(set(unit_statuses))),
            "payment_method": text(raw.get("payment_method"), 40),
            "warehouse_code": text(raw.get("warehouse_code"), 40)}.items() if v})
    return order.explained()
