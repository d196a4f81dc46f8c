"""Bulk actions on selected exceptions: first a preview ("this touches N orders (M exceptions)")
with a token, then the action applied only if the caller confirms with that token or with
``confirm`` equal to the preview's order count; a selection that changed in between is refused
(409 ``selection_changed``). All of one bulk action runs in one transaction.

The action table is open: another capability adds its action with :func:`register` (the
out-of-stock retry fills the "retry allocation" slot)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from orderpilot.domain.access import allowed
from orderpilot.domain.cancellation import check_cancel_reason
from orderpilot.domain.commands import ReleaseHold
from orderpilot.domain.errors import Conflict, Forbidden, InvalidInput
from orderpilot.domain.exceptions import ExceptionRecord, HistoryRecord, channel_job_seq
from orderpilot.domain.hold_release import check_release_reason
from orderpilot.services import audit_trail, ordering
from orderpilot.services.cancellation import CancelOrder, cancel_in
from orderpilot.services.exceptions.feed import resolve_in
from orderpilot.services.exceptions.work import assign_in, resolve_by_hand_in
from orderpilot.services.inventory.retry import retry_in
from orderpilot.services.unit_of_work import Clock, UnitOfWork, UowFactory, retrying

MAX_SELECTION = 500
HOLD_KINDS = ("hold", "out_of_stock", "expectation_breach", "unroutable_return")
Params = Mapping[str, Any]  # the caller's strings (reason, note, assignee) and PLATFORMS
PLATFORMS = "platforms"  # the sales-channel platforms (a cancellation asks them)


@dataclass(frozen=True)
class BulkAction:
    code: str
    zh: str
    en: str
    applies: Callable[[ExceptionRecord], bool]
    run: Callable[[UnitOfWork, Clock, ExceptionRecord, Params, str], None]
    check: Callable[[Params], None] = field(default=lambda params: None)
    permission: str = ""  # beyond exceptions.act (domain/access.py), e.g. dispatch.manage


def _release_applies(record: ExceptionRecord) -> bool:
    return record.active and record.kind in HOLD_KINDS and record.order_id is not None


def _check_release(params: Params) -> None:
    check_release_reason(params.get("reason", ""), params.get("note", ""))


def _release(uow: UnitOfWork, clock: Clock, record: ExceptionRecord, params: Params,
             by: str) -> None:
    assert record.order_id is not None
    reason = params.get("reason", "")
    ordering.release_hold_in(uow, ReleaseHold(record.order_id, record.subject_ref, by,
                                              params.get("note", ""), reason=reason), clock)
    resolve_in(uow, record, reason, by, clock())


def _assign(uow: UnitOfWork, clock: Clock, record: ExceptionRecord, params: Params,
            by: str) -> None:
    assign_in(uow, clock, record, params.get("assignee", ""), by)


def _resolve(uow: UnitOfWork, clock: Clock, record: ExceptionRecord, params: Params,
             by: str) -> None:
    resolve_by_hand_in(uow, clock, record, by)


def _active(record: ExceptionRecord) -> bool:
    return record.active


RETRIABLE = ("dead_letter", "erp_booking_failed", "wms_outbound_failed", "channel_job_failed")


def _retry_applies(record: ExceptionRecord) -> bool:
    return record.active and record.reason in RETRIABLE


def _retry(uow: UnitOfWork, clock: Clock, record: ExceptionRecord, params: Params,
           by: str) -> None:
    """Redrive the dead letter, queue the stopped ERP booking, the WMS outbound order or the
    channel job that gave up again, with a fresh count of attempts. The exception stays open:
    the sweep resolves it once the source is healthy, and a retry that fails again leaves it
    where it was."""
    now = clock()
    if record.reason == "dead_letter":
        uow.outbox.retry_dead(now, record.subject_ref)
    elif record.reason == "channel_job_failed":
        seq = channel_job_seq(record.subject_ref)
        if seq is not None:
            uow.channels.requeue_job(seq, now)
    elif record.reason == "wms_outbound_failed" and record.order_id is not None:
        uow.wms_outbound.requeue(record.order_id, now)
    elif record.reason == "erp_booking_failed" and record.order_id is not None:
        uow.back_office.requeue(record.order_id, now)
    uow.exceptions.log(HistoryRecord(None, record.id, now, by, "retried", None,
                                     {"reason": record.reason}))
    audit_trail.record(uow, clock, "exception.retry", subject_type="exception",
                       subject_id=record.id, order_id=record.order_id,
                       detail={"reason": record.reason, "subject_ref": record.subject_ref})


def _cancel_applies(record: ExceptionRecord) -> bool:
    return record.active and record.order_id is not None and record.kind != "unroutable_return"


def _check_cancel(params: Params) -> None:
    check_cancel_reason(params.get("reason", ""), params.get("note", ""))


def _cancel(uow: UnitOfWork, clock: Clock, record: ExceptionRecord, params: Params,
            by: str) -> None:
    """Cancel the order (services/cancellation.py): at once, or asked of its platform; an
    order that shipped, that the WMS has, or whose platform the hub cannot cancel at refuses
    the whole action with its reason. The order's exceptions resolve when it is cancelled."""
    assert record.order_id is not None
    cancel_in(uow, clock, CancelOrder(record.order_id, params.get("reason", ""),
                                      params.get("note", ""), by),
              params.get(PLATFORMS) or {})


def _retry_allocation_applies(record: ExceptionRecord) -> bool:
    return record.active and record.kind == "out_of_stock" and record.order_id is not None


def _retry_allocation(uow: UnitOfWork, clock: Clock, record: ExceptionRecord, params: Params,
                      by: str) -> None:
    """Allocate again (services/inventory/retry.py): an order that now fits is allocated and
    its stock hold released, which resolves the exception; one still short stays held."""
    assert record.order_id is not None
    retry_in(uow, record.order_id, clock)


ACTIONS: dict[str, BulkAction] = {}


def register(action: BulkAction) -> None:
    """Add (or replace) a bulk action; its code is what the API's ``action`` names."""
    ACTIONS[action.code] = action


for _built_in in (
        BulkAction("release", "释放挂起", "Release holds", _release_applies, _release,
                   _check_release),
        BulkAction("assign", "指派", "Assign", _active, _assign),
        BulkAction("resolve", "标记已解决", "Mark resolved", _active, _resolve),
        # Redriving dead letters is an administrator's (as on /console/system).
        BulkAction("retry_push", "重试推送", "Retry push", _retry_applies, _retry,
                   permission="dispatch.manage"),
        # Out-of-stock orders allocated again now (holds.release: as the order page's button).
        BulkAction("retry_allocation", "重试分配", "Retry allocation",
                   _retry_allocation_applies, _retry_allocation,
                   permission="holds.release"),
        # Cancelling orders (orders.cancel: as the order API's cancel).
        BulkAction("cancel", "取消订单", "Cancel orders", _cancel_applies, _cancel,
                   _check_cancel, permission="orders.cancel")):
    register(_built_in)


class Preview(NamedTuple):
    action: str
    exception_ids: list[str]
    order_ids: list[str]
    token: str

    @property
    def orders(self) -> int:
        return len(self.order_ids)

    @property
    def exceptions(self) -> int:
        return len(self.exception_ids)


class Applied(NamedTuple):
    preview: Preview
    changed: int


def _action(code: str) -> BulkAction:
    action = ACTIONS.get(code)
    if action is None:
        raise InvalidInput(f"action: {code!r} is not one of {', '.join(ACTIONS)}",
                           field="action", zh=f"action：{code!r} 不在可选操作中（"
                                              f"{', '.join(ACTIONS)}）")
    return action


def check_permission(action_code: str, role: str) -> None:
    """Refuse an action whose own permission the ROLE lacks (403)."""
    action = ACTIONS.get(action_code)
    if action is not None and action.permission and not allowed(role, action.permission):
        raise Forbidden(f"role {role} may not {action.permission}", field="action",
                        zh=f"角色 {role} 无权执行 {action.permission}")


def _selection(ids: Sequence[str]) -> list[str]:
    chosen = sorted(set(ids))
    if not chosen:
        raise InvalidInput("ids: select at least one exception", field="ids",
                           zh="ids：请至少选择一个异常")
    if len(chosen) > MAX_SELECTION:
        raise InvalidInput(f"ids: at most {MAX_SELECTION} exceptions at once", field="ids",
                           zh=f"ids：一次最多 {MAX_SELECTION} 个异常")
    return chosen


def _preview_in(uow: UnitOfWork, action: BulkAction, ids: list[str]) -> tuple[
        Preview, list[ExceptionRecord]]:
    records = [r for r in uow.exceptions.get_many(ids) if action.applies(r)]
    exception_ids = sorted(r.id for r in records)
    order_ids = sorted({r.order_id for r in records if r.order_id is not None})
    digest = hashlib.sha256("|".join([action.code, *exception_ids, "#", *order_ids])
                            .encode()).hexdigest()[:24]
    return Preview(action.code, exception_ids, order_ids, digest), records


def preview(uow_factory: UowFactory, action_code: str, ids: Sequence[str]) -> Preview:
    action, chosen = _action(action_code), _selection(ids)
    with uow_factory() as uow:
        return _preview_in(uow, action, chosen)[0]


def apply(uow_factory: UowFactory, clock: Clock, action_code: str, ids: Sequence[str],
          params: Params, by: str, *, confirm: int | None = None,
          token: str | None = None, platforms: Mapping[str, Any] | None = None) -> Applied:
    """Apply ACTION to what the preview showed; refused when the selection has changed."""
    action, chosen = _action(action_code), _selection(ids)
    action.check(params)
    params = {**params, PLATFORMS: platforms or {}}
    if confirm is None and not token:
        raise InvalidInput("confirm: preview first, then send confirm (the order count) or "
                           "the preview's token", field="confirm",
                           zh="confirm：请先预览，再以订单数（confirm）或预览令牌（token）确认")

    def attempt() -> Applied:
        with uow_factory() as uow:
            now_preview, records = _preview_in(uow, action, chosen)
            if (token and token != now_preview.token) or (
                    confirm is not None and confirm != now_preview.orders):
                raise Conflict(
                    f"the selection changed since the preview: it now touches "
                    f"{now_preview.orders} orders ({now_preview.exceptions} exceptions); "
                    f"preview again", code="selection_changed",
                    params={"orders": now_preview.orders,
                            "exceptions": now_preview.exceptions},
                    zh=f"预览后所选内容已变化：现在涉及 {now_preview.orders} 个订单"
                       f"（{now_preview.exceptions} 个异常），请重新预览")
            for record in records:
                action.run(uow, clock, record, params, by)
            return Applied(now_preview, len(records))
    return retrying(attempt)
