"""A TikTok Shop order (API 202309) as a :class:`ChannelOrder`.

Sources of the format facts used here (TikTok Shop Partner Center documentation):

* Order shape: Get Order Detail 202309 (``GET /order/202309/orders``,
  https://partner.tiktokshop.com/docv2/page/get-order-detail-202309) and Get Order List
  202309 (``POST /order/202309/orders/search``,
  https://partner.tiktokshop.com/docv2/page/get-order-list-202309): ``id`` is a string;
  ``status``; ``create_time``, ``update_time``, ``paid_time``, ``cancel_time``,
  ``delivery_time`` are unix seconds; ``buyer_message``; ``payment`` holds ``currency``,
  ``sub_total``, ``shipping_fee``, ``seller_discount``, ``platform_discount``,
  ``total_amount``, ``original_total_product_price``, ``original_shipping_fee``,
  ``shipping_fee_seller_discount``, ``shipping_fee_platform_discount``, ``tax`` and fees
  (``buyer_service_fee``, ``retail_delivery_fee``, ``small_order_fee``, ``handling_fee``), all
  decimal strings; ``line_items`` has one row per unit bought (there is no quantity field)
  with ``id``, ``sku_id``, ``product_id``, ``seller_sku``, ``product_name``, ``sku_name``,
  ``original_price``, ``sale_price``, ``seller_discount``, ``platform_discount``,
  ``display_status``, ``is_gift``, ``package_id``, ``package_status``, ``tracking_number``,
  ``shipping_provider_name``; ``packages`` is ``[{"id"}]``; ``recipient_address`` has
  ``name``, ``phone_number`` (masked, e.g. ``(+60)113*****36``), ``region_code`` (ISO 2),
  ``postal_code``, ``address_detail``, ``address_line1..4``, ``full_address`` and
  ``district_info`` (``address_level`` L0..L4 with ``address_level_name`` and
  ``address_name``).
* Price arithmetic, as the order list returns it (e.g. a MYR order: original 149, seller
  discount 30, sale price 119; original shipping 4.9 fully covered by the platform, total
  119): ``sale_price = original_price - seller_discount - platform_discount`` per unit,
  ``sub_total = original_total_product_price - seller_discount - platform_discount``,
  ``shipping_fee = original_shipping_fee - shipping_fee_seller_discount -
  shipping_fee_platform_discount``, ``total_amount = sub_total + shipping_fee + tax + fees``.
  The mapping keeps the platform's figures and names what differs; ``explained()`` adds the
  rest as "other".
* Statuses: see ``statuses.py``.

Not verified against the official sample response (the Partner Center page renders with
JavaScript and no mirror of its sample was found): whether ``payment.seller_discount`` always
equals the sum of the units' ``seller_discount`` (the remainder is kept as a seller voucher).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.adapters.channels.base import Account
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
from orderpilot.integrations.tiktok.statuses import EVENT_OF, PAID

ZERO = Decimal("0.00")
REGION_CURRENCY = {
    "MY": "MYR", "SG": "SGD", "TH": "THB", "VN": "VND", "PH": "PHP", "ID": "IDR",
    "US": "USD", "GB": "GBP", "UK": "GBP", "MX": "MXN", "BR": "BRL", "JP": "JPY",
    "ES": "EUR", "DE": "EUR", "FR": "EUR", "IT": "EUR", "IE": "EUR",
}
FEES = ("buyer_service_fee", "retail_delivery_fee", "small_order_fee", "handling_fee")


def map_order(raw: Mapping[str, Any], account: Account) -> ChannelOrder:
    """The order the hub keeps; MappingError (with TikTok's field path) when it cannot be."""
    if not isinstance(raw, Mapping):
        raise unmappable("order", "the order is not a JSON object", "订单不是 JSON 对象")
    external_id = ids_text(raw.get("id"), "id")
    status = str(raw.get("status") or "")
    if status not in EVENT_OF:
        raise unmappable("status", f"unknown TikTok Shop order status {status!r}",
                         f"未知的 TikTok Shop 订单状态 {status!r}")
    placed_at = from_unix(raw.get("create_time"), "create_time")
    updated_at = from_unix(raw.get("update_time") or raw.get("create_time"), "update_time")
    payment = _object(raw.get("payment"), "payment")
    units = _units(raw.get("line_items"))
    lines = _lines(units)
    shipping = _maybe(payment, "original_shipping_fee")
    if shipping is None:
        shipping = _amount(payment, "shipping_fee")
    address = _object(raw.get("recipient_address"), "recipient_address")
    order = ChannelOrder(
        external_id=external_id, placed_at=placed_at, updated_at=updated_at,
        currency=_currency(payment, account), status=status,
        buyer_name=text(address.get("name")), buyer_phone=text(address.get("phone_number")),
        address=_address(address), lines=lines, shipping_fee=shipping,
        paid_total=money(payment.get("total_amount"), "payment.total_amount"),
        adjustments=_adjustments(payment, units), statuses=_statuses(raw, status, updated_at),
        packages=_packages(raw, units), buyer_note=text(raw.get("buyer_message"), 500),
        extra=_extra(raw, payment))
    return order.explained()


@dataclass(frozen=True)
class _Unit:
    """One row of ``line_items``: one unit of one SKU."""

    item_id: str
    sku: str
    name: str
    original_price: Decimal
    seller_discount: Decimal
    platform_discount: Decimal
    status: str
    is_gift: bool
    package_id: str
    raw: Mapping[str, Any]


def _units(value: object) -> list[_Unit]:
    if not isinstance(value, list) or not value:
        raise unmappable("line_items", "the order has no line items", "订单没有商品行")
    return [_unit(item, f"line_items[{i}]") for i, item in enumerate(value)]


def _unit(item: object, path: str) -> _Unit:
    row = _object(item, path)
    seller = _amount(row, "seller_discount", path=path)
    platform = _amount(row, "platform_discount", path=path)
    sale = _maybe(row, "sale_price", path=path)
    if row.get("original_price") in (None, "") and sale is not None:
        original = sale + seller + platform  # the price before the discounts it names
    else:
        original = money(row.get("original_price"), f"{path}.original_price")
    if sale is not None:
        if sale != original - seller - platform:
            raise unmappable(
                f"{path}.sale_price",
                f"{path}: sale price {sale} is not original price {original} - seller "
                f"discount {seller} - platform discount {platform}",
                f"{path}：售价 {sale} 不等于原价 {original} - 卖家折扣 {seller}"
                f" - 平台折扣 {platform}")
    seller_sku = text(row.get("seller_sku"))
    sku_id = text(row.get("sku_id"))
    if not seller_sku and not sku_id:
        product = ids_text(row.get("product_id"), f"{path}.product_id")
        sku_id = f"product:{product}"
    name = " ".join(p for p in (text(row.get("product_name")), text(row.get("sku_name"))) if p)
    return _Unit(item_id=ids_text(row.get("id"), f"{path}.id"),
                 sku=seller_sku or f"tiktok:{sku_id}", name=name, original_price=original,
                 seller_discount=seller, platform_discount=platform,
                 status=text(row.get("display_status")), is_gift=row.get("is_gift") is True,
                 package_id=text(row.get("package_id")), raw=row)


def _lines(units: Sequence[_Unit]) -> tuple[ChannelLine, ...]:
    """Units of one SKU at one price become one line (order of first appearance)."""
    groups: dict[tuple[str, Decimal, bool], list[_Unit]] = {}
    for unit in units:
        groups.setdefault((unit.sku, unit.original_price, unit.is_gift), []).append(unit)
    return tuple(ChannelLine(
        sku=sku, quantity=len(group), unit_price=price,
        discount=sum((u.seller_discount for u in group), ZERO),
        name=group[0].name + (" (gift)" if gift else ""),
        item_ids=tuple(u.item_id for u in group), statuses=tuple(u.status for u in group),
        cancelled_quantity=sum(1 for u in group if u.status == "CANCELLED"))
        for (sku, price, gift), group in groups.items())


def _adjustments(payment: Mapping[str, Any],
                 units: Sequence[_Unit]) -> tuple[tuple[str, Decimal], ...]:
    """Platform discounts, shipping discounts, tax and fees, signed as the buyer sees them."""
    item_seller = sum((u.seller_discount for u in units), ZERO)
    item_platform = sum((u.platform_discount for u in units), ZERO)
    found: list[tuple[str, Decimal]] = [("platform_discount", -item_platform)]
    order_seller = _maybe(payment, "seller_discount")
    if order_seller is not None:
        found.append(("seller_voucher", -(order_seller - item_seller)))
    order_platform = _maybe(payment, "platform_discount")
    if order_platform is not None:
        found.append(("platform_voucher", -(order_platform - item_platform)))
    if "original_shipping_fee" in payment:
        found.append(("shipping_discount",
                      -_amount(payment, "shipping_fee_seller_discount")))
        found.append(("shipping_discount",
                      -_amount(payment, "shipping_fee_platform_discount")))
    found.append(("tax", _amount(payment, "tax")))
    found += [("service_fee", _amount(payment, fee)) for fee in FEES]
    return tuple((kind, amount) for kind, amount in found if amount != 0)


def _statuses(raw: Mapping[str, Any], status: str,
              updated_at: datetime) -> tuple[StatusChange, ...]:
    changes = []
    paid = raw.get("paid_time")
    if paid not in (None, "", 0) and (status in PAID or status in ("CANCELLED", "CANCEL")):
        changes.append(StatusChange("payment.succeeded", status, from_unix(paid, "paid_time")))
    own_time = {"CANCELLED": "cancel_time", "CANCEL": "cancel_time",
                "DELIVERED": "delivery_time"}.get(status)
    when = updated_at
    if own_time and raw.get(own_time) not in (None, "", 0):
        when = from_unix(raw.get(own_time), own_time)
    changes.append(StatusChange(EVENT_OF[status], status, when))
    return tuple(changes)


def _packages(raw: Mapping[str, Any], units: Sequence[_Unit]) -> tuple[Package, ...]:
    ids = [text(p.get("id")) for p in raw.get("packages") or [] if isinstance(p, Mapping)]
    ids += [u.package_id for u in units if u.package_id and u.package_id not in ids]
    found = []
    for package_id in dict.fromkeys(i for i in ids if i):
        inside = [u for u in units if u.package_id == package_id]
        first = inside[0].raw if inside else {}
        found.append(Package(
            package_id=package_id, tracking_number=text(first.get("tracking_number")),
            carrier=text(first.get("shipping_provider_name")),
            status=text(first.get("package_status")),
            item_ids=tuple(u.item_id for u in inside)))
    return tuple(found)


def _address(address: Mapping[str, Any]) -> dict[str, str]:
    levels: dict[str, str] = {}
    for entry in address.get("district_info") or []:
        if not isinstance(entry, Mapping):
            continue
        name = str(entry.get("address_level_name") or "").lower()
        value = text(entry.get("address_name"))
        level = str(entry.get("address_level") or "")
        slot = ("province" if any(w in name for w in ("state", "province", "region")) else
                "city" if "city" in name else
                "district" if any(w in name for w in ("district", "town", "ward")) else
                {"L1": "province", "L2": "city", "L3": "district"}.get(level, ""))
        if slot and value and slot not in levels:
            levels[slot] = value
    street = text(address.get("address_detail")) or ", ".join(
        text(address.get(f"address_line{n}")) for n in range(1, 5)
        if text(address.get(f"address_line{n}")))
    return {"country": text(address.get("region_code")).upper(),
            "province": levels.get("province", ""), "city": levels.get("city", ""),
            "district": levels.get("district", ""),
            "line1": street or text(address.get("full_address"), 500),
            "postal_code": text(address.get("postal_code"))}


def _currency(payment: Mapping[str, Any], account: Account) -> str:
    found = text(payment.get("currency")).upper()
    return found or account.currency or REGION_CURRENCY.get(account.region.upper(), "")


def _extra(raw: Mapping[str, Any], payment: Mapping[str, Any]) -> dict[str, str]:
    keys = ("fulfillment_type", "delivery_option_name", "payment_method_name",
            "shipping_provider", "tracking_number", "cancel_reason", "cancellation_initiator",
            "is_on_hold_order", "is_cod", "order_type", "user_id")
    found = {key: text(raw.get(key)) for key in keys if raw.get(key) not in (None, "")}
    for key in ("sub_total", "shipping_fee", "original_total_product_price"):
        if payment.get(key) not in (None, ""):
            found[f"payment.{key}"] = text(payment.get(key))
    return found


def _object(value: object, path: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise unmappable(path, f"{path} is not an object", f"{path} 不是对象")
    return value


def _amount(source: Mapping[str, Any], key: str, *, path: str = "payment") -> Decimal:
    """SOURCE[KEY] as exact money; zero when absent or empty."""
    found = _maybe(source, key, path=path)
    return ZERO if found is None else found


def _maybe(source: Mapping[str, Any], key: str, *, path: str = "payment") -> Decimal | None:
    """SOURCE[KEY] as exact money; None when absent or empty."""
    value = source.get(key)
    if value is None or value == "":
        return None
    return money(value, f"{path}.{key}")
