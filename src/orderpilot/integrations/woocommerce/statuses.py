"""WooCommerce order statuses and what each means for the hub's lifecycle.

Statuses: pending, processing, on-hold, completed, cancelled, refunded, failed, trash
(woocommerce-rest-api-docs source/includes/wp-api-v3/_orders.md, "status") and checkout-draft
(block checkout drafts: plugins/woocommerce/src/Enums/OrderStatus.php, CHECKOUT_DRAFT).
"processing" means "payment received, stock reduced, awaiting fulfilment"; "on-hold" awaits a
payment confirmation; "failed" is a declined payment; "completed" is fulfilled (the WooCommerce
"Managing orders" status list, as quoted by
https://support.peachpayments.com/support/solutions/articles/47001098741 and
https://www.godaddy.com/help/what-are-woocommerce-order-statuses-40609; the woocommerce.com
page itself was not in reach). Shipping is not a WooCommerce core status: the WMS and the
carrier report those nodes.
"""

from __future__ import annotations

from orderpilot.adapters.channels.base import StatusRow

STATUSES: tuple[StatusRow, ...] = (
    StatusRow("pending", "system.status", "待付款", "Pending payment"),
    StatusRow("processing", "payment.succeeded", "已付款，待处理", "Processing (paid)"),
    StatusRow("on-hold", "system.status", "保留（待确认付款）", "On hold (awaiting payment)"),
    StatusRow("completed", "order.completed", "已完成", "Completed"),
    StatusRow("cancelled", "order.cancelled", "已取消", "Cancelled"),
    StatusRow("refunded", "refund.succeeded", "已退款", "Refunded"),
    StatusRow("failed", "system.status", "付款失败", "Failed (payment failed)"),
    StatusRow("trash", "system.status", "已移入回收站", "Trash"),
    StatusRow("checkout-draft", "system.status", "结账草稿", "Checkout draft"),
)
EVENT_OF = {row.status: row.event_type for row in STATUSES}
# Statuses an order only reaches once paid (WooCommerce sets date_paid on the way).
PAID = frozenset({"processing", "completed", "refunded"})
