"""A sales channel's return request as the hub reads it: the shape every platform's return
mapping produces (integrations/<platform>/returns.py), whatever the platform calls it
(Lazada reverse order, Shopify return or refund, Shopee return, Youzan 维权).

Nothing here knows a platform. Amounts are exact (see channel_orders.money)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# The platform's return, in the hub's words. "requested": the buyer asked; "approved": the
# shop (or platform) agreed to take it back; "rejected": the shop refused; "cancelled": the
# buyer withdrew it; "refunded": the money went back through the platform; "closed": over
# without a refund the hub can see.
RETURN_STATUSES = ("requested", "approved", "rejected", "cancelled", "refunded", "closed")


@dataclass(frozen=True)
class ChannelReturnLine:
    sku: str  # the seller's SKU, by the same rule the platform's order mapping uses
    quantity: int
    refund: Decimal | None = None  # the platform's refund for these units, when it says
    item_ids: tuple[str, ...] = ()  # the platform's own line ids (Lazada: one per unit)


@dataclass(frozen=True)
class ChannelReturn:
    account: str  # the channel account's code
    return_id: str  # the platform's id of this return, exact text
    order_external_id: str  # the platform's order id, as ChannelOrder.external_id
    lines: tuple[ChannelReturnLine, ...]
    status: str  # one of RETURN_STATUSES
    platform_status: str  # as sent
    updated_at: datetime | None  # None: the platform sent no time (the receipt time stands)
    reason_text: str = ""
    reason_code: str = ""  # the platform's own reason code, as sent
    reason_tags: tuple[str, ...] = ()  # our taxonomy's tags when the code maps obviously
    refund_amount: Decimal | None = None  # the whole return's refund, platform figure
    currency: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)


def merge_lines(pairs: list[tuple[str, int, Decimal | None, str]]
                ) -> tuple[ChannelReturnLine, ...]:
    """(sku, quantity, refund, item id) rows as one line per SKU, in first-seen order:
    quantities and refunds add up (a refund stays None when no row gave one)."""
    order: list[str] = []
    quantity: dict[str, int] = {}
    refund: dict[str, Decimal | None] = {}
    items: dict[str, list[str]] = {}
    for sku, count, amount, item_id in pairs:
        if sku not in quantity:
            order.append(sku)
            quantity[sku], refund[sku], items[sku] = 0, None, []
        quantity[sku] += count
        if amount is not None:
            refund[sku] = (refund[sku] or Decimal("0.00")) + amount
        if item_id:
            items[sku].append(item_id)
    return tuple(ChannelReturnLine(sku=s, quantity=quantity[s], refund=refund[s],
                                   item_ids=tuple(items[s])) for s in order)


@dataclass(frozen=True)
class ReturnPage:
    """One page of a platform's returns list: the raw returns and where the next page
    starts (None: this was the last)."""

    raws: tuple[dict[str, Any], ...] = ()
    next_cursor: str | None = None


@dataclass(frozen=True)
class ChannelRefund:
    """What the platform answered when the hub refunded a return through it: the platform's
    reference for the refund, the amount it refunded (None when it does not say) and whether
    the look-up before sending found it done already (then nothing was sent)."""

    return_id: str
    reference: str
    amount: Decimal | None
    already_done: bool = False
