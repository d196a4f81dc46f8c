"""Returns: taking one (recorded with its return.requested order event in one transaction),
moving it through its life (each move an order event too), restock on inspection, refund.

Every command runs in one unit of work: the return row, its lines, the order's event and stock
levels are written together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from orderpilot.domain import return_reasons as reasons
from orderpilot.domain import returns as rd
from orderpilot.domain.address import Address
from orderpilot.domain.errors import Conflict, InvalidInput, NotFound
from orderpilot.domain.events import new_id
from orderpilot.domain.order import Order
from orderpilot.services import audit_trail
from orderpilot.services.inventory.allocation import check_low
from orderpilot.services.return_words import cut
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying


@dataclass(frozen=True)
class RequestReturn:
    order_id: str
    lines: Sequence[tuple[str, int]]
    reason_tags: Sequence[str] = ()
    reason_text: str = ""
    source: str = "api"
    source_event_id: str | None = None
    customer_address: Address | None = None
    requested_by: str = ""


@dataclass(frozen=True)
class Taken:
    ret: rd.Return
    created: bool


@dataclass(frozen=True)
class Inspection:
    lines: Mapping[str, tuple[int, int]]  # sku -> (restockable, damaged)
    stock_source: str | None = None


@dataclass(frozen=True)
class Move:
    """A person (or system) moving a return on; ``data`` goes into the order event."""

    return_id: str
    target: str
    by: str
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def keyword_table(uow: UnitOfWork) -> dict[str, str]:
    stored = uow.returns.keywords()
    return dict(reasons.DEFAULT_KEYWORDS if stored is None else stored)


def _reasons(cmd: RequestReturn, keywords: Mapping[str, str]) -> tuple[list[str], str]:
    if cmd.reason_tags:
        return reasons.check_tags(cmd.reason_tags), "given"
    found = reasons.classify(cmd.reason_text, keywords, lambda text: cut(text, keywords))
    return found, "keywords" if found else "none"


def _address(a: Address | None) -> dict[str, str] | None:
    if a is None:
        return None
    return {"country": a.country, "province": a.province, "city": a.city,
            "district": a.district, "line1": a.line1, "postal_code": a.postal_code}


def request_return(cmd: RequestReturn, uow_factory: UowFactory, clock: Clock) -> Taken:
    if cmd.reason_tags:
        reasons.check_tags(cmd.reason_tags)
    if len(cmd.reason_text) > reasons.MAX_REASON_TEXT:
        raise InvalidInput(f"reason_text is at most {reasons.MAX_REASON_TEXT} characters",
                           field="reason_text",
                           zh=f"reason_text 最多 {reasons.MAX_REASON_TEXT} 个字符")

    def attempt() -> Taken:
        now = clock()
        with uow_factory() as uow:
            if cmd.source_event_id:
                seen = uow.returns.find_by_source(cmd.source, cmd.source_event_id)
                if seen is not None:
                    if seen.order_id != cmd.order_id:
                        raise Conflict(f"{cmd.source} return {cmd.source_event_id} was already "
                                       f"recorded for another order", field="source_event_id",
                                       code="source_event_id_reused",
                                       zh=f"{cmd.source} 退货 {cmd.source_event_id} "
                                          "已记录在另一个订单上")
                    audit_trail.system_report()
                    return Taken(seen, False)
            order = _order(uow, cmd.order_id)
            lines = rd.check_lines(order, cmd.lines, uow.returns.of_order(order.id))
            tags, how = _reasons(cmd, keyword_table(uow))
            ret = rd.Return(new_id(), order.id, "requested", cmd.source, cmd.source_event_id,
                            lines, tags, cmd.reason_text, how, _address(cmd.customer_address),
                            now, now)
            order.report("return.requested", cmd.source, now, now, ret.event_data(),
                         source_event_id=cmd.source_event_id)
            uow.returns.add(ret)
            uow.orders.save(order, now)
            uow.events.append(order.events)
            if cmd.source_event_id:  # a system's report of a return, not a person's
                audit_trail.system_report()
            else:
                audit_trail.record(uow, clock, "return.create", subject_type="return",
                                   subject_id=ret.id, order_id=order.id,
                                   after={"status": ret.status, "lines": len(lines),
                                          "reasons": list(tags)})
            return Taken(ret, True)

    return retrying(attempt)


def move_return(cmd: Move, uow_factory: UowFactory, clock: Clock,
                inspection: Inspection | None = None) -> rd.Return:
    """Approve, reject, pickup booked, in transit, received, inspected, refunded or closed."""
    if cmd.target not in rd.EVENT_OF_MOVE:
        raise InvalidInput(f"unknown return step {cmd.target!r}", field="status",
                           zh=f"未知的退货步骤 {cmd.target!r}")
    if cmd.target == "inspected" and inspection is None:
        raise InvalidInput("an inspection needs its lines", field="lines",
                           zh="质检需要填写各行结果")

    def attempt() -> rd.Return:
        now = clock()
        with uow_factory() as uow:
            ret = uow.returns.get(cmd.return_id, for_update=True)
            if ret is None:
                raise NotFound(f"no return {cmd.return_id}", field="return_id",
                               code="return_not_found", zh=f"没有退货单 {cmd.return_id}")
            order = _order(uow, ret.order_id)
            status_before = ret.status
            ret.move(cmd.target, now)
            if cmd.target == "approved" and _pickup_booked(uow, ret.id):
                ret.move("pickup_booked", now)  # the routing booked it already (reported then)
            data: dict[str, Any] = {"return_id": ret.id, **cmd.data, "by": cmd.by}
            if cmd.note:
                data["note"] = cmd.note
            if cmd.target == "inspected":
                assert inspection is not None
                data |= _inspect(uow, ret, inspection, now)
            elif cmd.target == "refunded":
                data |= _refund(uow, order, ret, str(cmd.data.get("via") or "recorded"))
            order.report(rd.EVENT_OF_MOVE[cmd.target], "hub", now, now, data)
            uow.returns.save(ret)
            uow.orders.save(order, now)
            uow.events.append(order.events)
            audit_trail.record(uow, clock, f"return.{cmd.target}", subject_type="return",
                               subject_id=ret.id, order_id=order.id,
                               before={"status": status_before}, after={"status": ret.status},
                               detail={"note": cmd.note} if cmd.note else None)
            return ret

    return retrying(attempt)


def _pickup_booked(uow: UnitOfWork, return_id: str) -> bool:
    """Whether the routing booked the return's pickup with the carrier (docs/returns.md)."""
    route = uow.return_routing.route(return_id)
    return bool(route and route.get("pickup_waybill"))


def _inspect(uow: UnitOfWork, ret: rd.Return, inspection: Inspection,
             now: datetime) -> dict[str, Any]:
    """Record each line's condition; restockable units go back on hand at the chosen stock
    source at once (its availability updates with them)."""
    rd.check_inspection(ret, inspection.lines)
    restock = {ln.sku: ln.restockable for ln in ret.lines if ln.restockable}
    code = inspection.stock_source
    if restock:
        if not code:
            raise InvalidInput("choose the stock source the restockable units go back to",
                               field="stock_source", zh="请选择可再售商品退回的库存来源")
        if uow.inventory.source(code) is None:
            raise InvalidInput(f"unknown stock source {code!r}", field="stock_source",
                               zh=f"未知的库存来源 {code!r}")
        uow.inventory.lock_levels()
        for sku, units in restock.items():
            level = uow.inventory.level(code, sku)
            on_hand = (level.on_hand if level else 0) + units
            uow.inventory.write_level(code, sku, on_hand, max(now, level.as_of) if level
                                      else now, level.expected_at if level else None, now)
            check_low(uow, code, sku, now)
        ret.restock_source = code
    lines = [{"sku": ln.sku, "quantity": n, "condition": condition}
             for ln in ret.lines
             for condition, n in (("restockable", ln.restockable), ("damaged", ln.damaged))
             if n]
    return {"lines": lines, "stock_source": code if restock else None}


def _refund(uow: UnitOfWork, order: Order, ret: rd.Return, via: str) -> dict[str, Any]:
    """The refund per line; VIA is "recorded" (the hub records it) or the channel's platform
    that paid it (services/channels/return_refunds.py)."""
    before: dict[str, int] = {}
    for other in uow.returns.of_order(order.id):
        if other.id != ret.id and other.refund_cents is not None:
            for ln in other.lines:
                before[ln.sku] = before.get(ln.sku, 0) + ln.quantity
    amounts = rd.refund_of(order, ret, before)
    for ln in ret.lines:
        ln.refund_cents = amounts[ln.sku]
    ret.refund_cents = sum(amounts.values())
    return {"amount": f"{ret.refund_cents // 100}.{ret.refund_cents % 100:02d}",
            "amount_cents": ret.refund_cents, "currency": order.currency,
            "lines": [{"sku": s, "amount_cents": c} for s, c in amounts.items()],
            "via": via}


def get_keywords(uow_factory: UowFactory) -> dict[str, str]:
    with uow_factory() as uow:
        return keyword_table(uow)


def put_keywords(rows: Mapping[str, str], by: str, uow_factory: UowFactory,
                 clock: Clock) -> dict[str, str]:
    table = reasons.check_keywords(rows)
    with uow_factory() as uow:
        before = keyword_table(uow)
        uow.returns.replace_keywords(table, by, clock())
        audit_trail.record(uow, clock, "returns.keywords", subject_type="return_keywords",
                           before=before, after=table)
    return table


def classify_text(text: str, uow_factory: UowFactory) -> list[str]:
    keywords = get_keywords(uow_factory)
    return reasons.classify(text, keywords, lambda t: cut(t, keywords))


def _order(uow: UnitOfWork, order_id: str) -> Order:
    order: Order | None = uow.orders.get(order_id, for_update=True)
    if order is None:
        raise NotFound.coded("order.not_found", field="order_id", order_id=order_id)
    return order


