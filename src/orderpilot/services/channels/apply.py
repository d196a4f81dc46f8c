"""Applying a platform's order to the canonical order, inside one unit of work.

The first time an order is seen it is placed (``order.placed`` with source = the platform and
the platform's own times), with the events its platform status implies. Each later version
updates it with events: an address change before shipping, units cancelled, a status reached.
A version older than the one applied (an out-of-order push) or identical to it (a duplicate)
changes nothing. A platform status whose node the order cannot take from where it is (a
platform that says COMPLETED while the hub still waits for the warehouse) is recorded as the
storefront's view, never refused: the platform is a witness, not the one that moves fulfilment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderpilot.domain.address import Address, Customer
from orderpilot.domain.channel_orders import Account, ChannelOrder, MappingError
from orderpilot.domain.commands import LineInput, PlaceOrder
from orderpilot.domain.errors import IllegalTransition, InvalidInput, OrderOnHold
from orderpilot.domain.intake import build_order
from orderpilot.domain.money import money_str, to_cents
from orderpilot.domain.order import Order
from orderpilot.services.ordering import placed_payload
from orderpilot.services.unit_of_work import UnitOfWork

PHONE_COLUMN = 32  # the canonical order's phone column; the whole value is kept beside it


@dataclass(frozen=True)
class Applied:
    outcome: str  # created | updated | unchanged | stale | quarantined
    order_id: str | None = None
    reason: str = ""


def raw_hash(raw: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str,
                                     separators=(",", ":")).encode()).hexdigest()


def expected_currency(account: Account, region_currency: Mapping[str, str]) -> str:
    return account.currency or region_currency.get(account.region.upper(), "")


def check_currency(order: ChannelOrder, account: Account,
                   region_currency: Mapping[str, str]) -> None:
    wanted = expected_currency(account, region_currency)
    if wanted and order.currency.upper() != wanted:
        raise MappingError(f"the order is in {order.currency} but shop {account.shop_id} "
                           f"({account.code}) sells in {wanted}", field="currency",
                           code="unmappable",
                           zh=f"订单币种为 {order.currency}，但店铺 {account.shop_id}"
                              f"（{account.code}）使用 {wanted}")


def command_for(order: ChannelOrder, account: Account, raw_payload: object) -> PlaceOrder:
    a = order.address
    return PlaceOrder(
        channel=account.platform, shop_id=account.shop_id, external_id=order.external_id,
        placed_at=order.placed_at, currency=order.currency.upper(),
        customer_name=order.buyer_name[:100], customer_phone=_phone(order.buyer_phone),
        address={k: str(a.get(k) or "") for k in ("country", "province", "city", "district",
                                                  "line1", "postal_code")},
        lines=tuple(LineInput(ln.sku, ln.quantity, money_str(ln.unit_price), ln.name[:200],
                              money_str(ln.discount)) for ln in order.lines),
        total=money_str(order.paid_total), shipping_fee=money_str(order.shipping_fee),
        adjustments=tuple((kind, money_str(amount)) for kind, amount in order.adjustments),
        raw_payload=raw_payload, raw_source=account.platform,
        raw_version=f"{account.platform}:{order.updated_at.isoformat()}", as_received=True)


def _phone(value: str) -> str:
    """The buyer's phone as received; a longer (encrypted) value keeps its head and is kept
    whole in channel_orders.buyer_phone."""
    value = "".join(c for c in value if c.isprintable()).strip()
    return value if len(value) <= PHONE_COLUMN else value[:PHONE_COLUMN - 1] + "…"


def apply_order(uow: UnitOfWork, account: Account, order: ChannelOrder,
                raw: Mapping[str, Any], raw_payload: object, now: datetime) -> Applied:
    """Place or update the canonical order for ORDER (already mapped and explained). RAW is
    what the order was mapped from (its hash tells a new version from a duplicate).
    InvalidInput (the canonical rules refuse it) propagates: the caller quarantines."""
    digest = raw_hash(raw)
    seen = uow.channels.channel_order(account.code, order.external_id)
    if seen is not None:
        if order.updated_at < seen.platform_updated_at:
            return Applied("stale", seen.order_id)
        if digest == seen.raw_hash:
            return Applied("unchanged", seen.order_id)
        return _update(uow, account, order, raw_payload, digest, seen.order_id, now)
    existing = uow.orders.find_existing(None, account.platform, account.shop_id,
                                        order.external_id)
    if existing is not None:  # placed before, e.g. through the API or a sheet
        return _update(uow, account, order, raw_payload, digest, existing.id, now)
    canonical = build_order(command_for(order, account, raw_payload), now)
    canonical.record("order.placed", account.platform, order.placed_at, now,
                     placed_payload(canonical), system="storefront",
                     source_event_id=f"order:{account.shop_id}:{order.external_id}")
    _statuses(uow, canonical, account, order, now)
    uow.orders.add(canonical, now, raw=(account.platform, f"{account.platform}:"
                                        f"{order.updated_at.isoformat()}", raw_payload))
    uow.events.append(canonical.events)
    _remember(uow, account, order, canonical.id, digest, now)
    return Applied("created", canonical.id)


def _update(uow: UnitOfWork, account: Account, order: ChannelOrder, raw_payload: object,
            digest: str, order_id: str, now: datetime) -> Applied:
    canonical = uow.orders.get(order_id, for_update=True)
    if canonical is None:
        raise InvalidInput(f"order {order_id} is gone", field="order_id",
                           zh=f"订单 {order_id} 不存在")
    ref = f"{account.platform}:{order.external_id}"
    a = order.address
    address = Address.normalised(str(a.get("country") or canonical.shipping_address.country),
                                 str(a.get("province") or ""), str(a.get("city") or ""),
                                 str(a.get("district") or ""), str(a.get("line1") or ""),
                                 str(a.get("postal_code") or ""))
    if address.line1 and _address_key(address) != _address_key(canonical.shipping_address):
        canonical.change_address(address, account.platform, order.updated_at, now,
                                 source_event_id=f"{ref}:address:{_short(address)}")
    buyer = Customer(order.buyer_name[:100], Customer.normalise_phone(_phone(order.buyer_phone)))
    canonical.reveal_customer(buyer,
                              account.platform, order.updated_at, now,
                              source_event_id=f"{ref}:customer:{_short(buyer)}")
    cancelled = _cancelled_units(canonical, order)
    if cancelled:
        canonical.cancel_units(cancelled, account.platform, order.updated_at, now,
                               source_event_id=f"{ref}:cancelled:"
                                               f"{_short(sorted(cancelled.items()))}")
    _statuses(uow, canonical, account, order, now)
    uow.channels.add_raw(canonical.id, account.platform,
                         f"{account.platform}:{order.updated_at.isoformat()}", raw_payload, now)
    uow.orders.save(canonical, now)
    uow.events.append(canonical.events)
    _remember(uow, account, order, canonical.id, digest, now)
    return Applied("updated", canonical.id)


def _statuses(uow: UnitOfWork, canonical: Order, account: Account, order: ChannelOrder,
              now: datetime) -> None:
    for change in order.statuses:
        ref = f"{account.platform}:{order.external_id}:{change.event_type}:{change.status}"
        if any(e.source_event_id == ref for e in canonical.events) \
                or uow.events.find_by_source(account.platform, ref) is not None:
            continue
        data = {"status": change.status, "platform": account.platform}
        try:
            canonical.report(change.event_type, account.platform, change.occurred_at, now,
                             data, source_event_id=ref)
        except (IllegalTransition, OrderOnHold) as refused:
            # The platform's word is kept as the storefront's view; the node waits for the
            # system that moves it (the WMS, the carrier).
            canonical.report("system.status", account.platform, change.occurred_at, now,
                             {**data, "event_type": change.event_type,
                              "not_moved": refused.message}, source_event_id=ref)


def _cancelled_units(canonical: Order, order: ChannelOrder) -> dict[int, int]:
    found: dict[int, int] = {}
    free = list(range(len(canonical.lines)))
    for line in order.lines:
        if not line.cancelled_quantity:
            continue
        index = next((i for i in free if canonical.lines[i].sku == line.sku), None)
        if index is not None:
            free.remove(index)
            if line.cancelled_quantity > canonical.lines[index].cancelled_quantity:
                found[index] = line.cancelled_quantity
    return found


def _remember(uow: UnitOfWork, account: Account, order: ChannelOrder, order_id: str,
              digest: str, now: datetime) -> None:
    uow.channels.put_channel_order(account.code, order.external_id, {
        "order_id": order_id, "platform": account.platform,
        "platform_status": order.status[:64], "platform_updated_at": order.updated_at,
        "paid_total_cents": to_cents(order.paid_total),
        "buyer_name": order.buyer_name[:500], "buyer_phone": order.buyer_phone[:500],
        "packages": [{"package_id": p.package_id, "tracking_number": p.tracking_number,
                      "carrier": p.carrier, "status": p.status, "item_ids": list(p.item_ids)}
                     for p in order.packages],
        "raw_hash": digest}, now)


def _address_key(a: Address) -> tuple[str, ...]:
    return (a.country, a.province, a.city, a.district, a.line1, a.postal_code)


def _short(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]

