"""A person cancels an order from the hub (the workbench's bulk "cancel", the order API).

Only an order that has not left the warehouse can be cancelled: after shipping it is a return.
The reason is a code from one short list (zh/en names below) with a note; "other" needs the
note. What the hub does with it, and what it asks of the platform and the warehouse, is
services/cancellation.py's.
"""

from __future__ import annotations

from orderpilot.domain import lifecycle
from orderpilot.domain.errors import Conflict
from orderpilot.domain.hold_release import check_listed_reason

# (code, zh, en), in the order the console offers them.
CANCEL_REASONS: tuple[tuple[str, str, str], ...] = (
    ("out_of_stock", "缺货无法发货", "Out of stock"),
    ("customer_request", "买家要求取消", "The buyer asked to cancel"),
    ("undeliverable", "地址无法配送", "Address cannot be delivered to"),
    ("customs_refused", "清关未通过", "Customs refused the parcel"),
    ("suspected_fraud", "疑似欺诈", "Suspected fraud"),
    ("other", "其他（请填写说明）", "Other (explain in the note)"),
)
CANCEL_REASON_CODES = tuple(code for code, _, _ in CANCEL_REASONS)
# The hold an order carries while its platform is asked to cancel it: nothing leaves the
# warehouse meanwhile, and the workbench shows it (domain/exceptions.py REASONS).
CANCEL_HOLD = "cancel_requested"


def reason_names(code: str) -> tuple[str, str]:
    return next(((zh, en) for c, zh, en in CANCEL_REASONS if c == code), (code, code))


def check_cancel_reason(reason: str, note: str) -> None:
    check_listed_reason(reason, note, CANCEL_REASON_CODES,
                        missing=("reason: say why the order is cancelled",
                                 "reason：请选择取消订单的原因"))


def check_cancellable(order_id: str, status: str) -> None:
    """Refuse an order that has shipped (or got further): a return is the way back."""
    node = lifecycle.NODE_BY_ID.get(status)
    if node is not None and lifecycle.can_move(status, "cancelled"):
        return
    zh_name = node.zh if node is not None else status
    en_name = node.en if node is not None else status
    raise Conflict(f"order {order_id} is {en_name} ({status}): only an order that has not "
                   f"shipped can be cancelled; after shipping, open a return",
                   code="order_not_cancellable", field="order_id",
                   params={"order_id": order_id, "status": status},
                   zh=f"订单 {order_id} 当前为{zh_name}：只有未发货的订单可以取消，已发货请走退货")
