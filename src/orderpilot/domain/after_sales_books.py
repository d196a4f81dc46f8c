"""The rules that close the books after a return (S8), as plain functions: the amount a
receivable is credited with, when a SKU needs replenishing and by how much, and the window in
which a customer's returns are counted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from orderpilot.domain.errors import InvalidInput
from orderpilot.domain.inventory import SELLABLE_KINDS, is_low

RETURNS_WINDOW = timedelta(days=90)  # customer.returns_90d counts return requests this recent
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("100000000")


def credit_amount(value: object) -> Decimal:
    """A refund amount in yuan (text or number, as an event reports it), positive, to the
    cent; InvalidInput otherwise."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        amount = Decimal(-1)
    if value is None or isinstance(value, bool) or not amount.is_finite() \
            or not 0 < amount < MAX_AMOUNT:
        raise InvalidInput(f"the amount to credit must be a positive number of yuan, not "
                           f"{str(value)[:40]!r}", field="amount",
                           zh=f"冲销金额应为正数（元），而不是 {str(value)[:40]!r}")
    return amount.quantize(CENT)


@dataclass(frozen=True)
class StockLevel:
    """One stock source's level of a SKU, with the safety stock and low threshold in force."""

    kind: str
    on_hand: int
    reserved: int
    safety: int
    threshold: int


@dataclass(frozen=True)
class Replenishment:
    sku: str
    available: int  # sellable units free now, over all sellable sources
    threshold: int  # the sum of those sources' low thresholds
    quantity: int  # what to ask for: back up to the threshold, plus the top-up


def replenishment(sku: str, levels: Iterable[StockLevel], top_up: int) -> Replenishment | None:
    """What to ask the ERP for when SKU's sellable stock (its sellable sources' free units
    above safety stock) is at or under their summed low threshold, as ``inventory.low`` reads
    a threshold; None when it is not, or no sellable source has a threshold."""
    sellable = [lv for lv in levels if lv.kind in SELLABLE_KINDS]
    available = sum(max(0, lv.on_hand - lv.reserved - lv.safety) for lv in sellable)
    threshold = sum(lv.threshold for lv in sellable)
    if not is_low(available, threshold):
        return None
    return Replenishment(sku, available, threshold,
                         max(1, threshold - available + max(top_up, 0)))


__all__ = ["RETURNS_WINDOW", "Replenishment", "StockLevel", "credit_amount", "replenishment"]
