"""The canonical order aggregate: lines, holds, system views and the lifecycle state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from orderpilot.domain import lifecycle
from orderpilot.domain.address import Address, Customer
from orderpilot.domain.errors import IllegalTransition, InvalidInput, NotFound, OrderOnHold
from orderpilot.domain.events import OrderEvent, new_id
from orderpilot.domain.messages import NOTE_MARK
from orderpilot.domain.withheld import is_withheld

# A breached expectation holds the order as ``expectation:{code}`` (domain/expectations.py).
HOLD_REASON = re.compile(r"^(?=.{2,64}$)(expectation:)?[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price: Decimal
    name: str = ""
    discount: Decimal = Decimal("0.00")
    cancelled_quantity: int = 0  # units the channel cancelled later (partial cancellation)

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


@dataclass
class Hold:
    reason: str
    placed_at: datetime
    placed_by: str
    placed_by_kind: str = "user"
    note: str = ""
    released_at: datetime | None = None
    released_by: str | None = None
    auto_release_at: datetime | None = None
    id: str = field(default_factory=new_id)
    release_reason: str = ""  # a person's reason code (domain/hold_release.py)
    release_note: str = ""

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass
class SystemView:
    """The last status one external system reported, with both clocks."""

    system: str
    status: str
    event_type: str
    occurred_at: datetime
    received_at: datetime
    source: str


@dataclass
class Order:
    id: str
    channel: str
    shop_id: str
    external_id: str
    placed_at: datetime
    currency: str
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine]
    total: Decimal
    shipping_fee: Decimal = Decimal("0.00")
    tags: list[str] = field(default_factory=list)
    # Named differences between lines + shipping and the total (vouchers, coins...): signed.
    adjustments: dict[str, Decimal] = field(default_factory=dict)
    status: str = "placed"
    status_changed_at: datetime | None = None
    holds: list[Hold] = field(default_factory=list)
    views: dict[str, SystemView] = field(default_factory=dict)
    version: int = 0
    events: list[OrderEvent] = field(default_factory=list, repr=False)
    changed_holds: list[Hold] = field(default_factory=list, repr=False)
    changed_views: set[str] = field(default_factory=set, repr=False)
    changed_details: bool = field(default=False, repr=False)  # address, buyer or lines changed

    @property
    def held(self) -> bool:
        return any(h.active for h in self.holds)

    @property
    def active_holds(self) -> list[Hold]:
        return [h for h in self.holds if h.active]

    def record(self, type_: str, source: str, occurred_at: datetime, now: datetime,
               payload: dict[str, Any] | None = None, *, system: str = "hub",
               source_event_id: str | None = None, causation_id: str | None = None,
               correlation_id: str | None = None) -> OrderEvent:
        event = OrderEvent(self.id, type_, source, occurred_at, now, payload or {},
                           source_event_id, causation_id, correlation_id, system)
        self.events.append(event)
        return event

    def report(self, type_: str, source: str, occurred_at: datetime, now: datetime,
               data: dict[str, Any], *, source_event_id: str | None = None,
               causation_id: str | None = None, correlation_id: str | None = None) -> str:
        """Apply a system's report. Returns 'moved', 'late' or 'view'."""
        kind = lifecycle.EVENT_TYPES.get(type_)
        if kind is None:
            known = ", ".join(sorted(lifecycle.EVENT_TYPES))
            raise InvalidInput(f"unknown event type {type_!r}; known types: {known}", field="type",
                               zh=f"未知事件类型 {type_!r}；可用类型：{known}")
        system = lifecycle.system_of(source, kind)
        status_reported = str(data.get("status") or kind.node or kind.view_status)
        if kind.node is None and not status_reported:
            raise InvalidInput("system.status needs data.status", field="data.status",
                               zh="system.status 需要 data.status")
        before = self.status
        outcome = "view" if kind.node is None else self._move_to(kind.node, type_)
        payload: dict[str, Any] = {"data": data, "from": before, "outcome": outcome}
        if outcome == "moved":
            payload["to"] = self.status
            self.status_changed_at = now
        self.record(type_, source, occurred_at, now, payload, system=system,
                    source_event_id=source_event_id, causation_id=causation_id,
                    correlation_id=correlation_id)
        self._update_view(system, status_reported, type_, occurred_at, now, source)
        return outcome

    def _move_to(self, target: str, type_: str) -> str:
        current = self.status
        if lifecycle.is_late(current, target):
            return "late"
        if not lifecycle.can_move(current, target):
            cur, tgt = lifecycle.NODE_BY_ID[current], lifecycle.NODE_BY_ID[target]
            allowed = ", ".join(lifecycle.NODE_BY_ID[current].next) or "nothing (final)"
            raise IllegalTransition(
                f"{type_} cannot move the order from {cur.en} ({cur.zh}) to {tgt.en} "
                f"({tgt.zh}); from {current} it may go to: {allowed}", field="type",
                zh=f"{type_} 不能把订单从{cur.zh}变为{tgt.zh}；当前状态可变为：{allowed}")
        if self.held and lifecycle.needs_release(target):
            reasons = ", ".join(h.reason for h in self.active_holds)
            raise OrderOnHold(f"the order is on hold ({reasons}); release the holds before "
                              f"{lifecycle.NODE_BY_ID[target].en}", field="type",
                              zh=f"订单已挂起（{reasons}），请先解除挂起再{lifecycle.NODE_BY_ID[target].zh}")
        self.status = target
        return "moved"

    def _update_view(self, system: str, status: str, type_: str, occurred_at: datetime,
                     now: datetime, source: str) -> None:
        previous = self.views.get(system)
        # An older report arriving late does not overwrite a newer one in the view.
        if previous is not None and previous.occurred_at > occurred_at:
            return
        self.views[system] = SystemView(system, status, type_, occurred_at, now, source)
        self.changed_views.add(system)

    def place_hold(self, reason: str, note: str, by: str, by_kind: str, now: datetime,
                   auto_release_at: datetime | None = None,
                   causation_id: str | None = None) -> Hold:
        if not HOLD_REASON.match(reason):
            raise InvalidInput("reason must be a code of lowercase letters, digits and _ "
                               "(2-64 chars), e.g. address_incomplete", field="reason",
                               zh="reason 应为小写字母、数字和 _ 组成的代码（2-64 个字符），"
                                  "如 address_incomplete")
        if by_kind not in ("user", "rule", "system"):
            raise InvalidInput("placed_by_kind must be user, rule or system",
                               field="placed_by_kind",
                               zh="placed_by_kind 应为 user、rule 或 system")
        if by_kind == "user" and note.startswith(NOTE_MARK):  # would read as the hub's words
            raise InvalidInput(f"a note may not start with {NOTE_MARK!r}", field="note",
                               zh=f"备注不能以 {NOTE_MARK!r} 开头")
        hold = Hold(reason, now, by, by_kind, note, auto_release_at=auto_release_at)
        self.holds.append(hold)
        self.changed_holds.append(hold)
        self.record("hold.placed", "hub", now, now,
                    {"hold_id": hold.id, "reason": reason, "note": note, "placed_by": by,
                     "placed_by_kind": by_kind,
                     "auto_release_at": auto_release_at.isoformat() if auto_release_at else None},
                    causation_id=causation_id)
        return hold

    def release_hold(self, hold_id: str, by: str, now: datetime, note: str = "",
                     causation_id: str | None = None, reason: str = "") -> Hold | None:
        """Release one hold; the others stay. Releasing a released hold changes nothing."""
        hold = next((h for h in self.holds if h.id == hold_id), None)
        if hold is None:
            raise NotFound(f"order {self.id} has no hold {hold_id}", field="hold_id",
                           zh=f"订单 {self.id} 没有挂起 {hold_id}")
        if not hold.active:
            return None
        hold.released_at, hold.released_by = now, by
        hold.release_reason, hold.release_note = reason, note
        self.changed_holds.append(hold)
        self.record("hold.released", "hub", now, now,
                    {"hold_id": hold.id, "reason": hold.reason, "released_by": by, "note": note,
                     "release_reason": reason,
                     "still_held": [h.reason for h in self.active_holds]},
                    causation_id=causation_id)
        return hold

    def tag(self, tags: list[str], by: str, now: datetime, *, remove: bool = False,
            causation_id: str | None = None, extra: dict[str, Any] | None = None) -> list[str]:
        """Add (or remove) tags; returns the tags that changed. No change records nothing."""
        changed = [t for t in dict.fromkeys(tags) if (t in self.tags) == remove]
        if not changed:
            return []
        if remove:
            self.tags = [t for t in self.tags if t not in changed]
        else:
            self.tags = [*self.tags, *changed]
        self.record("order.tagged", "hub", now, now,
                    {"added": [] if remove else changed, "removed": changed if remove else [],
                     "tags": list(self.tags), "by": by, **(extra or {})},
                    causation_id=causation_id)
        return changed

    def change_address(self, address: Address, source: str, occurred_at: datetime,
                       now: datetime, *, source_event_id: str | None = None) -> bool:
        """The channel changed the shipping address. Before shipping it is taken; after, it is
        recorded (the event says refused) and the order keeps the address it shipped to."""
        if address == self.shipping_address:
            return False
        before = self.shipping_address
        taken = lifecycle.NODE_BY_ID[self.status].pre_shipment
        if taken:
            self.shipping_address = address
            self.changed_details = True
        self.record("order.address_changed", source, occurred_at, now,
                    {"from": _address_dict(before), "to": _address_dict(address),
                     "taken": taken}, system=lifecycle.system_of(
                         source, lifecycle.EVENT_TYPES["payment.succeeded"]),
                    source_event_id=source_event_id)
        return True

    def reveal_customer(self, customer: Customer, source: str, occurred_at: datetime,
                        now: datetime, *, source_event_id: str | None = None) -> bool:
        """The channel's buyer name or phone, withheld when the order was taken (the shop could
        not decrypt them: domain/withheld.py), can be read now: they replace the notes. Values
        the order already holds are never overwritten this way."""
        fields = [name for name, old, new in (("name", self.customer.name, customer.name),
                                              ("phone", self.customer.phone, customer.phone))
                  if is_withheld(old) and new and not is_withheld(new)]
        if not fields:
            return False
        self.customer = Customer(customer.name if "name" in fields else self.customer.name,
                                 customer.phone if "phone" in fields else self.customer.phone)
        self.changed_details = True
        self.record("order.customer_revealed", source, occurred_at, now, {"fields": fields},
                    system=lifecycle.system_of(
                        source, lifecycle.EVENT_TYPES["payment.succeeded"]),
                    source_event_id=source_event_id)
        return True

    def cancel_units(self, cancelled: dict[int, int], source: str, occurred_at: datetime,
                     now: datetime, *, source_event_id: str | None = None) -> bool:
        """The channel cancelled some units (line index -> units cancelled in all). Only
        increases are recorded; the order as a whole stays as it is (a whole cancellation is
        order.cancelled)."""
        changes = []
        for index, units in sorted(cancelled.items()):
            line = self.lines[index]
            units = min(units, line.quantity)
            if units > line.cancelled_quantity:
                changes.append({"line_no": index + 1, "sku": line.sku,
                                "cancelled": units - line.cancelled_quantity,
                                "cancelled_in_all": units, "quantity": line.quantity})
                self.lines[index] = replace(line, cancelled_quantity=units)
        if not changes:
            return False
        self.changed_details = True
        self.record("order.lines_cancelled", source, occurred_at, now, {"lines": changes},
                    system=lifecycle.system_of(
                        source, lifecycle.EVENT_TYPES["order.cancelled"]),
                    source_event_id=source_event_id)
        return True


def _address_dict(a: Address) -> dict[str, str]:
    return {"country": a.country, "province": a.province, "city": a.city,
            "district": a.district, "line1": a.line1, "postal_code": a.postal_code}
