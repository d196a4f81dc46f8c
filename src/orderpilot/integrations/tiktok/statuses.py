"""TikTok Shop order statuses (API 202309) and what each means for the order's lifecycle.

Order statuses, per Get Order List / Get Order Detail 202309
(https://partner.tiktokshop.com/docv2/page/get-order-list-202309,
https://partner.tiktokshop.com/docv2/page/get-order-detail-202309): UNPAID, ON_HOLD,
AWAITING_SHIPMENT, PARTIALLY_SHIPPING, AWAITING_COLLECTION, IN_TRANSIT, DELIVERED,
COMPLETED, CANCELLED. The order-status webhook spells the cancelled status ``CANCEL``
(https://partner.tiktokshop.com/docv2/page/1-order-status-change), so that spelling is in
the table too. Shipping and delivery are the storefront's view only: the WMS and the carrier
move those nodes of the hub's lifecycle.
"""

from __future__ import annotations

from orderpilot.adapters.channels.base import StatusRow

SYSTEM = "system.status"

STATUSES: tuple[StatusRow, ...] = (
    StatusRow("UNPAID", SYSTEM, "待付款", "Awaiting payment"),
    StatusRow("ON_HOLD", SYSTEM, "已付款，冷静期暂不可发货", "Paid, on hold (remorse period)"),
    StatusRow("AWAITING_SHIPMENT", SYSTEM, "待发货", "Awaiting shipment"),
    StatusRow("PARTIALLY_SHIPPING", SYSTEM, "部分发货", "Partially shipped"),
    StatusRow("AWAITING_COLLECTION", SYSTEM, "待揽收", "Awaiting collection"),
    StatusRow("IN_TRANSIT", SYSTEM, "运输中", "In transit"),
    StatusRow("DELIVERED", SYSTEM, "已送达", "Delivered"),
    StatusRow("COMPLETED", "order.completed", "已完成", "Completed"),
    StatusRow("CANCELLED", "order.cancelled", "已取消", "Cancelled"),
    StatusRow("CANCEL", "order.cancelled", "已取消（推送写法）", "Cancelled (webhook spelling)"),
)

EVENT_OF = {row.status: row.event_type for row in STATUSES}
# Statuses in which the buyer has paid (everything after UNPAID except a cancel before pay).
PAID = frozenset({"ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION",
                  "IN_TRANSIT", "DELIVERED", "COMPLETED"})
