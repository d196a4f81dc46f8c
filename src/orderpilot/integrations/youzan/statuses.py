"""Youzan's order statuses and refund states, and what each means for the order's lifecycle.

Main order statuses (``order_info.status``), as documented for youzan.trade.get 4.0 and
youzan.trades.sold.get 4.0.4 (see mapping.py for the sources): WAIT_BUYER_PAY, TRADE_PAID
(a passing state right after payment), WAIT_CONFIRM (paid, waiting for a group to form or the
shop to accept), WAIT_SELLER_SEND_GOODS, WAIT_BUYER_CONFIRM_GOODS (shipped), TRADE_SUCCESS,
TRADE_CLOSED. Shipping states are the storefront's view only ("system.status"): the WMS and
the carriers move those nodes.

Refund states (``order_info.refund_state``: 0 none, 1 partial refund in progress, 2 partial
refund done, 11 full refund in progress, 12 full refund done) are reported as the pseudo
statuses ``refund_state:N`` so they can stand in the same table. A refund in progress is the
storefront's view only: the request itself arrives as a return (维权, refunds.py) through the
channel return intake, which reports ``return.requested`` with its return id; reporting it
from the order as well would start a second, id-less return flow.
"""

from __future__ import annotations

from orderpilot.domain.channel_orders import StatusRow

SYSTEM = "system.status"

STATUSES: tuple[StatusRow, ...] = (
    StatusRow("WAIT_BUYER_PAY", SYSTEM, "待付款", "Waiting for the buyer to pay"),
    StatusRow("TRADE_PAID", "payment.succeeded", "已支付", "Paid"),
    StatusRow("WAIT_CONFIRM", SYSTEM, "待确认（待成团/待接单）",
              "Paid, waiting for the group or for the shop to accept"),
    StatusRow("WAIT_SELLER_SEND_GOODS", SYSTEM, "待发货", "Paid, waiting to be shipped"),
    StatusRow("WAIT_BUYER_CONFIRM_GOODS", SYSTEM, "已发货，待买家确认收货",
              "Shipped, waiting for the buyer to confirm receipt"),
    StatusRow("TRADE_SUCCESS", "order.completed", "交易成功", "Completed"),
    StatusRow("TRADE_CLOSED", "order.cancelled", "交易关闭", "Closed"),
    StatusRow("refund_state:1", SYSTEM, "部分退款中", "Partial refund in progress"),
    StatusRow("refund_state:2", "refund.succeeded", "部分退款成功", "Partially refunded"),
    StatusRow("refund_state:11", SYSTEM, "全额退款中", "Full refund in progress"),
    StatusRow("refund_state:12", "refund.succeeded", "全额退款成功", "Fully refunded"),
)
BY_STATUS = {row.status: row for row in STATUSES}
ORDER_STATUSES = tuple(row.status for row in STATUSES if not row.status.startswith("refund"))
PAID_STATUSES = frozenset({"TRADE_PAID", "WAIT_CONFIRM", "WAIT_SELLER_SEND_GOODS",
                           "WAIT_BUYER_CONFIRM_GOODS", "TRADE_SUCCESS"})
