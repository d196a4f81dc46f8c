"""Cancelling an order at its platform, exactly once (services/cancellation.py asked for it).

The channel worker runs each ``cancel:<order id>`` job outside any transaction:

1. the hub's order: already cancelled, nothing to do; its ``cancel_requested`` hold released
   meanwhile (a person changed their mind), nothing is sent;
2. reads the order at the platform (``client.get_orders``); when the platform shows it
   cancelled already (a worker killed after the platform's answer, the buyer or the seller
   cancelled it there), nothing is sent;
3. otherwise asks the platform to cancel it (``client.cancel_order``) once: a failure that
   leaves open whether the platform did it is not retried in place; the job is retried later
   and starts again at step 1;
4. records ``order.cancelled`` (from the hub, ``via`` the platform) and releases the hold, in
   one transaction.

When the platform refuses (the order shipped there meanwhile, a reason it does not take in
that market), the job is left dead with the platform's message: the workbench shows it
(``channel_job_failed``) beside the order's ``cancel_requested`` hold, which stays until a
person retries the job or releases the hold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from orderpilot.domain.cancellation import CANCEL_HOLD
from orderpilot.domain.channel_orders import Account, ChannelError, MappingError, PlatformError
from orderpilot.domain.errors import OrderpilotError
from orderpilot.services.channels.calls import ShopCalls
from orderpilot.services.channels.ports import CancelClient, Gateway, JobRow, Platform
from orderpilot.services.unit_of_work import Clock, UowFactory, retrying

Fail = Callable[[Sequence[JobRow], str, bool], None]  # (jobs, error, permanent)


class CancelJobs:
    def __init__(self, uow_factory: UowFactory, gateway: Gateway, clock: Clock,
                 sleep: Callable[[float], None], fail: Fail) -> None:
        self.uow_factory, self.gateway, self.clock = uow_factory, gateway, clock
        self.sleep, self.fail = sleep, fail

    def run(self, account: Account, jobs: Sequence[JobRow]) -> None:
        platform = self.gateway.platforms().get(account.platform)
        if platform is None or not platform.cancel_reasons:
            self.fail(jobs, f"platform {account.platform} cannot cancel orders", True)
            return
        calls = ShopCalls(account, self.gateway, self.uow_factory, self.clock, self.sleep)
        for job in jobs:
            try:
                run_cancel(job, account, platform, calls, self.uow_factory, self.clock)
            except ChannelError as error:
                self.fail([job], error.message, not error.transient)
                continue
            with self.uow_factory() as uow:
                uow.channels.finish_jobs([job.seq], self.clock())


def run_cancel(job: JobRow, account: Account, platform: Platform, calls: ShopCalls,
               uow_factory: UowFactory, clock: Clock) -> str:
    """Steps 1-4 of the module doc for one job; returns what happened (cancelled, already:
    the platform had it, skipped: nothing to do). Raises ChannelError: transient (retry the
    job later) or not (the platform refused)."""
    raw = job.raw or {}
    order_id = str(raw.get("order_id") or "")
    with uow_factory() as uow:
        order = uow.orders.get(order_id)
    if order is None or order.status == "cancelled" \
            or not any(h.reason == CANCEL_HOLD for h in order.active_holds):
        return "skipped"
    external_id = job.external_id
    found = _at_platform(calls, platform, account, external_id)
    cancelled_there = {row.status for row in platform.statuses
                       if row.event_type == "order.cancelled"}
    outcome = "already"
    if found[1] not in cancelled_there:
        reason = str(raw.get("platform_reason") or "")
        calls.change_once(lambda client: cast(CancelClient, client).cancel_order(found[0],
                                                                                 reason),
                          f"{platform.platform} cancel of order {external_id} unanswered")
        outcome = "cancelled"
    _record(order_id, raw, platform.platform, outcome, uow_factory, clock)
    return outcome


def _at_platform(calls: ShopCalls, platform: Platform, account: Account,
                 external_id: str) -> tuple[dict[str, Any], str]:
    """(the raw order, its platform status) as the platform has it now."""
    for raw in calls.get_orders([external_id]):
        try:
            mapped = platform.map_order(raw, account)
        except MappingError as error:
            raise PlatformError(f"{platform.platform} order {external_id} cannot be read: "
                                f"{error.message}", transient=False) from None
        if mapped.external_id == external_id:
            return raw, mapped.status
    raise PlatformError(f"{platform.platform} has no order {external_id}", transient=False)


def _record(order_id: str, raw: dict[str, Any], via: str, outcome: str,
            uow_factory: UowFactory, clock: Clock) -> None:
    def attempt() -> None:
        with uow_factory() as uow:
            order = uow.orders.get(order_id, for_update=True)
            if order is None or order.status == "cancelled":
                return
            now = clock()
            try:
                order.report("order.cancelled", "hub", now, now,
                             {"reason": raw.get("reason"), "note": raw.get("note"),
                              "by": raw.get("by"), "via": via, "at_platform": outcome},
                             source_event_id=f"cancel:{order_id}")
            except OrderpilotError as error:  # it moved on at the hub meanwhile: people look
                raise PlatformError(f"{via} cancelled order {order_id}, but the hub could not "
                                    f"record it: {error.message}", transient=False) from None
            for hold in [h for h in order.active_holds if h.reason == CANCEL_HOLD]:
                order.release_hold(hold.id, str(raw.get("by") or via), now,
                                   f"cancelled at {via}", reason="cancelled")
            uow.orders.save(order, now)
            uow.events.append(order.events)

    retrying(attempt)
