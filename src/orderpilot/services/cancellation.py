"""A person cancels an order from the hub (domain/cancellation.py: which orders, which reasons).

An order that came from a sales channel is cancelled **at the platform**, or not at all: the
buyer's money and the platform's order are there. When its platform can cancel through the
hub (``ChannelPlatform.cancel_reasons`` names the reason), the order gets the
``cancel_requested`` hold (nothing leaves the warehouse meanwhile; the workbench shows it) and
one channel job ``cancel:<order id>``; the channel worker asks the platform exactly once
(services/channels/cancel_jobs.py) and then records ``order.cancelled``. A platform the hub
cannot cancel at, or a reason it does not take, is refused (409 ``cancel_at_platform``) with
where to do it: the hub follows the platform's own cancellation when it comes.

Any other order (placed through the API by the company's own store, the mini-program) is
cancelled at once: ``order.cancelled`` from the hub, in the request's transaction.

Either way the warehouse must not ship it: an outbound order still queued is withdrawn (or,
while the platform is asked, held back); one the WMS already has is refused (409
``in_warehouse``: intercept it in the WMS first), as is one being sent this instant (409
``being_sent``, try again). The stock it held is released by the ``order.cancelled`` handler,
and its open exceptions are resolved as ``cancelled`` (at once when the hub cancels it, else
by the handler in services/exceptions/feed.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from orderpilot.domain.cancellation import (
    CANCEL_HOLD,
    check_cancel_reason,
    check_cancellable,
    reason_names,
)
from orderpilot.domain.errors import Conflict, NotFound
from orderpilot.domain.order import Order
from orderpilot.services import audit_trail
from orderpilot.services.channels.ports import Platform
from orderpilot.services.exceptions.feed import resolve_in
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

CANCEL_ORIGIN = "cancel"  # channel_jobs.origin of a cancellation (external_id: platform's id)


def cancel_job_key(order_id: str) -> str:
    return f"cancel:{order_id}"


@dataclass(frozen=True)
class CancelOrder:
    order_id: str
    reason: str  # domain/cancellation.py CANCEL_REASONS
    note: str
    by: str


class Cancelled(NamedTuple):
    order_id: str
    outcome: str  # cancelled (now) | asked (of the platform) | already (cancelled before)
    through: str | None  # the platform asked, or None


def cancel(cmd: CancelOrder, uow_factory: UowFactory, clock: Clock,
           platforms: Mapping[str, Platform]) -> Cancelled:
    check_cancel_reason(cmd.reason, cmd.note)

    def attempt() -> Cancelled:
        with uow_factory() as uow:
            return cancel_in(uow, clock, cmd, platforms)

    return retrying(attempt)


def cancel_in(uow: UnitOfWork, clock: Clock, cmd: CancelOrder,
              platforms: Mapping[str, Platform]) -> Cancelled:
    """Cancel (or ask the platform to) inside an open unit of work; idempotent."""
    order = uow.orders.get(cmd.order_id, for_update=True)
    if order is None:
        raise NotFound.coded("order.not_found", field="order_id", order_id=cmd.order_id)
    if order.status == "cancelled":
        return Cancelled(order.id, "already", None)
    origin = uow.channels.channel_order_of(order.id)
    platform = _platform(uow, origin, platforms)
    if any(h.reason == CANCEL_HOLD for h in order.active_holds):
        return Cancelled(order.id, "asked", platform.platform if platform else None)
    check_cancellable(order.id, order.status)
    now, before = clock(), order.status
    if origin is not None:
        reasons = platform.cancel_reasons if platform is not None else None
        if platform is None or not reasons or cmd.reason not in reasons:
            raise _at_platform(order, platform, origin[0], reasons)
        _not_in_warehouse(uow, order.id, withdraw=False, clock=clock)
        order.place_hold(CANCEL_HOLD, cmd.note or reason_names(cmd.reason)[1], cmd.by,
                         "user", now)
        raw: dict[str, object] = {"order_id": order.id, "reason": cmd.reason,
                                  "note": cmd.note, "by": cmd.by,
                                  "platform_reason": reasons[cmd.reason]}
        key = cancel_job_key(order.id)
        if not uow.channels.add_job(key, origin[0], origin[1], CANCEL_ORIGIN, raw, now):
            uow.channels.revive_job(key, raw, now)
        outcome, through = "asked", platform.platform
    else:
        _not_in_warehouse(uow, order.id, withdraw=True, clock=clock)
        order.report("order.cancelled", "hub", now, now,
                     {"reason": cmd.reason, "note": cmd.note, "by": cmd.by},
                     source_event_id=cancel_job_key(order.id))
        for record in uow.exceptions.active_of_order(order.id):  # shown resolved at once
            resolve_in(uow, record, "cancelled", cmd.by, now)
        outcome, through = "cancelled", None
    uow.orders.save(order, now)
    uow.events.append(order.events)
    audit_trail.record(uow, clock, "order.cancel", subject_type="order", subject_id=order.id,
                       order_id=order.id, before={"status": before},
                       after={"outcome": outcome, "reason": cmd.reason, "note": cmd.note,
                              "through": through})
    return Cancelled(order.id, outcome, through)


def _platform(uow: UnitOfWork, origin: tuple[str, str] | None,
              platforms: Mapping[str, Platform]) -> Platform | None:
    if origin is None:
        return None
    account = uow.channels.account(origin[0])
    return platforms.get(account.platform) if account is not None else None


def _at_platform(order: Order, platform: Platform | None, account: str,
                 reasons: Mapping[str, str] | None) -> Conflict:
    name_en = platform.title_en if platform is not None else account
    name_zh = platform.title_zh if platform is not None else account
    if reasons:
        taken = ", ".join(reasons)
        return Conflict(
            f"order {order.id} came from {name_en} (account {account}), which the hub can "
            f"cancel only for these reasons: {taken}; cancel it in {name_en}'s seller centre "
            f"otherwise (the hub follows)", code="cancel_at_platform", field="reason",
            params={"order_id": order.id, "account": account, "reasons": list(reasons)},
            zh=f"订单 {order.id} 来自{name_zh}（账号 {account}），经由本系统取消只支持这些原因："
               f"{taken}；其他原因请在{name_zh}卖家中心取消，本系统会随之更新")
    return Conflict(
        f"order {order.id} came from {name_en} (account {account}): the hub cannot cancel "
        f"orders there; cancel it in {name_en}'s seller centre and the hub follows",
        code="cancel_at_platform", field="order_id",
        params={"order_id": order.id, "account": account},
        zh=f"订单 {order.id} 来自{name_zh}（账号 {account}）：本系统无法在该平台取消订单，"
           f"请在{name_zh}卖家中心取消，本系统会随之更新")


def _not_in_warehouse(uow: UnitOfWork, order_id: str, *, withdraw: bool,
                      clock: Clock) -> None:
    """Refuse an order the WMS has (or may be receiving now); WITHDRAW a queued push."""
    now = clock()
    if withdraw:
        state = uow.wms_outbound.withdraw(order_id, now)
    else:
        row = uow.wms_outbound.status(order_id)
        state = "none" if row is None else str(row["status"])
        if state != "sent" and row is not None and row.get("claimed_until") is not None \
                and _after(row["claimed_until"], now):
            state = "in_flight"
    if state == "sent":
        raise Conflict(f"order {order_id}: the WMS has its outbound order already; intercept "
                       f"it in the WMS (拦截) first, then cancel", code="in_warehouse",
                       field="order_id", params={"order_id": order_id},
                       zh=f"订单 {order_id} 的出库单已下发到仓库：请先在 WMS 拦截，再取消订单")
    if state == "in_flight":
        raise Conflict(f"order {order_id}: its outbound order is being sent to the WMS right "
                       f"now; try again in a minute", code="being_sent", field="order_id",
                       params={"order_id": order_id},
                       zh=f"订单 {order_id} 的出库单正在下发到仓库，请一分钟后再试")


def _after(value: object, now: datetime) -> bool:
    if not isinstance(value, datetime):
        return False
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value > now
