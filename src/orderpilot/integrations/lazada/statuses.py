"""Lazada's order-item statuses, what each means for the lifecycle, and the order's own status.

Lazada has no status of the order as a whole: each item (one row per unit) has its own
``status`` and an order lists the distinct ones in ``statuses``. The values are those of
GetOrders' ``status`` filter and its error 6 ("only these enumerations are currently supported:
unpaid, pending, packed, canceled, ready_to_ship, delivered, returned, shipped, failed, topack,
toship, lost, lost_by_3pl, damaged_by_3pl, failed_delivery, shipped_back, shipped_back_success,
shipped_back_failed, package_scrapped"; "shipping" is in the parameter's description):
https://open.lazada.com/apps/doc/api?path=%2Forders%2Fget .

A status outside that list (Seller Center shows others, e.g. a buyer's confirmation, that we
could not find in the API documents) is quarantined as unknown until it is added here.

The storefront reports payment, cancellation and returns; shipping and delivery statuses are
its view only (``system.status``): the WMS and the carrier move those lifecycle nodes.
"""

from __future__ import annotations

from orderpilot.adapters.channels.base import StatusRow

STATUS_ROWS: tuple[StatusRow, ...] = (
    StatusRow("unpaid", "system.status", "待付款", "Unpaid"),
    StatusRow("pending", "payment.succeeded", "待处理（已付款或货到付款）", "Pending (to process)"),
    StatusRow("topack", "system.status", "待打包", "To pack"),
    StatusRow("packed", "system.status", "已打包", "Packed"),
    StatusRow("ready_to_ship", "system.status", "待发货", "Ready to ship"),
    StatusRow("toship", "system.status", "待揽收", "To ship"),
    StatusRow("shipping", "system.status", "配送中", "Shipping"),
    StatusRow("shipped", "system.status", "已发货", "Shipped"),
    StatusRow("delivered", "system.status", "已签收", "Delivered"),
    StatusRow("failed", "system.status", "配送失败", "Failed"),
    StatusRow("failed_delivery", "system.status", "派送失败", "Failed delivery"),
    StatusRow("lost", "system.status", "包裹丢失", "Lost"),
    StatusRow("lost_by_3pl", "system.status", "物流商丢件", "Lost by 3PL"),
    StatusRow("damaged_by_3pl", "system.status", "物流商损坏", "Damaged by 3PL"),
    StatusRow("shipped_back", "system.status", "退回卖家中", "Shipped back"),
    StatusRow("shipped_back_success", "system.status", "已退回卖家", "Shipped back (received)"),
    StatusRow("shipped_back_failed", "system.status", "退回卖家失败", "Shipped back (failed)"),
    StatusRow("package_scrapped", "system.status", "包裹已报废", "Package scrapped"),
    # The reverse order arrives through the channel return intake (returns.py), which reports
    # return.requested with its return id; the item status is the storefront's view only.
    StatusRow("returned", "system.status", "已退货", "Returned"),
    StatusRow("canceled", "order.cancelled", "已取消", "Canceled"),
)
EVENT_OF = {row.status: row.event_type for row in STATUS_ROWS}
CANCELED = "canceled"
UNPAID = "unpaid"

# How far along an item is: an order is only as far as its least advanced live item.
_PROGRESS = {row.status: rank for rank, row in enumerate(STATUS_ROWS)}


def order_status(item_statuses: list[str]) -> str:
    """The order's status from its items': the least advanced item that is not cancelled, or
    ``canceled`` when every item is (a partial cancellation keeps the live items' status)."""
    live = [s for s in item_statuses if s != CANCELED]
    if not live:
        return CANCELED
    return min(live, key=lambda s: _PROGRESS[s])


def is_paid(item_statuses: list[str]) -> bool:
    """Paid (or accepted as cash on delivery): some item went past ``unpaid`` and was not
    simply cancelled. An order cancelled whole says nothing about payment: not counted."""
    return any(s not in (UNPAID, CANCELED) for s in item_statuses)
