"""Refunding a channel's return through the channel, exactly once.

When finance refunds a return that came from a channel account whose platform can refund
(``ChannelPlatform.returns.refunds``), the hub does not record the refund at once: it writes
one channel job (key ``refund:<return id>``, unique: asking twice makes one job) and answers.
The channel worker then, outside any transaction:

1. reads the return at the platform (``client.get_returns``); when the platform already
   shows it accepted or refunded (a worker killed after the platform's answer, a seller who
   accepted it in the platform's own console), nothing is sent;
2. otherwise asks the platform to refund it (``client.refund_return``) once: a transient
   failure of that call is not retried in place (the platform may have done it); the job is
   retried later and starts again at step 1;
3. records the refund (``refund.succeeded`` with ``via`` = the platform).

When the platform refuses, the job is left dead with the platform's message: the return stays
``inspected`` and shows the error (``channel_refund`` on the return); refunding again asks
anew. A return from anywhere else is refunded as before (``via: "recorded"``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from orderpilot.domain.channel_orders import (
    Account,
    MappingError,
    PlatformError,
)
from orderpilot.domain.channel_returns import ChannelReturn
from orderpilot.domain.errors import NotFound
from orderpilot.services.channels.calls import ShopCalls
from orderpilot.services.channels.ports import JobRow, Platform, ReturnClient
from orderpilot.services.returns import Move, move_return
from orderpilot.services.unit_of_work import Clock, UowFactory

REFUND_ORIGIN = "refund"  # channel_jobs.origin of a refund job (external_id: the hub return)
DONE_AT_PLATFORM = ("accepted", "refunded")


def refund_job_key(return_id: str) -> str:
    return f"refund:{return_id}"


@dataclass(frozen=True)
class RefundAsked:
    through: str | None  # the platform that will pay it; None: recorded at once


def refund(return_id: str, by: str, note: str, uow_factory: UowFactory, clock: Clock,
           platforms: Mapping[str, Platform]) -> RefundAsked:
    """Refund the return: through its channel when the channel can, else recorded now."""
    with uow_factory() as uow:
        now = clock()
        ret = uow.returns.get(return_id, for_update=True)
        if ret is None:
            raise NotFound(f"no return {return_id}", field="return_id",
                           code="return_not_found", zh=f"没有退货单 {return_id}")
        account = uow.channels.account(ret.source) if ret.source_event_id else None
        platform = platforms.get(account.platform) if account is not None else None
        if account is not None and platform is not None and platform.returns is not None \
                and platform.returns.refunds:
            copy.deepcopy(ret).move("refunded", now)  # illegal_return_move unless inspected
            raw: dict[str, Any] = {"by": by, "note": note}
            key = refund_job_key(ret.id)
            if not uow.channels.add_job(key, account.code, ret.id, REFUND_ORIGIN, raw, now):
                uow.channels.revive_job(key, raw, now)
            return RefundAsked(account.platform)
    move_return(Move(return_id, "refunded", by, note), uow_factory, clock)
    return RefundAsked(None)


def run_refund(job: JobRow, account: Account, platform: Platform, calls: ShopCalls,
               uow_factory: UowFactory, clock: Clock) -> str:
    """Steps 1-3 of the module doc for one refund job; returns what happened (refunded,
    already: the platform had it, skipped: the hub's return is refunded already). Raises
    ChannelError: transient (retry the job later) or not (the platform refused)."""
    with uow_factory() as uow:
        ret = uow.returns.get(job.external_id)
    if ret is None or ret.status in ("refunded", "closed"):
        return "skipped"
    if ret.status != "inspected" or not ret.source_event_id:
        raise PlatformError(f"return {ret.id} is {ret.status}, not inspected: not refunded",
                            transient=False)
    support = platform.returns
    assert support is not None
    rid = ret.source_event_id
    raws = calls.call(lambda c: cast(ReturnClient, c).get_returns([rid]))
    found: ChannelReturn | None = None
    for raw in raws:
        try:
            mapped = support.map_return(raw, account)
        except MappingError as error:
            raise PlatformError(f"{platform.platform} return {rid} cannot be read: "
                                f"{error.message}", transient=False) from None
        if mapped.return_id == rid:
            found = mapped
    if found is None:
        raise PlatformError(f"{platform.platform} has no return {rid}", transient=False)
    if found.status == "cancelled":
        raise PlatformError(f"{platform.platform} return {rid} is {found.platform_status} "
                            f"(closed without a refund): not refunded", transient=False)
    outcome = "already"
    if found.status not in DONE_AT_PLATFORM:
        target = found
        calls.change_once(lambda client: cast(ReturnClient, client).refund_return(target),
                          f"{platform.platform} refund of return {rid} unanswered")
        outcome = "refunded"
    by = str((job.raw or {}).get("by") or platform.platform)
    note = str((job.raw or {}).get("note") or "")
    data: dict[str, Any] = {"via": platform.platform}
    if found.refund_amount is not None:
        data["platform_amount"] = str(found.refund_amount)
    move_return(Move(ret.id, "refunded", by, note, data), uow_factory, clock)
    return outcome
