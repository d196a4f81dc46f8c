"""A WooCommerce order (REST API v3) as the hub reads it: pure, exact.

Format facts and their sources (woocommerce/woocommerce-rest-api-docs, file
source/includes/wp-api-v3/_orders.md, published at
https://woocommerce.github.io/woocommerce-rest-api-docs/#orders; and the REST controller
plugins/woocommerce/includes/rest-api/Controllers/Version2/class-wc-rest-orders-v2-controller.php
in woocommerce/woocommerce):

* ``id`` is an integer; ``number`` the displayed order number (a string; plugins may change
  it). external_id = ``id`` as text.
* Times: ``date_created``/``date_modified``/``date_paid``/``date_completed`` are in the
  site's time zone and ``*_gmt`` the same instants as GMT, both zone-less
  ("2017-03-22T19:28:08"). Only the ``*_gmt`` fields are read, as UTC.
* Money fields are decimal strings formatted to the store's price decimals (``dp``,
  default 2): ``discount_total``, ``discount_tax``, ``shipping_total``, ``shipping_tax``,
  ``cart_tax``, ``total`` (the grand total the buyer pays), ``total_tax``.
* ``line_items[]``: ``id``, ``name``, ``product_id``, ``variation_id``, ``quantity``
  (integer), ``subtotal`` (before discounts) and ``total`` (after discounts), both without
  tax, ``subtotal_tax``/``total_tax``, ``sku`` (the product's SKU, "" or null when none),
  ``price``: a JSON number, the controller's ``total / quantity`` (after discounts), so it
  is only checked against ``total``, never used as the unit price.
* ``shipping_lines[]`` (``total``, ``total_tax``), ``fee_lines[]`` (``name``, ``total``,
  ``total_tax``), ``coupon_lines[]`` (``code``, ``discount``: already inside the lines'
  subtotal - total), ``refunds[]`` (``id``, ``reason``, ``total`` as a negative string, e.g.
  "-5.00").
* ``prices_include_tax``: whether the shop showed prices with tax at checkout. Line, shipping
  and fee figures are always sent without tax and with their tax apart, so
  total = lines' total + shipping_total + fees + total_tax. With prices excluding tax the
  tax is a "tax" adjustment; with prices including tax the lines, shipping and fees are
  mapped gross (figure + its tax), as the buyer saw them, and the tax is shown in ``extra``.
* ``billing``/``shipping`` addresses: first_name, last_name, company, address_1, address_2,
  city, state (ISO code or name), postcode, country (ISO 3166-1 alpha-2); billing has email
  and phone; shipping has phone since WooCommerce 5.6.
* ``customer_note`` is the buyer's note; ``status`` values: see statuses.py.

Line discount = subtotal - total (coupons and other cart discounts are spread over the lines
by WooCommerce). The unit price is subtotal / quantity; when that is not a whole number of
cents it is rounded and the rounding is kept in the line's discount, so the line's amount is
always the platform's line total exactly.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from orderpilot.adapters.channels.base import Account
from orderpilot.domain.channel_orders import (
    CENT,
    ChannelLine,
    ChannelOrder,
    StatusChange,
    ids_text,
    money,
    text,
    unmappable,
)
from orderpilot.integrations.woocommerce.statuses import EVENT_OF, PAID

ZERO = Decimal("0.00")
PRICE_TOLERANCE = Decimal("0.01")


def gmt(value: object, field: str) -> datetime:
    """A WooCommerce ``*_gmt`` time: zone-less UTC, "2017-03-22T19:28:08"."""
    raw = str(value or "").strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise unmappable(field, f"{field} is not a time: {raw[:40]!r}",
                         f"{field} 不是时间：{raw[:40]!r}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def gmt_text(moment: datetime) -> str:
    """MOMENT as WooCommerce writes a ``*_gmt`` field (and reads ``dates_are_gmt`` filters)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def map_order(raw: Mapping[str, Any], account: Account) -> ChannelOrder:
    external_id = ids_text(raw.get("id"), "id")
    status = text(raw.get("status"), 40)
    if status not in EVENT_OF:
        raise unmappable("status", f"unknown WooCommerce order status {status!r}",
                         f"未知的 WooCommerce 订单状态 {status!r}")
    placed_at = gmt(raw.get("date_created_gmt"), "date_created_gmt")
    updated_at = gmt(raw.get("date_modified_gmt") or raw.get("date_created_gmt"),
                     "date_modified_gmt")
    currency = text(raw.get("currency"), 8).upper() or account.currency
    if not currency:
        raise unmappable("currency", "the order has no currency and the shop sets none",
                         "订单没有币种，店铺也未设置币种")
    gross = raw.get("prices_include_tax") is True
    lines = _lines(raw.get("line_items"), gross)
    shipping = money(raw.get("shipping_total") or "0", "shipping_total")
    if gross:
        shipping += money(raw.get("shipping_tax") or "0", "shipping_tax")
    total_tax = money(raw.get("total_tax") or "0", "total_tax")
    adjustments = _fees(raw.get("fee_lines"), gross)
    if not gross and total_tax:
        adjustments.append(("tax", total_tax))
    paid_at = raw.get("date_paid_gmt")
    order = ChannelOrder(
        external_id=external_id, placed_at=placed_at, updated_at=updated_at,
        currency=currency, status=status, buyer_name=_name(raw), buyer_phone=_phone(raw),
        address=_address(raw), lines=lines, shipping_fee=shipping,
        paid_total=money(raw.get("total"), "total"), adjustments=tuple(adjustments),
        statuses=_statuses(raw, status, updated_at,
                           gmt(paid_at, "date_paid_gmt") if paid_at else None),
        buyer_note=text(raw.get("customer_note"), 500), extra=_extra(raw, gross, total_tax))
    return order.explained()


def _lines(items: object, gross: bool) -> tuple[ChannelLine, ...]:
    if not isinstance(items, list) or not items:
        raise unmappable("line_items", "the order has no line items", "订单没有商品行")
    return tuple(_line(item, f"line_items[{i}]", gross) for i, item in enumerate(items))


def _line(item: object, path: str, gross: bool) -> ChannelLine:
    if not isinstance(item, Mapping):
        raise unmappable(path, f"{path} is not an object", f"{path} 不是对象")
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise unmappable(f"{path}.quantity", f"{path}.quantity is not a positive whole "
                         f"number: {quantity!r}", f"{path}.quantity 不是正整数：{quantity!r}")
    subtotal = money(item.get("subtotal"), f"{path}.subtotal")
    total = money(item.get("total"), f"{path}.total")
    _check_price(item.get("price"), total, quantity, path)
    if gross:
        subtotal += money(item.get("subtotal_tax") or "0", f"{path}.subtotal_tax")
        total += money(item.get("total_tax") or "0", f"{path}.total_tax")
    unit = (subtotal / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    line_id = ids_text(item.get("id"), f"{path}.id")
    return ChannelLine(sku=_sku(item, line_id), quantity=quantity, unit_price=unit,
                       discount=unit * quantity - total,
                       name=html.unescape(text(item.get("name"))), item_ids=(line_id,))


def _check_price(price: object, total: Decimal, quantity: int, path: str) -> None:
    """``price`` is total / quantity as a JSON number: a line whose price disagrees with its
    own total contradicts itself."""
    if price is None:
        return
    if isinstance(price, bool):
        raise unmappable(f"{path}.price", f"{path}.price is not a number: {price!r}",
                         f"{path}.price 不是数字：{price!r}")
    try:
        value = Decimal(str(price)) if isinstance(price, float) else Decimal(price)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise unmappable(f"{path}.price", f"{path}.price is not a number: {price!r}",
                         f"{path}.price 不是数字：{price!r}") from None
    if not value.is_finite() or abs(value * quantity - total) > PRICE_TOLERANCE:
        raise unmappable(f"{path}.price",
                         f"{path}: price {price} x quantity {quantity} is not the line total "
                         f"{total}",
                         f"{path}：单价 {price} × 数量 {quantity} 与行合计 {total} 不符")


def _sku(item: Mapping[str, Any], line_id: str) -> str:
    sku = text(item.get("sku"), 100)
    if sku:
        return sku
    product = item.get("product_id")
    variation = item.get("variation_id")
    if isinstance(product, int) and product > 0:
        if isinstance(variation, int) and variation > 0:
            return f"wc-{product}-{variation}"
        return f"wc-{product}"
    return f"wc-line-{line_id}"  # the product was deleted: only the line is left


def _fees(fee_lines: object, gross: bool) -> list[tuple[str, Decimal]]:
    """Fee lines: a positive fee is a service fee, a negative one (a discount some plugins
    add as a fee) a seller discount."""
    charged, taken = ZERO, ZERO
    for i, fee in enumerate(fee_lines if isinstance(fee_lines, list) else []):
        if not isinstance(fee, Mapping):
            raise unmappable(f"fee_lines[{i}]", "a fee line is not an object", "费用行不是对象")
        amount = money(fee.get("total") or "0", f"fee_lines[{i}].total")
        if gross:
            amount += money(fee.get("total_tax") or "0", f"fee_lines[{i}].total_tax")
        if amount >= 0:
            charged += amount
        else:
            taken += amount
    return [(kind, amount) for kind, amount in (("service_fee", charged),
                                                ("seller_discount", taken)) if amount]


def _statuses(raw: Mapping[str, Any], status: str, updated_at: datetime,
              paid_at: datetime | None) -> tuple[StatusChange, ...]:
    changes: list[StatusChange] = []
    completed = raw.get("date_completed_gmt")
    completed_at = gmt(completed, "date_completed_gmt") if completed else None
    if paid_at is None and status in PAID:
        paid_at = completed_at or updated_at  # paid on the way, time not kept
    if paid_at is not None:
        changes.append(StatusChange("payment.succeeded", "processing", paid_at))
    event = EVENT_OF[status]
    if event == "payment.succeeded":
        return tuple(changes)
    at = completed_at if status == "completed" and completed_at else updated_at
    changes.append(StatusChange(event, status, at))
    return tuple(changes)


def _address_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    shipping = raw.get("shipping")
    if isinstance(shipping, Mapping) and any(
            text(shipping.get(k)) for k in ("address_1", "city", "country")):
        return shipping
    billing = raw.get("billing")
    return billing if isinstance(billing, Mapping) else {}


def _address(raw: Mapping[str, Any]) -> dict[str, str]:
    found = _address_of(raw)
    street = " ".join(p for p in (text(found.get("address_1")), text(found.get("address_2")))
                      if p)
    return {"country": text(found.get("country"), 2).upper(),
            "province": text(found.get("state"), 100), "city": text(found.get("city"), 100),
            "district": "", "line1": street, "postal_code": text(found.get("postcode"), 20)}


def _name(raw: Mapping[str, Any]) -> str:
    for found in (_address_of(raw), raw.get("billing")):
        if isinstance(found, Mapping):
            name = " ".join(p for p in (text(found.get("first_name")),
                                        text(found.get("last_name"))) if p)
            if name:
                return name
    return ""


def _phone(raw: Mapping[str, Any]) -> str:
    for part in ("shipping", "billing"):
        found = raw.get(part)
        if isinstance(found, Mapping) and text(found.get("phone")):
            return text(found.get("phone"), 40)
    return ""


def _extra(raw: Mapping[str, Any], gross: bool, total_tax: Decimal) -> dict[str, str]:
    extra = {"number": text(raw.get("number"), 40),
             "payment_method": text(raw.get("payment_method_title"), 100)}
    coupons = [text(c.get("code"), 60) for c in _objects(raw.get("coupon_lines"))]
    if coupons:
        extra["coupons"] = ", ".join(c for c in coupons if c)
    refunds = _objects(raw.get("refunds"))
    if refunds:
        refunded = sum((-money(r.get("total"), f"refunds[{i}].total")
                        for i, r in enumerate(refunds)), ZERO)
        extra["refunded"] = str(refunded)
    if gross and total_tax:
        extra["tax_included"] = str(total_tax)
    return {k: v for k, v in extra.items() if v}


def _objects(value: object) -> Sequence[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
