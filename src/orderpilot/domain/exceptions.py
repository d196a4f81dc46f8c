"""The exception workbench's one taxonomy (issue 14): every exception has a kind, a reason code
with its zh/en names, an owner role, an SLA, a status and a subject it stands for.

Lifecycle: ``open`` -> ``decision_required`` (the playbook window passed and no rule resolved it)
-> ``resolved`` (with a resolution code and who). An exception is unique per (kind, subject ref):
the hold id, the outbound order id, the quarantine seq, the dead letter's event id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from orderpilot.domain.expectations import HOLD_PREFIX as EXPECTATION_HOLD
from orderpilot.domain.return_routing import HOLD_REASON as RETURN_DECISION

KINDS: dict[str, tuple[str, str]] = {
    "hold": ("挂起", "Hold"),
    "out_of_stock": ("缺货", "Out of stock"),
    "expectation_breach": ("预期未达成", "Expectation breach"),
    "failed_push": ("推送失败", "Failed push"),
    "unroutable_return": ("退货无法路由", "Unroutable return"),
    "quarantined_payload": ("隔离的报文", "Quarantined payload"),
    "dead_letter": ("死信", "Dead letter"),
}
STATUSES: dict[str, tuple[str, str]] = {
    "open": ("待处理", "Open"),
    "decision_required": ("需人工决策", "Decision required"),
    "resolved": ("已解决", "Resolved"),
}
ACTIVE = ("open", "decision_required")
OWNERS = ("ops", "warehouse", "finance", "admin")
# After an exception opens, rules on exception.opened have this long to resolve it; then the
# playbook timer marks what is left "decision required".
PLAYBOOK_WINDOW = timedelta(minutes=10)
PLAYBOOK_TIMER = "exception.playbook"
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str
    kind: str
    owner: str
    sla_minutes: int


# One table: every reason, its names, the kind it belongs to, who owns it and its SLA. Hold
# reasons map 1:1 to the hold codes (the console's hold reason names, entrypoints/console/i18n).
REASONS: dict[str, Reason] = {r.code: r for r in (
    Reason("address_incomplete", "地址不完整", "Address incomplete", "hold", "ops", 120),
    Reason("address_unverified", "地址待核实", "Address unverified", "hold", "ops", 120),
    Reason("qualification_pending", "资质待核验", "Qualification pending", "hold", "ops", 240),
    Reason("customs_check", "海关核验", "Customs check", "hold", "ops", 240),
    Reason("payment_review", "付款审核中", "Payment under review", "hold", "finance", 240),
    Reason("price_error", "价格错误", "Price error", "hold", "ops", 60),
    Reason("suspected_fraud", "疑似欺诈", "Suspected fraud", "hold", "ops", 60),
    Reason("high_value_review", "大额订单审核", "Large order under review", "hold", "ops", 240),
    Reason("customer_request", "客户要求暂缓", "Customer asked to wait", "hold", "ops", 1440),
    Reason("other_hold", "其他挂起", "Other hold", "hold", "ops", 240),
    Reason("cancel_requested", "取消处理中（等待平台确认）", "Cancellation asked of the platform",
           "hold", "ops", 60),
    Reason("out_of_stock", "缺货", "Stock shortage", "out_of_stock", "warehouse", 480),
    Reason("expectation_breach", "预期未达成", "Expectation breached", "expectation_breach",
           "ops", 120),
    Reason("return_decision_required", "退货需决定去向", "Return needs a decision",
           "unroutable_return", "ops", 480),
    Reason("wms_outbound_failed", "WMS 出库单推送失败", "WMS outbound push gave up",
           "failed_push", "warehouse", 60),
    Reason("erp_booking_failed", "ERP 记账失败", "ERP booking gave up", "failed_push",
           "finance", 240),
    Reason("channel_job_failed", "渠道任务失败", "Channel job gave up", "failed_push", "ops",
           120),
    Reason("quarantined_payload", "报文已隔离", "Payload quarantined", "quarantined_payload",
           "admin", 240),
    Reason("dead_letter", "事件投递失败（死信）", "Event delivery failed (dead letter)",
           "dead_letter", "admin", 240),
)}
# Why an exception was marked "decision required" (the playbook could not automate it).
DECISION_REASONS: dict[str, tuple[str, str]] = {
    "no_rule": ("没有规则处理此原因", "No rule handles this reason"),
    "rule_failed": ("规则已运行但失败", "A rule ran and failed"),
    "rule_left_open": ("规则已运行但异常仍未解决", "A rule ran but the exception is still open"),
}
# How an exception was resolved.
RESOLUTIONS: dict[str, tuple[str, str]] = {
    "released": ("已释放挂起", "Hold released"),
    "by_hand": ("人工处理", "Resolved by hand"),
    "source_gone": ("来源已消失", "Source no longer there"),
    "retried": ("已重试", "Retried"),
    "cancelled": ("订单已取消", "Order cancelled"),
}
# The changes the history records.
CHANGES: dict[str, tuple[str, str]] = {
    "opened": ("开启", "Opened"),
    "assigned": ("指派", "Assigned"),
    "commented": ("评论", "Commented"),
    "status": ("状态变更", "Status changed"),
    "resolved": ("解决", "Resolved"),
    "retried": ("重试", "Retried"),
}
STOCK_HOLDS = ("out_of_stock", "stock_shortage")
CHANNEL_JOB = "channel_job:"  # a dead channel job's subject ref: the prefix and its seq


def channel_job_seq(subject_ref: str) -> int | None:
    """The channel job a ``channel_job_failed`` exception stands for."""
    rest = subject_ref.removeprefix(CHANNEL_JOB)
    return int(rest) if rest != subject_ref and rest.isdigit() else None


def reason_of(code: str) -> Reason:
    """The reason's row; an unknown code (a rule may hold with any code) is an "other" hold."""
    known = REASONS.get(code)
    if known is not None:
        return known
    other = REASONS["other_hold"]
    return Reason(code, other.zh, other.en, "hold", other.owner, other.sla_minutes)


def classify_hold(hold_reason: str) -> Reason:
    """A hold's exception reason: stock holds are out_of_stock, ``expectation:{code}`` holds
    expectation breaches, the return-routing hold an unroutable return; the rest 1:1."""
    if hold_reason in STOCK_HOLDS:
        return REASONS["out_of_stock"]
    if hold_reason.startswith(EXPECTATION_HOLD):
        return REASONS["expectation_breach"]
    if hold_reason == RETURN_DECISION:
        return REASONS["return_decision_required"]
    return reason_of(hold_reason)


def due_at(reason: Reason, opened_at: datetime) -> datetime:
    return opened_at + timedelta(minutes=reason.sla_minutes)


class ExceptionRecord(NamedTuple):
    """One stored exception, in column order (adapters/tables_exceptions.py)."""

    id: str
    kind: str
    reason: str
    subject_ref: str
    order_id: str | None
    owner_role: str
    status: str
    decision_reason: str
    assignee: str
    opened_at: datetime
    due_at: datetime
    resolved_at: datetime | None
    resolution: str
    resolved_by: str
    detail: dict[str, Any] | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def overdue(self, now: datetime) -> bool:
        return self.active and now > self.due_at


class CommentRecord(NamedTuple):
    seq: int | None
    exception_id: str
    at: datetime
    author: str
    text: str


class HistoryRecord(NamedTuple):
    """One change: opened, assigned, commented, status, resolved; append-only."""

    seq: int | None
    exception_id: str
    at: datetime
    who: str
    change: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
