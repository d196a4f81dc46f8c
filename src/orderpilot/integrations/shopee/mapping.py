"""A Shopee v2 order (v2.order.get_order_detail, optionally with its escrow detail) as a
:class:`ChannelOrder`. Pure: no I/O.

Format facts and where they come from (the official API reference, as published at
https://open.shopee.com/documents/v2/v2.order.get_order_detail?module=94&type=1 and mirrored
as JSON in github.com/congminh1254/shopee-sdk ``schemas/v2.order.get_order_detail.json``):

* ``order_sn`` is a string id such as ``2404098R48U37H``; ``create_time``, ``update_time``,
  ``pay_time`` are unix seconds (UTC); ``pay_time`` is 0/absent before payment (a COD order is
  paid on delivery: the documented sample has pay_time after pickup_done_time).
* ``currency`` is the three-letter currency; ``region`` the two-letter market.
* Money fields are JSON numbers (type "float" in the reference: ``total_amount``,
  ``estimated_shipping_fee``, ``actual_shipping_fee``, ``model_original_price``,
  ``model_discounted_price``); read with Decimal, never float. ``total_amount`` is "the total
  amount paid by the buyer ... includes the total sale price of items, shipping cost beared by
  buyer; and offset by Shopee promotions"; it is our ``paid_total``.
* ``item_list[]``: ``item_id``, ``model_id`` (0 when the item has no variations), ``item_sku``
  (the parent SKU), ``model_sku``, ``item_name``, ``model_quantity_purchased``,
  ``model_original_price`` and ``model_discounted_price`` (unit prices; the discounted price
  "will return 0" for a bundle-deal item: "bundle deal discount will not be breakdown to
  item/model level"), ``promotion_type``; ``cancelled_qty`` (added 2026-05-22).
* ``package_list[]``: ``package_number``, ``logistics_status``, ``shipping_carrier``,
  ``item_list[]`` of ``item_id``/``model_id``/``model_quantity``. The tracking number is not
  part of the order detail (it comes with the TrackingNo push, code 4, or
  v2.logistics.get_tracking_number), so ``Package.tracking_number`` stays empty.
* ``recipient_address``: ``name``, ``phone``, ``town``, ``district``, ``city``, ``state``,
  ``region``, ``zipcode``, ``full_address``; masked values (``******64``, ``P******n``) are
  kept as received.
* Order statuses (https://open.shopee.com/developer-guide/31 "OrderStatus", plus
  INVOICE_PENDING from v2.order.get_order_list's ``order_status`` filter and PENDING from its
  ``request_order_status_pending`` switch): see :data:`STATUSES`.
* The escrow detail (v2.payment.get_escrow_detail_batch, ``schemas/v2.payment.
  get_escrow_detail_batch.json``; the client merges it as ``escrow_detail``):
  ``buyer_payment_info`` has ``merchant_subtotal``, ``shipping_fee`` (paid by the buyer),
  ``seller_voucher``, ``shopee_voucher``, ``shopee_coins_redeemed``, ``credit_card_promotion``
  (negative in the documented sample: 52600 + 2000 - 900 - 5260 = 48440 =
  ``buyer_total_amount``), ``buyer_service_fee``, ``initial_buyer_txn_fee``,
  ``buyer_tax_amount``.

Without an escrow detail the order detail names no voucher or coin amounts: the shipping fee is
Shopee's ``estimated_shipping_fee`` and the rest of the gap to ``total_amount`` becomes the
"other" adjustment (the documented sample: 48000 item + 5000 estimated shipping, paid 32119).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.adapters.channels.base import Account, StatusRow
from orderpilot.domain.channel_orders import (
    ChannelLine,
    ChannelOrder,
    Package,
    StatusChange,
    from_unix,
    ids_text,
    money,
    text,
    unmappable,
)

STATUSES: tuple[StatusRow, ...] = (
    StatusRow("UNPAID", "system.status", "待付款", "Unpaid"),
    StatusRow("PENDING", "system.status", "平台处理中", "Pending (Shopee processing)"),
    StatusRow("INVOICE_PENDING", "system.status", "待开发票", "Invoice pending"),
    StatusRow("READY_TO_SHIP", "system.status", "待发货", "Ready to ship"),
    StatusRow("PROCESSED", "system.status", "已安排发货", "Shipment arranged"),
    StatusRow("RETRY_SHIP", "system.status", "揽收失败待重新发货", "Retry shipment"),
    StatusRow("SHIPPED", "system.status", "已发货", "Shipped"),
    StatusRow("TO_CONFIRM_RECEIVE", "system.status", "买家已收货待确认", "To confirm receipt"),
    StatusRow("COMPLETED", "order.completed", "交易成功", "Completed"),
    StatusRow("IN_CANCEL", "system.status", "取消处理中", "Cancellation in progress"),
    StatusRow("CANCELLED", "order.cancelled", "已取消", "Cancelled"),
    # The request itself arrives as a return through the channel return intake (TO_RETURN
    # makes the hub scan the shop's returns, push.py), which reports return.requested with its
    # return id; reporting it from the order too would start a second, id-less return flow.
    StatusRow("TO_RETURN", "system.status", "退货退款处理中", "Return in progress"),
)
EVENT_OF = {row.status: row.event_type for row in STATUSES}

REGION_CURRENCY = {"SG": "SGD", "MY": "MYR", "TH": "THB", "VN": "VND", "PH": "PHP",
                   "ID": "IDR", "TW": "TWD", "BR": "BRL", "MX": "MXN", "CO": "COP",
                   "CL": "CLP", "AR": "ARS", "PL": "PLN"}

ZERO = Decimal("0.00")

# buyer_payment_info field -> (adjustment kind, sign: -1 reduces what the buyer pays)
_ESCROW_ADJUSTMENTS = (
    ("seller_voucher", "seller_voucher", -1),
    ("shopee_voucher", "platform_voucher", -1),
    ("shopee_coins_redeemed", "coins", -1),
    ("credit_card_promotion", "platform_discount", -1),
    ("buyer_service_fee", "service_fee", 1),
    ("initial_buyer_txn_fee", "service_fee", 1),
    ("buyer_tax_amount", "tax", 1),
)


def map_order(raw: Mapping[str, Any], account: Account) -> ChannelOrder:
    """RAW (one entry of get_order_detail's ``order_list``) as a ChannelOrder whose named
    parts add up to what the buyer paid (any unexplained rest is an "other" adjustment)."""
    external_id = ids_text(raw.get("order_sn"), "order_sn")
    status = str(raw.get("order_status") or "")
    if status not in EVENT_OF:
        raise unmappable("order_status", f"unknown Shopee order status {status!r}",
                         f"未知的 Shopee 订单状态 {status!r}")
    placed_at = from_unix(raw.get("create_time"), "create_time")
    updated_at = from_unix(raw.get("update_time"), "update_time")
    lines = _lines(raw.get("item_list"))
    escrow = _buyer_payment(raw.get("escrow_detail"))
    adjustments: list[tuple[str, Decimal]] = []
    if escrow is not None:
        shipping_fee = _amount(escrow, "shipping_fee", "escrow_detail.buyer_payment_info")
        for name, kind, direction in _ESCROW_ADJUSTMENTS:
            value = _amount(escrow, name, "escrow_detail.buyer_payment_info")
            if value:
                adjustments.append((kind, direction * abs(value)))
        adjustments += _bundle_gap(raw, escrow, lines)
    else:
        shipping_fee = _amount(raw, "estimated_shipping_fee")
    order = ChannelOrder(
        external_id=external_id, placed_at=placed_at, updated_at=updated_at,
        currency=str(raw.get("currency") or account.currency
                     or REGION_CURRENCY.get(account.region.upper(), "")),
        status=status, buyer_name=_buyer_name(raw), buyer_phone=_recipient(raw, "phone"),
        address=_address(raw), lines=lines, shipping_fee=shipping_fee,
        paid_total=ZERO, adjustments=tuple(adjustments),
        statuses=_statuses(raw, status, updated_at), packages=_packages(raw),
        buyer_note=text(raw.get("message_to_seller"), 500), extra=_extra(raw))
    paid = raw.get("total_amount")
    paid_total = money(paid, "total_amount") if paid is not None else order.expected_total()
    if status == "UNPAID" and paid_total == 0:  # "only return after the buyer has paid"
        paid_total = order.expected_total()
    return _with_paid(order, paid_total).explained()


def _with_paid(order: ChannelOrder, paid_total: Decimal) -> ChannelOrder:
    from dataclasses import replace
    return replace(order, paid_total=paid_total)


def _lines(items: object) -> tuple[ChannelLine, ...]:
    if not isinstance(items, list) or not items:
        raise unmappable("item_list", "the order has no items (item_list is empty or missing)",
                         "订单没有商品（item_list 为空或缺失）")
    return tuple(_line(item, f"item_list[{i}]") for i, item in enumerate(items))


def _line(item: object, path: str) -> ChannelLine:
    if not isinstance(item, Mapping):
        raise unmappable(path, f"{path} is not an object", f"{path} 不是对象")
    item_id = ids_text(item.get("item_id"), f"{path}.item_id")
    model_id = str(item.get("model_id") or 0)
    quantity = item.get("model_quantity_purchased")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise unmappable(f"{path}.model_quantity_purchased",
                         f"{path}.model_quantity_purchased is not a positive whole number: "
                         f"{quantity!r}",
                         f"{path}.model_quantity_purchased 不是正整数：{quantity!r}")
    original = money(item.get("model_original_price"), f"{path}.model_original_price")
    discounted = money(item.get("model_discounted_price", original),
                       f"{path}.model_discounted_price")
    if original < 0 or discounted < 0:
        raise unmappable(path, f"{path} has a negative price", f"{path} 的价格为负数")
    if discounted > original:
        raise unmappable(f"{path}.model_discounted_price",
                         f"{path}: the discounted price {discounted} is above the original "
                         f"price {original}", f"{path}：折后价 {discounted} 高于原价 {original}")
    if discounted == 0 and original > 0:
        discounted = original  # bundle deal: Shopee gives no per-item price (see docstring)
    cancelled = item.get("cancelled_qty") or 0
    sku = (text(item.get("model_sku"), 100)
           or (text(item.get("item_sku"), 100) if model_id == "0" else "")
           or f"{item_id}:{model_id}")
    name = text(item.get("item_name"), 200)
    model_name = text(item.get("model_name"), 100)
    return ChannelLine(
        sku=sku, quantity=quantity, unit_price=original,
        discount=(original - discounted) * quantity,
        name=f"{name} ({model_name})" if model_name else name,
        item_ids=(f"{item_id}:{model_id}",),
        cancelled_quantity=cancelled if isinstance(cancelled, int) else 0)


def _buyer_payment(escrow: object) -> Mapping[str, Any] | None:
    if not isinstance(escrow, Mapping):
        return None
    info = escrow.get("buyer_payment_info")
    return info if isinstance(info, Mapping) and info else None


def _bundle_gap(raw: Mapping[str, Any], escrow: Mapping[str, Any],
                lines: Sequence[ChannelLine]) -> list[tuple[str, Decimal]]:
    """A bundle deal's discount, which Shopee does not give per item: what the items cost at
    checkout (merchant_subtotal) minus the lines as listed."""
    items = raw.get("item_list") or []
    bundled = any(isinstance(i, Mapping) and i.get("promotion_type") == "bundle_deal"
                  for i in items)
    if not bundled or escrow.get("merchant_subtotal") is None:
        return []
    subtotal = _amount(escrow, "merchant_subtotal", "escrow_detail.buyer_payment_info")
    gap = subtotal - sum((ln.amount for ln in lines), ZERO)
    return [("bundle_discount", gap)] if gap else []


def _amount(source: Mapping[str, Any], name: str, prefix: str = "") -> Decimal:
    value = source.get(name)
    return money(value, f"{prefix}.{name}" if prefix else name) if value is not None else ZERO


def _recipient(raw: Mapping[str, Any], name: str) -> str:
    address = raw.get("recipient_address")
    return text(address.get(name)) if isinstance(address, Mapping) else ""


def _buyer_name(raw: Mapping[str, Any]) -> str:
    return _recipient(raw, "name") or text(raw.get("buyer_username"))


def _address(raw: Mapping[str, Any]) -> dict[str, str]:
    address = raw.get("recipient_address")
    if not isinstance(address, Mapping):
        return {}
    district = ", ".join(x for x in (text(address.get("district")),
                                     text(address.get("town"))) if x)
    return {"country": text(address.get("region") or raw.get("region")).upper(),
            "province": text(address.get("state")), "city": text(address.get("city")),
            "district": district, "line1": text(address.get("full_address"), 500),
            "postal_code": text(address.get("zipcode"))}


def _statuses(raw: Mapping[str, Any], status: str,
              updated_at: datetime) -> tuple[StatusChange, ...]:
    changes = []
    pay_time = raw.get("pay_time")
    if pay_time not in (None, 0, "0", ""):
        changes.append(StatusChange("payment.succeeded", status,
                                    from_unix(pay_time, "pay_time")))
    changes.append(StatusChange(EVENT_OF[status], status, updated_at))
    return tuple(changes)


def _packages(raw: Mapping[str, Any]) -> tuple[Package, ...]:
    packages = raw.get("package_list")
    if not isinstance(packages, list):
        return ()
    found = []
    for i, package in enumerate(packages):
        if not isinstance(package, Mapping):
            continue
        items = package.get("item_list") or []
        found.append(Package(
            package_id=ids_text(package.get("package_number"),
                                f"package_list[{i}].package_number"),
            carrier=text(package.get("shipping_carrier")),
            status=text(package.get("logistics_status")),
            item_ids=tuple(f"{it.get('item_id')}:{it.get('model_id') or 0}"
                           for it in items if isinstance(it, Mapping))))
    return tuple(found)


def _extra(raw: Mapping[str, Any]) -> dict[str, str]:
    extra = {"region": text(raw.get("region")), "cod": "yes" if raw.get("cod") else "no",
             "payment_method": text(raw.get("payment_method")),
             "shipping_carrier": text(raw.get("shipping_carrier")),
             "buyer_username": text(raw.get("buyer_username")),
             "shipping_fee_source": "escrow_detail.buyer_payment_info.shipping_fee"
             if _buyer_payment(raw.get("escrow_detail")) is not None
             else "estimated_shipping_fee"}
    for name in ("buyer_user_id", "estimated_shipping_fee", "actual_shipping_fee",
                 "ship_by_date", "days_to_ship", "note"):
        if raw.get(name) not in (None, ""):
            extra[name] = text(raw.get(name))
    return {k: v for k, v in extra.items() if v}
