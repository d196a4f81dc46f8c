"""The return (退货) aggregate: its life, its lines, what may be returned and what is refunded.

Life: requested -> approved | rejected; approved -> pickup_booked -> in_transit -> received ->
inspected (per line: restockable or damaged) -> refunded -> closed; a rejected return closes.
A return booked with no pickup (the buyer sends it) goes approved -> in_transit or straight to
received when the warehouse books it in.

Quantities: a return may hold at most what was shipped of each SKU (the order line quantity
minus units the channel cancelled) minus the units already in the order's other returns that
were not rejected. An order that has not shipped takes no return.

Refund policy (docs/returns.md), in exact cents, per SKU of the order:
1. Each order line's paid amount is quantity x unit price - line discount.
2. Order-level adjustments (vouchers, coins; signed) and the shipping fee are shared out over
   the lines in proportion to their paid amounts, by largest remainder, so that the shares add
   up to the order's exact adjustment and shipping totals. A line's total is its paid amount +
   its adjustment share + its shipping share (never below zero).
3. Returning k of a line's n units refunds floor(T x (r + k) / n) - floor(T x r / n), where T
   is the line's total and r the units of that SKU already refunded by earlier returns. The
   refunds of every unit of a line add up to T exactly, and all lines to the order's total:
   the buyer never gets more than was paid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orderpilot.domain import lifecycle
from orderpilot.domain.errors import IllegalTransition, InvalidInput
from orderpilot.domain.money import to_cents
from orderpilot.domain.order import Order

STATUSES: dict[str, tuple[str, str]] = {
    "requested": ("已申请", "Requested"),
    "approved": ("已同意", "Approved"),
    "rejected": ("已拒绝", "Rejected"),
    "pickup_booked": ("已预约取件", "Pickup booked"),
    "in_transit": ("退回途中", "In transit"),
    "received": ("已收货", "Received"),
    "inspected": ("已质检", "Inspected"),
    "refunded": ("已退款", "Refunded"),
    "closed": ("已关闭", "Closed"),
}

MOVES: dict[str, tuple[str, ...]] = {
    "requested": ("approved", "rejected"),
    "approved": ("pickup_booked", "in_transit", "received"),
    "pickup_booked": ("in_transit", "received"),
    "in_transit": ("received",),
    "received": ("inspected",),
    "inspected": ("refunded",),
    "refunded": ("closed",),
    "rejected": ("closed",),
    "closed": (),
}

# The order event each move reports (RETURNS_COMMON.md); every one carries data.return_id.
EVENT_OF_MOVE: dict[str, str] = {
    "approved": "return.approved", "rejected": "return.rejected",
    "pickup_booked": "return.pickup_booked", "in_transit": "return.shipped",
    "received": "return.received", "inspected": "return.inspected",
    "refunded": "refund.succeeded", "closed": "after_sales.closed",
}

CONDITIONS = ("restockable", "damaged")
MAX_LINES = 200


@dataclass
class ReturnLine:
    sku: str
    quantity: int
    restockable: int = 0
    damaged: int = 0
    refund_cents: int | None = None


@dataclass
class Return:
    id: str
    order_id: str
    status: str
    source: str
    source_event_id: str | None
    lines: list[ReturnLine]
    reason_tags: list[str]
    reason_text: str
    reasons_from: str  # given | keywords | none
    customer_address: dict[str, str] | None
    created_at: datetime
    updated_at: datetime
    restock_source: str | None = None
    refund_cents: int | None = None
    rejected: bool = False  # stays true when a rejected return is closed
    version: int = 0
    moves: list[tuple[str, datetime]] = field(default_factory=list, repr=False)

    def move(self, target: str, now: datetime) -> None:
        if target not in MOVES.get(self.status, ()):
            cur, tgt = STATUSES[self.status], STATUSES[target]
            allowed = ", ".join(MOVES[self.status]) or "nothing (closed)"
            raise IllegalTransition(
                f"return {self.id} cannot go from {cur[1]} to {tgt[1]}; from {self.status} it "
                f"may go to: {allowed}", field="status", code="illegal_return_move",
                zh=f"退货单 {self.id} 不能从{cur[0]}变为{tgt[0]}；当前可变为：{allowed}")
        self.status = target
        self.rejected = self.rejected or target == "rejected"
        self.updated_at = now
        self.moves.append((target, now))

    def event_data(self) -> dict[str, Any]:
        """The data of its return.requested event (RETURNS_COMMON.md, exactly these keys)."""
        return {"return_id": self.id,
                "lines": [{"sku": ln.sku, "quantity": ln.quantity} for ln in self.lines],
                "reason_tags": list(self.reason_tags), "reason_text": self.reason_text,
                "customer_address": self.customer_address}


def has_shipped(order: Order) -> bool:
    """The order reached shipped (a cancelled order never did)."""
    if order.status == "cancelled" or lifecycle.NODE_BY_ID[order.status].pre_shipment:
        return False
    return order.status == "shipped" or "shipped" in lifecycle.predecessors(order.status)


def shipped_units(order: Order) -> dict[str, int]:
    units: dict[str, int] = {}
    for line in order.lines:
        units[line.sku] = units.get(line.sku, 0) + line.quantity - line.cancelled_quantity
    return units


def in_returns(returns: Iterable[Return]) -> dict[str, int]:
    """Units of each SKU held by returns that were not rejected."""
    units: dict[str, int] = {}
    for r in returns:
        if r.rejected:
            continue
        for line in r.lines:
            units[line.sku] = units.get(line.sku, 0) + line.quantity
    return units


def check_lines(order: Order, lines: Sequence[tuple[str, int]],
                others: Iterable[Return]) -> list[ReturnLine]:
    """The lines of a new return, checked against what may still be returned."""
    if not has_shipped(order):
        node = lifecycle.NODE_BY_ID[order.status]
        raise IllegalTransition(
            f"order {order.id} has not shipped (it is {node.en}); a return needs a shipped "
            f"order", field="order_id", code="not_shipped",
            zh=f"订单 {order.id} 尚未发货（当前：{node.zh}），不能申请退货")
    if not 1 <= len(lines) <= MAX_LINES:
        raise InvalidInput(f"a return has 1 to {MAX_LINES} lines", field="lines",
                           zh=f"退货单应有 1 到 {MAX_LINES} 行")
    shipped, taken = shipped_units(order), in_returns(others)
    asked: dict[str, int] = {}
    for i, (sku, quantity) in enumerate(lines):
        if sku not in shipped:
            raise InvalidInput(f"order {order.id} has no SKU {sku!r}", field=f"lines[{i}].sku",
                               code="sku_not_in_order",
                               zh=f"订单 {order.id} 中没有 SKU {sku!r}")
        if quantity < 1:
            raise InvalidInput("quantity must be a whole number from 1",
                               field=f"lines[{i}].quantity", zh="数量应为从 1 开始的整数")
        asked[sku] = asked.get(sku, 0) + quantity
        left = shipped[sku] - taken.get(sku, 0)
        if asked[sku] > left:
            raise InvalidInput(
                f"{sku}: {asked[sku]} units asked, but only {left} may be returned "
                f"({shipped[sku]} shipped, {taken.get(sku, 0)} already in returns)",
                field=f"lines[{i}].quantity", code="quantity_over_returnable",
                params={"sku": sku, "returnable": left},
                zh=f"{sku}：申请退 {asked[sku]} 件，最多可退 {left} 件"
                   f"（已发货 {shipped[sku]} 件，已在退货中 {taken.get(sku, 0)} 件）")
    return [ReturnLine(sku, qty) for sku, qty in asked.items()]


def check_inspection(ret: Return, inspected: Mapping[str, tuple[int, int]]) -> None:
    """Every line of the return inspected once: restockable + damaged = its quantity."""
    own = {ln.sku for ln in ret.lines}
    for sku in inspected:
        if sku not in own:
            raise InvalidInput(f"return {ret.id} has no SKU {sku!r}", field=f"lines.{sku}",
                               zh=f"退货单 {ret.id} 中没有 SKU {sku!r}")
    for line in ret.lines:
        restockable, damaged = inspected.get(line.sku, (-1, -1))
        if restockable < 0 or damaged < 0 or restockable + damaged != line.quantity:
            raise InvalidInput(
                f"{line.sku}: restockable + damaged must be the {line.quantity} units returned",
                field=f"lines.{line.sku}", code="inspection_mismatch",
                zh=f"{line.sku}：可再售 + 损坏 应等于退回的 {line.quantity} 件")
    for line in ret.lines:
        line.restockable, line.damaged = inspected[line.sku]


def _share(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` cents shared in proportion to ``weights`` by largest remainder (exact sum)."""
    whole = sum(weights)
    if not weights:
        return []
    if whole <= 0:
        base = [0] * len(weights)
        base[0] = total
        return base
    sign = -1 if total < 0 else 1
    amount = abs(total)
    exact = [amount * w for w in weights]
    parts = [e // whole for e in exact]
    left = amount - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] % whole), i))
    for i in order[:left]:
        parts[i] += 1
    return [sign * p for p in parts]


def sku_totals(order: Order) -> dict[str, tuple[int, int]]:
    """SKU -> (total cents the buyer paid for it, units), per the refund policy above."""
    paid = [to_cents(ln.amount) for ln in order.lines]
    adjustments = _share(sum(to_cents(v) for v in order.adjustments.values()), paid)
    shipping = _share(to_cents(order.shipping_fee), paid)
    totals: dict[str, tuple[int, int]] = {}
    for ln, p, a, s in zip(order.lines, paid, adjustments, shipping, strict=True):
        cents, units = totals.get(ln.sku, (0, 0))
        totals[ln.sku] = (cents + max(p + a + s, 0), units + ln.quantity)
    return totals


def refund_of(order: Order, ret: Return, refunded_before: Mapping[str, int]) -> dict[str, int]:
    """SKU -> cents refunded for the return's lines; ``refunded_before`` holds the units of each
    SKU that earlier returns of the order refunded."""
    totals = sku_totals(order)
    out: dict[str, int] = {}
    for line in ret.lines:
        cents, units = totals[line.sku]
        before = refunded_before.get(line.sku, 0)
        after = min(before + line.quantity, units)
        out[line.sku] = cents * after // units - cents * before // units
    return out
