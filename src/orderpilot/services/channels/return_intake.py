"""Return requests from the channels: a platform's return becomes the hub's return, once.

A platform's return (domain/channel_returns.py ChannelReturn, mapped by the platform's
``returns.map_return``) is taken with services/returns.py ``request_return`` on the order the
platform names, with ``source`` = the channel account's code and ``source_event_id`` = the
platform's return id, so a return pushed twice, pulled again or replayed is one return.

* The order is found by (account, the platform's order id). Not in the hub yet (the order's
  own fetch may be behind): an order fetch job is added and the return waits (its job is
  retried later). An order the hub has not seen shipped waits the same way.
* SKUs not on the order, more units than may be returned, a return id already used on another
  order, a payload that cannot be mapped: the raw return goes to the channel quarantine with
  the reason (kept as ``{"channel_return": raw}``), replayable as orders are.
* Later platform statuses move the return: ``cancelled`` (the buyer cancelled, the platform
  closed it without a refund) rejects and closes a return still ``requested``, with a note;
  ``refunded`` records the refund with ``via`` = the platform on a return the hub has
  inspected (a refund recorded by the hub already is left alone). Earlier steps are the hub's
  own (approval, receipt, inspection): the platform's word does not skip them, and the hub's
  refund later sees at the platform that the money moved (services/channels/return_refunds.py).
* Reasons: the platform's reason code gives our tags when it obviously corresponds (the
  mapping's ``reason_tags``), otherwise the reason text is classified with the keyword table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orderpilot.domain import return_reasons as reasons
from orderpilot.domain.channel_orders import Account, MappingError, plain
from orderpilot.domain.channel_returns import ChannelReturn, ReturnSupport
from orderpilot.domain.errors import Conflict, InvalidInput, NotFound
from orderpilot.services.channels.ports import Platform
from orderpilot.services.returns import Move, RequestReturn, move_return, request_return
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory

RETURN_ORIGIN = "return"  # channel_jobs.origin of a return job (external_id: the return id)
WAITS_FOR_ORDER = ("not_shipped",)
_ID_KEYS = ("return_sn", "reverse_order_id", "return_id", "refund_id", "id")


@dataclass(frozen=True)
class ReturnOutcome:
    outcome: str  # created | unchanged | waiting | quarantined
    return_id: str | None = None  # the hub's return
    reason: str = ""
    moved: tuple[str, ...] = ()  # the moves the platform's status made


def support_of(platform: Platform) -> ReturnSupport:
    support = platform.returns
    if support is None:
        raise InvalidInput(f"{platform.platform} brings no returns", field="platform",
                           zh=f"{platform.platform} 不提供退货")
    return support


def return_job_key(code: str, dedup_key: str) -> str:
    return f"return:{code}:{dedup_key}"


def quarantine_text(raw: Mapping[str, Any]) -> str:
    return json.dumps({"channel_return": plain(dict(raw))}, ensure_ascii=False,
                      sort_keys=True)


def guess_return_id(raw: Mapping[str, Any]) -> str:
    for key in _ID_KEYS:
        value = raw.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)[:64]
    return ""


def map_return(support: ReturnSupport, account: Account,
               raw: Mapping[str, Any]) -> ChannelReturn | MappingError:
    try:
        return support.map_return(raw, account)
    except MappingError as error:
        return error


def order_of(uow: UnitOfWork, account: Account, external_id: str) -> str | None:
    """The hub's order for the platform's order id on this account, if it is in."""
    row = uow.channels.channel_order(account.code, external_id)
    if row is not None:
        return row.order_id
    found = uow.orders.find_existing(None, account.platform, account.shop_id, external_id)
    return None if found is None else found.id


def quarantine(uow_factory: UowFactory, clock: Clock, account: Account, return_id: str,
               raw: Mapping[str, Any], field: str | None, reason: str, reason_zh: str) -> int:
    with uow_factory() as uow:
        return uow.channels.quarantine(account.code, account.platform, return_id, field,
                                       f"return: {reason}", f"退货：{reason_zh}",
                                       quarantine_text(raw), clock())


def take(item: ChannelReturn | MappingError, raw: Mapping[str, Any], account: Account,
         uow_factory: UowFactory, clock: Clock) -> ReturnOutcome:
    """Take one mapped return (or keep what could not be mapped); see the module doc."""
    if isinstance(item, MappingError):
        quarantine(uow_factory, clock, account, guess_return_id(raw), raw, item.field,
                   item.message, item.message_zh)
        return ReturnOutcome("quarantined", reason=item.message)
    with uow_factory() as uow:
        order_id = order_of(uow, account, item.order_external_id)
        if order_id is None:  # fetch the order; the return waits for it
            uow.channels.add_job(f"return-order:{account.code}:{item.order_external_id}",
                                 account.code, item.order_external_id, "pull", None, clock())
    if order_id is None:
        return ReturnOutcome("waiting", reason=f"order {item.order_external_id} of "
                                               f"{account.platform} return {item.return_id} "
                                               f"is not in the hub yet")
    text = item.reason_text[:reasons.MAX_REASON_TEXT]
    try:
        taken = request_return(RequestReturn(
            order_id, list(item.lines), list(item.reason_tags), text, account.code,
            item.return_id, None, account.platform), uow_factory, clock)
    except (InvalidInput, Conflict, NotFound) as refused:
        if refused.code in WAITS_FOR_ORDER:
            return ReturnOutcome("waiting", reason=refused.message)
        quarantine(uow_factory, clock, account, item.return_id, raw, refused.field,
                   refused.message, refused.message_zh)
        return ReturnOutcome("quarantined", reason=refused.message)
    moved = follow(item, taken.ret.id, taken.ret.status, account, uow_factory, clock)
    return ReturnOutcome("created" if taken.created else "unchanged", taken.ret.id,
                         moved=moved)


def follow(item: ChannelReturn, return_id: str, status: str, account: Account,
           uow_factory: UowFactory, clock: Clock) -> tuple[str, ...]:
    """Move the hub's return as the platform's status says; each move once (a move already
    made, or one the return has passed, is skipped)."""
    steps: list[tuple[str, str, dict[str, Any]]] = []
    note = f"{account.platform} {item.platform_status}"
    if item.status == "cancelled":
        if status == "requested":
            steps.append(("rejected", f"closed at {note} (no refund)", {}))
        if status in ("requested", "rejected"):
            steps.append(("closed", f"closed at {note}", {}))
    elif item.status == "refunded" and status == "inspected":
        data: dict[str, Any] = {"via": account.platform}
        if item.refund_amount is not None:
            data["platform_amount"] = str(item.refund_amount)
        steps.append(("refunded", f"refunded at {note}", data))
    done: list[str] = []
    for target, text, data in steps:
        try:
            move_return(Move(return_id, target, account.platform, text, data), uow_factory,
                        clock)
        except Conflict:  # someone moved it meanwhile: their move stands
            break
        done.append(target)
    return tuple(done)


def take_raws(raws: Sequence[Mapping[str, Any]], platform: Platform, account: Account,
              uow_factory: UowFactory, clock: Clock) -> list[tuple[str, ReturnOutcome,
                                                                   Mapping[str, Any]]]:
    """Map and take each raw return: (platform return id, outcome, raw) per raw."""
    support = support_of(platform)
    done = []
    for raw in raws:
        item = map_return(support, account, raw)
        rid = item.return_id if isinstance(item, ChannelReturn) else guess_return_id(raw)
        done.append((rid, take(item, raw, account, uow_factory, clock), raw))
    return done
