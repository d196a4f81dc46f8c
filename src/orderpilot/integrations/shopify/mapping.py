"""A Shopify order (REST Admin API ``Order``, the same JSON a webhook carries) as a
:class:`ChannelOrder`.

Format facts and where they come from:

* Order fields (``id`` an integer, ``name`` "#1001", ``created_at``/``updated_at``/
  ``processed_at``/``cancelled_at``/``closed_at`` ISO 8601 with the shop's offset, ``currency``
  the shop currency, money as decimal strings: ``total_price``, ``subtotal_price``,
  ``total_discounts``, ``total_tax``, ``taxes_included``, ``total_shipping_price_set``
  (shop_money/presentment_money), ``shipping_lines[].price`` and ``discount_allocations``,
  ``line_items[]`` with ``sku`` (may be empty or null), ``product_id``, ``variant_id``,
  ``price``, ``quantity``, ``total_discount``, ``discount_allocations[]`` (``amount``,
  ``discount_application_index``), ``discount_applications[].type`` (automatic,
  discount_code, manual, script), ``refunds[].refund_line_items[]`` (``line_item_id``,
  ``quantity``, ``restock_type``: cancel, return, no_restock, legacy_restock),
  ``fulfillments[]`` (tracking_number, tracking_company, shipment_status), ``shipping_address``
  (name, phone, address1, address2, city, province, province_code, country_code, zip),
  ``customer``, ``note``): REST Order resource,
  https://shopify.dev/docs/api/admin-rest/2026-04/resources/order and the Refund resource,
  https://shopify.dev/docs/api/admin-rest/2026-04/resources/refund .
* The documented sample orders the tests map: Shopify's orders/create webhook example
  (id 820982911946154508, above 2**53; "Send test notification" payload, reproduced in
  github.com/arferreira/dropazul_app provarme_webhooks/tests/fixtures.py) and the Order
  fixture of Shopify's own Python library (github.com/Shopify/shopify_python_api
  test/fixtures/order.json, id 450789469, "#1001").
* ``line_items[].total_discount`` is the older per-line figure; the newer versions carry the
  amount in ``discount_allocations`` and may send total_discount "0.00": allocations win when
  present (Order resource, line_items property notes).
* Statuses: see statuses.py.

Mapping rules: amounts are shop money (``price``, not ``price_set.presentment_money``).
A line's discount is what manual, automatic and script discounts allocated to it; what
discount codes allocated is a ``seller_voucher`` adjustment (the code is the shop's own);
shipping discounts are ``shipping_discount``; tax is an adjustment only when
``taxes_included`` is false (otherwise it is inside the prices); a tip is ``service_fee``.
``paid_total`` is ``total_price``; anything else is named "other" by ``explained()``.
SKU: the seller's ``sku``, else ``shopify-<product_id>-<variant_id>`` (``shopify-line-<id>``
for a custom line with neither). Units removed by a refund with restock_type "cancel" are
the line's cancelled quantity (partial cancellation).
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
from orderpilot.integrations.shopify.statuses import EVENT_OF, PAID, REFUNDED, status_of

ZERO = Decimal("0.00")
VOUCHER_TYPES = frozenset({"discount_code"})


def map_order(raw: Mapping[str, Any], account: Account) -> ChannelOrder:
    """RAW (one Shopify order) as a ChannelOrder; MappingError with Shopify's field path on
    what cannot be mapped."""
    if not isinstance(raw, Mapping):
        raise unmappable("order", "the Shopify order is not a JSON object",
                         "Shopify 订单不是 JSON 对象")
    external_id = ids_text(raw.get("id"), "id")
    status = status_of(raw)
    placed_at = iso(raw.get("created_at"), "created_at")
    updated_at = iso(raw.get("updated_at") or raw.get("created_at"), "updated_at")
    applications = raw.get("discount_applications") or []
    lines, vouchers = _lines(raw, applications)
    shipping_fee, shipping_discount = _shipping(raw)
    adjustments: list[tuple[str, Decimal]] = []
    if vouchers:
        adjustments.append(("seller_voucher", -vouchers))
    if shipping_discount:
        adjustments.append(("shipping_discount", -shipping_discount))
    if not raw.get("taxes_included"):
        tax = money(raw.get("total_tax") or "0", "total_tax")
        if tax:
            adjustments.append(("tax", tax))
    tip = money(raw.get("total_tip_received") or "0", "total_tip_received")
    if tip:
        adjustments.append(("service_fee", tip))
    address = _mapping(raw.get("shipping_address"))
    customer = _mapping(raw.get("customer"))
    order = ChannelOrder(
        external_id=external_id, placed_at=placed_at, updated_at=updated_at,
        currency=text(raw.get("currency"), 3).upper() or account.currency or "USD",
        status=status,
        buyer_name=_buyer_name(address, customer),
        buyer_phone=text(address.get("phone") or raw.get("phone") or customer.get("phone")),
        address=_address(address), lines=lines, shipping_fee=shipping_fee,
        paid_total=money(raw.get("total_price"), "total_price"),
        adjustments=tuple(adjustments),
        statuses=_statuses(raw, status, placed_at, updated_at),
        packages=_packages(raw.get("fulfillments") or []),
        buyer_note=text(raw.get("note"), 500),
        extra={k: text(raw.get(k)) for k in ("name", "order_number", "financial_status",
                                              "fulfillment_status", "cancel_reason",
                                              "closed_at", "source_name", "tags")
               if raw.get(k) not in (None, "")})
    return order.explained()


def _lines(raw: Mapping[str, Any],
           applications: Sequence[Any]) -> tuple[tuple[ChannelLine, ...], Decimal]:
    items = raw.get("line_items")
    if not isinstance(items, list) or not items:
        raise unmappable("line_items", "the order has no line items", "订单没有商品行")
    cancelled = _cancelled_units(raw.get("refunds") or [])
    lines, vouchers = [], ZERO
    for n, item in enumerate(items):
        where = f"line_items[{n}]"
        if not isinstance(item, Mapping):
            raise unmappable(where, f"{where} is not an object", f"{where} 不是对象")
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise unmappable(f"{where}.quantity", f"{where}.quantity is not a positive "
                             f"whole number: {quantity!r}",
                             f"{where}.quantity 不是正整数：{quantity!r}")
        price = money(item.get("price"), f"{where}.price")
        if price < 0:
            raise unmappable(f"{where}.price", f"{where}.price is negative: {price}",
                             f"{where}.price 为负数：{price}")
        line_discount, line_vouchers = _allocations(item, applications, where)
        if line_discount + line_vouchers > price * quantity:
            raise unmappable(f"{where}.discount_allocations",
                             f"{where}: discounts {line_discount + line_vouchers} exceed "
                             f"price x quantity {price * quantity}",
                             f"{where}：折扣 {line_discount + line_vouchers} 超过单价×数量 "
                             f"{price * quantity}")
        vouchers += line_vouchers
        line_id = text(item.get("id"))
        lines.append(ChannelLine(
            sku=line_sku(item), quantity=quantity, unit_price=price, discount=line_discount,
            name=text(item.get("name") or item.get("title")),
            item_ids=(line_id,) if line_id else (),
            cancelled_quantity=min(cancelled.get(line_id, 0), quantity)))
    return tuple(lines), vouchers


def _allocations(item: Mapping[str, Any], applications: Sequence[Any],
                 where: str) -> tuple[Decimal, Decimal]:
    """(line discount, voucher part) of one line item."""
    allocations = item.get("discount_allocations") or []
    if not allocations:
        return money(item.get("total_discount") or "0", f"{where}.total_discount"), ZERO
    discount = vouchers = ZERO
    for k, allocation in enumerate(allocations):
        path = f"{where}.discount_allocations[{k}]"
        amount = money(_amount(allocation, path), f"{path}.amount")
        index = allocation.get("discount_application_index")
        kind = ""
        if isinstance(index, int) and 0 <= index < len(applications):
            kind = str(_mapping(applications[index]).get("type") or "")
        if kind in VOUCHER_TYPES:
            vouchers += amount
        else:
            discount += amount
    return discount, vouchers


def _amount(allocation: Any, path: str) -> object:
    if not isinstance(allocation, Mapping):
        raise unmappable(path, f"{path} is not an object", f"{path} 不是对象")
    if allocation.get("amount") is not None:
        return allocation["amount"]
    return _mapping(_mapping(allocation.get("amount_set")).get("shop_money")).get("amount")


def _shipping(raw: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """(shipping fee before discounts, shipping discounts)."""
    shipping_lines = raw.get("shipping_lines") or []
    discount = ZERO
    for n, line in enumerate(shipping_lines):
        for k, allocation in enumerate(_mapping(line).get("discount_allocations") or []):
            path = f"shipping_lines[{n}].discount_allocations[{k}]"
            discount += money(_amount(allocation, path), f"{path}.amount")
    total_set = _mapping(_mapping(raw.get("total_shipping_price_set")).get("shop_money"))
    if total_set.get("amount") is not None:
        return money(total_set["amount"], "total_shipping_price_set.shop_money.amount"), \
            discount
    fee = sum((money(_mapping(line).get("price") or "0", f"shipping_lines[{n}].price")
               for n, line in enumerate(shipping_lines)), ZERO)
    return fee, discount


def _cancelled_units(refunds: Sequence[Any]) -> dict[str, int]:
    units: dict[str, int] = {}
    for refund in refunds:
        for row in _mapping(refund).get("refund_line_items") or []:
            row = _mapping(row)
            quantity = row.get("quantity")
            if row.get("restock_type") == "cancel" and isinstance(quantity, int):
                key = text(row.get("line_item_id"))
                units[key] = units.get(key, 0) + quantity
    return units


def _statuses(raw: Mapping[str, Any], status: str, placed_at: datetime,
              updated_at: datetime) -> tuple[StatusChange, ...]:
    financial = raw.get("financial_status") or "pending"
    changes: list[StatusChange] = []
    if financial in PAID:
        paid_at = iso(raw["processed_at"], "processed_at") if raw.get("processed_at") \
            else placed_at
        changes.append(StatusChange("payment.succeeded", status, paid_at))
    if financial in REFUNDED:
        changes.append(StatusChange("refund.succeeded", status,
                                    _latest(raw.get("refunds") or [], "refunds", updated_at)))
    event = EVENT_OF[status]
    if raw.get("cancelled_at"):
        changes.append(StatusChange("order.cancelled", status,
                                    iso(raw["cancelled_at"], "cancelled_at")))
    elif event == "system.status":
        shipped = status.endswith(("/partial", "/fulfilled"))
        changes.append(StatusChange(event, status, _latest(
            raw.get("fulfillments") or [], "fulfillments", updated_at) if shipped
            else updated_at))
    elif event not in {c.event_type for c in changes}:
        changes.append(StatusChange(event, status, updated_at))
    if raw.get("closed_at") and status == "paid/fulfilled":
        changes.append(StatusChange("order.completed", status,
                                    iso(raw["closed_at"], "closed_at")))
    return tuple(sorted(changes, key=lambda c: c.occurred_at))


def _latest(records: Sequence[Any], field: str, default: datetime) -> datetime:
    """The latest processed_at/created_at of RECORDS (refunds, fulfillments), else DEFAULT."""
    times = [iso(_mapping(r).get("processed_at") or _mapping(r).get("created_at"),
                 f"{field}[{n}].created_at")
             for n, r in enumerate(records)
             if _mapping(r).get("processed_at") or _mapping(r).get("created_at")]
    return max(times) if times else default


def _packages(fulfillments: Sequence[Any]) -> tuple[Package, ...]:
    return tuple(Package(
        package_id=text(f.get("id")), tracking_number=text(f.get("tracking_number")),
        carrier=text(f.get("tracking_company")),
        status=text(f.get("shipment_status") or f.get("status")),
        item_ids=tuple(text(_mapping(i).get("id")) for i in f.get("line_items") or []))
        for f in map(_mapping, fulfillments) if f.get("id") is not None)


def line_sku(item: Mapping[str, Any]) -> str:
    sku = text(item.get("sku"))
    if sku:
        return sku
    product, variant = item.get("product_id"), item.get("variant_id")
    if product is None and variant is None:
        return f"shopify-line-{text(item.get('id'))}"
    return f"shopify-{text(product) or '0'}-{text(variant) or '0'}"


def _buyer_name(address: Mapping[str, Any], customer: Mapping[str, Any]) -> str:
    name = text(address.get("name"))
    if name:
        return name
    parts = (customer.get("first_name"), customer.get("last_name"))
    return " ".join(text(p) for p in parts if text(p))


def _address(address: Mapping[str, Any]) -> dict[str, str]:
    street = " ".join(text(address.get(k)) for k in ("address1", "address2")
                      if text(address.get(k)))
    return {"country": text(address.get("country_code"), 2).upper(),
            "province": text(address.get("province") or address.get("province_code")),
            "city": text(address.get("city")), "district": "", "line1": street,
            "postal_code": text(address.get("zip"), 20)}


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
