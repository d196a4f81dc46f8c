"""The audit trail of human actions (issue 14): who did what, in which role, when, through which
door (API, console, CLI), to what, and how it looked before and after.

A person's action is recorded in the same transaction as the change it made; the trail is
append-only (no update, no delete: the database refuses both). Systems reporting what happened
(a WMS callback, a channel push, an API token scoped to a source) are not people and are not
recorded here: the trail is what feeds the manual-intervention rate (S12b)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

VIAS = ("api", "console", "cli")
VIA_NAMES = {"api": ("接口", "API"), "console": ("控制台", "Console"), "cli": ("命令行", "CLI")}
ACTOR_KINDS = ("user", "token", "cli")


@dataclass(frozen=True)
class Actor:
    """A person acting: a console user, a person's API token, an operator at the CLI."""

    name: str
    role: str
    kind: str  # user | token | cli
    via: str  # api | console | cli
    id: str = ""

    def __post_init__(self) -> None:
        if self.via not in VIAS:
            raise ValueError(f"via must be one of {VIAS}, not {self.via!r}")
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"kind must be one of {ACTOR_KINDS}, not {self.kind!r}")


class AuditEntry(NamedTuple):
    """One stored entry, in column order (adapters/tables_audit_log.py)."""

    seq: int | None
    at: datetime
    actor: str
    actor_id: str
    role: str
    actor_kind: str
    via: str
    action: str  # dotted code, e.g. hold.release, user.create, exception.assign, request
    subject_type: str  # order | hold | user | token | exception | return | rule | request ...
    subject_id: str
    order_id: str | None  # the order the action touched, when it touched one
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    detail: dict[str, Any] | None  # anything else: the route and status of a request, a note


# What each recorded action is called, (zh, en); a code not listed shows as the code.
ACTION_NAMES: dict[str, tuple[str, str]] = {
    "hold.place": ("挂起订单", "Hold placed"),
    "hold.release": ("解除挂起", "Hold released"),
    "order.bulk_release": ("批量解除挂起", "Bulk hold release"),
    "order.bulk_tag": ("批量打标签", "Bulk tag"),
    "order.cancel": ("取消订单", "Order cancelled"),
    "order.note": ("订单备注", "Order note"),
    "ticket.move": ("工单状态变更", "Ticket moved"),
    "return.create": ("人工登记退货", "Return taken by hand"),
    "return.approved": ("批准退货", "Return approved"),
    "return.rejected": ("拒绝退货", "Return rejected"),
    "return.pickup_booked": ("登记已预约取件", "Pickup booked"),
    "return.in_transit": ("登记退货在途", "Return in transit"),
    "return.received": ("登记退货签收", "Return received"),
    "return.inspected": ("退货质检", "Return inspected"),
    "return.refunded": ("登记退款", "Refund recorded"),
    "return.closed": ("关闭售后", "Return closed"),
    "return.route": ("人工决定退货路由", "Return route decided"),
    "returns.keywords": ("修改退货原因关键词", "Reason keywords changed"),
    "rule.create": ("创建规则", "Rule created"),
    "rule.draft_save": ("保存规则草稿", "Rule draft saved"),
    "rule.publish": ("发布规则", "Rule published"),
    "rule.rollback": ("回滚规则", "Rule rolled back"),
    "rule.status": ("启用或暂停规则", "Rule enabled or paused"),
    "user.create": ("创建用户", "User created"),
    "user.role_change": ("更改角色", "Role changed"),
    "user.password_reset": ("重置密码", "Password reset"),
    "user.password_change": ("修改本人密码", "Own password changed"),
    "user.disable": ("停用用户", "User deactivated"),
    "user.enable": ("重新启用用户", "User reactivated"),
    "session.end": ("结束登录会话", "Session ended"),
    "token.create": ("创建 API 令牌", "API token created"),
    "token.revoke": ("吊销 API 令牌", "API token revoked"),
    "return_centre.put": ("保存退货中心", "Return centre saved"),
    "return_policy.replace": ("更新退货政策", "Return policy replaced"),
    "channel_account.put": ("保存渠道账号", "Channel account saved"),
    "channel_account.delete": ("删除渠道账号", "Channel account deleted"),
    "expectation.publish": ("发布时效预期", "Expectation published"),
    "expectation.disable": ("停用时效预期", "Expectation disabled"),
    "decision_table.publish": ("发布决策表", "Decision table published"),
    "inventory_source.put": ("保存库存来源", "Stock source saved"),
    "inventory_strategy.put": ("保存分配策略", "Allocation strategy saved"),
    "inventory.levels": ("人工录入库存", "Stock levels entered by hand"),
    "promotion.create": ("创建促销", "Promotion created"),
    "promotion.start": ("开始促销", "Promotion started"),
    "promotion.end": ("结束促销", "Promotion ended"),
    "reconciliation.fix": ("修复对账差异", "Discrepancy fixed"),
    "reconciliation.accept": ("接受对账差异", "Discrepancy accepted"),
    "reconciliation.auto_fix": ("设置自动修复类别", "Automatic fixes chosen"),
    "request": ("其他更改（按请求记录）", "Other change (the request)"),
}
SUBJECT_NAMES: dict[str, tuple[str, str]] = {
    "order": ("订单", "Order"), "hold": ("挂起", "Hold"), "return": ("退货单", "Return"),
    "return_keywords": ("退货原因关键词", "Reason keywords"), "rule": ("规则", "Rule"),
    "ticket": ("工单", "Ticket"), "user": ("用户", "User"), "token": ("API 令牌", "API token"),
    "return_centre": ("退货中心", "Return centre"), "return_policy": ("退货政策", "Return policy"),
    "channel_account": ("渠道账号", "Channel account"), "expectation": ("时效预期", "Expectation"),
    "decision_table": ("决策表", "Decision table"), "inventory": ("库存", "Stock"),
    "inventory_source": ("库存来源", "Stock source"),
    "inventory_strategy": ("分配策略", "Allocation strategy"),
    "promotion": ("促销", "Promotion"), "discrepancy": ("对账差异", "Discrepancy"),
    "reconciliation_setting": ("对账设置", "Reconciliation setting"),
    "request": ("请求", "Request"),
}


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None
            ) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field that differs, in the order the entry names them;
    a field only one side has shows None on the other."""
    old, new = before or {}, after or {}
    return [(key, old.get(key), new.get(key)) for key in dict.fromkeys([*old, *new])
            if old.get(key) != new.get(key)]
